"""Where the events are kept: the SQLite home (the default) or a PostgreSQL server named by a URL.

Parsing a URL needs no database driver, so settings and commands can check it without importing psycopg.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = ("postgresql", "postgres")
"""How a store URL names PostgreSQL."""
FORM = "postgresql://user:password@host:port/database"


def is_postgres(store: str | None) -> bool:
    """Whether a configured store names a PostgreSQL server (rather than the SQLite home)."""
    return bool(store) and urlsplit(str(store)).scheme in SCHEMES


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
    unknown = set(parse_qs(parts.query)) - {"schema"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r} (only ?schema=NAME is understood)")
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


def redacted(url: str) -> str:
    """`url` with its password hidden, fit to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
