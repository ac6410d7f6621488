"""`coordinator doctor`: checks a home's files, lock, configuration and channels, and says what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import typer

from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_SPACE = 100 * 1024 * 1024
"""Bytes free on the home's device below which doctor warns."""


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, how it stands, and what to do about it."""

    name: str
    status: str
    detail: str
    advice: str = ""


def doctor(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Check the home: its directory, configuration and channels, the writer lock (and the running service's
    API), the event store and read models (`PRAGMA integrity_check`), free space, quarantine and dead letters.
    Says what to do about each problem; exits 1 when a check fails.

    Example: `coordinator doctor --home ~/.coordinator`
    """
    from adapters.home_files import home_path
    from cli.render import print_json, show, table

    checks = examine(home_path(home))
    if json_output:
        print_json([asdict(check) for check in checks])
    else:
        show(table("Doctor", ["check", "status", "detail", "what to do"],
                   [(c.name, c.status.upper(), c.detail, c.advice) for c in checks]))
    if any(check.status == FAIL for check in checks):
        raise typer.Exit(EXIT_NOT_FOUND)


def examine(home: Path) -> list[Check]:
    """Every check of the home at `home`, in order (later ones are skipped when the home is missing)."""
    if not home.is_dir():
        what = "is a file" if home.exists() else "does not exist"
        return [Check("home", FAIL, f"{home} {what}", "run `coordinator run` to create a home, or pass --home")]
    found = [_writable(home)]
    found += _configuration(home)
    found.append(_lock(home))
    found += _stores(home)
    found.append(_space(home))
    return found


def _writable(home: Path) -> Check:
    """Whether this user may write the home (its lock, its files, and the journals SQLite writes beside them)."""
    import os

    if os.access(home, os.W_OK | os.X_OK):
        return Check("home", OK, str(home.resolve()))
    return Check("home", FAIL, f"{home.resolve()}: this user may not write it (read-only or permission denied)",
                 DENIED_ADVICE)


DENIED_ADVICE = "run the command as a user who may write the home, or fix the permissions of the home and its files"


def _configuration(home: Path) -> list[Check]:
    from cli.channels_setup import build_router
    from cli.settings import ConfigError, load_settings

    try:
        settings = load_settings(home)
    except ConfigError as error:
        return [Check("configuration", FAIL, str(error), "fix the key named, then run doctor again")]
    found = [Check("configuration", OK, str(settings.config_path) if settings.config_path.exists() else "defaults")]
    try:
        router = build_router(settings)
    except (ValueError, OSError) as error:
        return [*found, Check("channels", FAIL, str(error), "fix default_channel, [[routes]] or [channels.*]")]
    found.append(Check("channels", OK, f"{', '.join(sorted(router.channels))}; default {router.default}"))
    return found


def _lock(home: Path) -> Check:
    from adapters.home_lock import holder

    held = holder(home)
    if held is None:
        return Check("writer", OK, "no coordinator is writing to the home")
    who = f"{held.get('command', 'a coordinator')} (pid {held.get('pid')}, since {held.get('started_at', '?')})"
    url = held.get("http")
    if held.get("command") != "run" or not url:
        return Check("writer", OK, f"held by {who}")
    import httpx

    try:
        httpx.get(f"{url}/healthz", timeout=5).raise_for_status()
    except httpx.HTTPError as error:
        return Check("writer", WARN, f"held by {who}; its API at {url} does not answer ({error})",
                     "see <home>/coordinator.log; `coordinator stop`, then `coordinator start`")
    return Check("writer", OK, f"held by {who}; API at {url} answers")


def _postgres(home: Path, url: str) -> list[Check]:
    """The PostgreSQL store's checks: it can be reached, and who holds its writer lease."""
    import psycopg

    from adapters.postgres_open import reachable
    from adapters.store_url import redacted
    from cli.reading import event_store

    where = redacted(url)
    try:
        reachable(url)
    except psycopg.Error as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return [Check("event store", FAIL, f"{where} cannot be reached: {reason}",
                      "check that the server runs and the `store` URL (user, password, host, port, database)")]
    with event_store(home) as store:
        writer = store.writer()
        events = store.max_notification_id() or 0
    return [Check("event store", OK, f"{where}: {events:,} events"),
            Check("store writer", OK, f"lease held by {writer}" if writer else "nobody holds the writer lease")]


def _server_views(home: Path, url: str) -> Check:
    """The read models on the PostgreSQL server: how far behind the events the slowest is."""
    import sqlite3

    from adapters.postgres_views import PostgresViews
    from adapters.store_url import redacted
    from cli.reading import event_store

    with event_store(home) as store:
        views = PostgresViews(url, store, create=False)
        try:
            head = store.max_notification_id() or 0
            positions = [int(row[0]) for row in views.execute("SELECT position FROM projection_positions")]
        except sqlite3.OperationalError:
            positions = []
        finally:
            views.close()
    where = f"{redacted(url)} (schema {views.schema})"
    if not positions:
        return Check("read models", WARN, f"{where}: not built yet", "run any query, or `coordinator project`")
    lag = max(head - min(positions), 0)
    return Check("read models", OK if lag == 0 else WARN, f"{where}: {lag:,} event(s) behind",
                 *(() if lag == 0 else ("a running service or `coordinator project` keeps them current",)))


def _stores(home: Path) -> list[Check]:
    from adapters.home_files import EVENTS_FILE, VIEWS_FILE
    from cli.reading import configured_store
    from cli.storage import damage, denied

    events, views = home / EVENTS_FILE, home / VIEWS_FILE
    url = configured_store(home)
    if url is not None:
        found = _postgres(home, url)
        if found[0].status == FAIL:
            return found
        return [*found, _server_views(home, url), *_letters(home)]
    if not events.is_file():
        return [Check("event store", WARN, f"{events} does not exist yet", "run `coordinator run` to create it")]
    for path, name in ((events, "event store"), (views, "read models")):
        if (refused := denied(path)) is not None:
            return [Check(name, FAIL, f"{path}: cannot be opened by this user ({refused})", DENIED_ADVICE)]
    if (problem := damage(events, thorough=True)) is not None:
        return [Check("event store", FAIL, f"{events}: {problem}", "restore the file from a backup")]
    found = [Check("event store", OK, f"{events}: integrity ok")]
    problem = damage(views, thorough=True)
    found.append(Check("read models", OK, f"{views}: integrity ok") if problem is None else
                 Check("read models", FAIL, f"{views}: {problem}", "run `coordinator projections rebuild`"))
    return found + _letters(home)


def _letters(home: Path) -> list[Check]:
    """Dead letters and quarantined input."""
    from cli.reading import event_store

    with event_store(home) as store:
        dead = store.notification_counts()["dead"]
        quarantined = store.quarantine_count()
    found = [Check("notifications", WARN, f"{dead} dead letter(s)", "see `coordinator notifications --status "
                       "dead`; `coordinator notifications retry --dead` once the channel works") if dead else
                 Check("notifications", OK, "no dead letters")]
    found.append(Check("quarantine", WARN, f"{quarantined} item(s) refused", "see `coordinator quarantine`")
                 if quarantined else Check("quarantine", OK, "nothing refused"))
    return found


def _space(home: Path) -> Check:
    import shutil

    free = shutil.disk_usage(home).free
    detail = f"{free / 1024 / 1024:,.0f} MB free"
    if free < LOW_SPACE:
        return Check("disk", WARN, detail, "free some space: writes stop when the device is full")
    return Check("disk", OK, detail)
