"""Queries answer from the read models, loading no more than the question needs.

A query opens the home's event store and read models read-only with the standard library. Only when the read
models it needs are behind the event store (or at another schema version than this code writes) is the whole
application loaded, once, to bring them up to date; then the query reads as before. So the commands people run
most start about as fast as Python itself.

With the events on a PostgreSQL server (`store` in the settings), the read models are kept on that server too, in a
schema of their own (`adapters.postgres_views`), and everything is read from there: any machine with the URL reads
the same read models.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.home_files import EVENTS_FILE, VIEWS_FILE, home_path
from adapters.store_reader import SQLiteReader, StoreReader
from app.records import Record
from cli.options import EXIT_NOT_FOUND, EXIT_USAGE, fail
from projections import versions

STATUS, METRICS, HISTORY, CRISIS = "status", "metrics", "history", "crisis"
VERSIONS = {STATUS: versions.STATUS, METRICS: versions.METRICS, HISTORY: versions.HISTORY, CRISIS: versions.CRISIS}
"""Every read model by name, at the schema version this code writes."""


@dataclass
class ReadSide:
    """A home's read models and event store, open read-only; `conn` and `execute` are the read models', as
    every query function in `projections` expects, and `events` is where their details are read from."""

    home: Path
    conn: Any
    """The read models' connection: the home's views file, or the PostgreSQL server's (`PostgresViews`)."""
    store: StoreReader

    @property
    def events(self) -> ReadSide:
        return self

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run one statement on the read models."""
        return self.conn.execute(sql, parameters)

    def max_notification_id(self) -> int | None:
        """The position of the newest event."""
        return self.store.max_notification_id()

    def lag(self) -> int:
        """Events recorded but not yet applied by the slowest read model."""
        head = self.store.max_notification_id() or 0
        try:
            rows = self.conn.execute("SELECT MIN(position) FROM projection_positions").fetchall()
        except sqlite3.OperationalError:
            return head
        return max(head - int(rows[0][0] or 0), 0)

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` events after position `after`, oldest first."""
        return self.store.select_records(after, limit)


def configured_store(home: Path) -> str | None:
    """The PostgreSQL store the settings name (`COORDINATOR_STORE`, else `store` in the home's coordinator.toml),
    or None for the home's SQLite file; read without loading the settings, which a query does not otherwise need."""
    from adapters import store_url

    try:
        return store_url.configured(home)
    except ValueError:
        return _settings_store(home)  # exits naming the setting and what is wrong with it


def _settings_store(home: Path) -> str | None:
    from cli.options import settings_for

    return settings_for(home).store


def existing_home(home: Path | None) -> Path:
    """The home a query reads: exit 1 when there is none (queries never create one), 2 when it is not a directory.
    A home whose events are on a PostgreSQL server need hold nothing yet: its read models are built on first use."""
    path = home_path(home)
    if path.exists() and not path.is_dir():
        raise fail(f"--home {path} is a file, not a coordinator home directory", EXIT_USAGE)
    if not (path / EVENTS_FILE).is_file() and configured_store(path) is None:
        raise fail(f"no coordinator home at {path} (run `coordinator run` first)", EXIT_NOT_FOUND)
    return path


@contextmanager
def reading(home: Path | None, needs: Collection[str] = tuple(VERSIONS)) -> Iterator[ReadSide]:
    """The home's read models, up to date in the projections named by `needs` (none: as they stand)."""
    from cli.storage import guarded

    path = existing_home(home)
    with guarded(path), _store(path) as store:
        url = configured_store(path)
        views = _views(path, url, store)
        try:
            if needs and not _current(views, store, needs):
                views.close()
                _catch_up(home)
                views = _views(path, url, store)
            yield ReadSide(path, views, store)
        finally:
            views.close()


def _views(home: Path, url: str | None, store: StoreReader) -> Any:
    """The read models, read-only: the home's views file (an empty database when there is none yet), or the
    schema of the PostgreSQL server `url` names."""
    if url is None:
        return _read_only(home / VIEWS_FILE) if (home / VIEWS_FILE).is_file() else sqlite3.connect(":memory:")
    from adapters.postgres_views import PostgresViews

    return PostgresViews(url, store, create=False)


@contextmanager
def event_store(home: Path | None) -> Iterator[StoreReader]:
    """The home's event store (with its ledger and outbox), open read-only."""
    from cli.storage import guarded

    path = existing_home(home)
    with guarded(path), _store(path) as store:
        yield store


@contextmanager
def _store(home: Path) -> Iterator[StoreReader]:
    """The configured event store, read-only: the home's SQLite file, or the PostgreSQL server's recorder."""
    url = configured_store(home)
    if url is None:
        reader = SQLiteReader(_read_only(home / EVENTS_FILE), home)
        try:
            yield reader
        finally:
            reader.close()
        return
    from adapters import postgres_open

    source = postgres_open.EventSource(url)
    try:
        yield source.recorder
    finally:
        source.application.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True, timeout=30.0)


def _current(views: Any, store: StoreReader, needs: Collection[str]) -> bool:
    """Whether each needed read model is at this code's schema version and has applied every recorded event."""
    try:
        head = store.max_notification_id() or 0
        stored = {name: (version, position) for name, version, position in
                  views.execute("SELECT name, version, position FROM projection_positions").fetchall()}
    except sqlite3.Error:
        return False
    return all(stored.get(name) == (VERSIONS[name], head) for name in needs)


def _catch_up(home: Path | None) -> None:
    """Load the application and bring every read model up to date (a progress bar when there is much to do)."""
    from cli.bootstrap import services
    from cli.options import settings_for
    from cli.views import catch_up

    with services(settings_for(home)) as built:
        catch_up(built.views)
