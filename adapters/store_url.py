"""Where the events are kept: the SQLite home (the default) or a PostgreSQL server named by a URL.

Parsing a URL needs no database driver, so settings and commands can check it without importing psycopg.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

SCHEMES = ("postgresql", "postgres")
"""How a store URL names PostgreSQL."""
FORM = "postgresql://user:password@host:port/database"
SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A schema name the store takes (`?schema=NAME`): one PostgreSQL keeps as written, without quoting."""


def check(url: str) -> str:
    """`url` if it names a PostgreSQL database (ValueError saying what is missing otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a PostgreSQL URL ({FORM}); leave the store unset for the SQLite home")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError(f"the port is not a number ({FORM})") from None
    if not parts.hostname:
        raise ValueError(f"no host ({FORM})")
    if not parts.path.strip("/"):
        raise ValueError(f"no database name ({FORM})")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(options) - {"schema"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r} (only ?schema=NAME is understood; libpq's own "
                         "settings, such as TLS, go in its environment variables: PGSSLMODE, PGSSLROOTCERT...)")
    for schema in options.get("schema", []):
        if not SCHEMA.fullmatch(schema):
            raise ValueError(f"schema {schema!r}: a schema name here is lower-case letters, digits and _, starting "
                             "with a letter or _, at most 63 characters")
    return url


def connection_settings(url: str) -> dict[str, str]:
    """The parts of `url` eventsourcing's PostgreSQL persistence is configured with."""
    parts = urlsplit(check(url))
    found = {
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_HOST": parts.hostname or "",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    schema = parse_qs(parts.query).get("schema")
    if schema:
        found["POSTGRES_SCHEMA"] = schema[0]
    return found


def for_hive(url: str, hive: str) -> str:
    """The store of `hive` on the server `url` names: its tables in a schema of their own (`hive_schema`; the
    default hive keeps `url`'s own). ValueError when that schema's name would be too long."""
    from adapters.home_files import DEFAULT_HIVE

    if hive == DEFAULT_HIVE:
        return url
    parts = urlsplit(check(url))
    schema = hive_schema(schema_of(url), hive)
    if not SCHEMA.fullmatch(schema):
        raise ValueError(f"hive {hive!r}: its schema {schema!r} is longer than PostgreSQL's 63 characters; "
                         "choose a shorter name")
    options = [(key, value) for key, values in parse_qs(parts.query).items() if key != "schema" for value in values]
    return parts._replace(query=urlencode([*options, ("schema", schema)])).geturl()


def hive_schema(base: str, hive: str) -> str:
    """The schema of `hive` beside the store whose schema is `base`."""
    return f"hive_{hive}" if base == "public" else f"{base}_hive_{hive}"


def schema_of(url: str) -> str:
    """The schema the store at `url` keeps its tables in."""
    return connection_settings(url).get("POSTGRES_SCHEMA") or "public"


def connectable(url: str) -> str:
    """`url` as libpq takes it: without the options only the coordinator understands (`schema`)."""
    parts = urlsplit(url)
    return parts._replace(query="").geturl() if parts.query else url


def redacted(url: str) -> str:
    """`url` with its password hidden, fit to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


VARIABLE = "COORDINATOR_STORE"


def configured(home: Path) -> str | None:
    """The store the settings of `home` name, read without loading them: `COORDINATOR_STORE`, else `store` in the
    home's coordinator.toml; None for the home's SQLite file. For a hive's directory, that hive's store on the
    home's server (`for_hive`). ValueError when what is named is not a usable URL, or the file cannot be read (the
    settings say more)."""
    from adapters.home_files import hive_of

    located = hive_of(home)
    if located is not None:
        base, hive = located
        found = configured(base)
        return None if found is None else for_hive(found, hive)
    named = os.environ.get(VARIABLE)
    if named is None:
        config = home / "coordinator.toml"
        if not config.is_file():
            return None
        import tomllib

        try:
            named = tomllib.loads(config.read_text(encoding="utf-8")).get("store")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"{config}: {error}") from None
        if named is None:
            return None
        if not isinstance(named, str):
            raise ValueError(f"{config}: store: not a text")
    return check(named.strip()) if named.strip() else None


def hive_stores(home: Path) -> dict[str, str]:
    """The store of every hive of `home` (or of the home whose hive's directory `home` is), by name, default first:
    read without loading the settings, like `configured` (empty for a home without hives or store; ValueError as
    `configured` raises it)."""
    from adapters.home_files import DEFAULT_HIVE, base_home

    base = base_home(home)
    url = configured(base)
    config = base / "coordinator.toml"
    if url is None or not config.is_file():
        return {}
    import tomllib

    try:
        hives = tomllib.loads(config.read_text(encoding="utf-8")).get("hives")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{config}: {error}") from None
    if not isinstance(hives, dict) or not hives:
        return {}
    return {DEFAULT_HIVE: url, **{name: for_hive(url, name) for name in sorted(hives) if name != DEFAULT_HIVE}}
