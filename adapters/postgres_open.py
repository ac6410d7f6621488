"""Opening a PostgreSQL store: the server is reached first, so one out of reach is said at once; tables that exist
are left alone; and a process that only builds read models opens it for reading (`EventSource`)."""

from __future__ import annotations

from adapters import store_url
from adapters.postgres_store import EVENTS_TABLE, PostgresStore, environment
from app.records import Record


def reachable(url: str) -> bool:
    """Connect once to the server `url` names, so one that cannot be reached fails at once with its reason (the
    pool would only say, after its timeout, that it got no connection); whether the store's tables exist (when they
    do not, their schema is made ready for them)."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    schema = store_url.schema_of(url)
    with psycopg.connect(store_url.connectable(url), connect_timeout=10, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".{EVENTS_TABLE}',)).fetchone()
        if not (row and row[0]):
            conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))
    return bool(row and row[0])


def probed_environment(url: str) -> dict[str, str]:
    """`environment(url)` for opening the store: the server is reached first (see `reachable`), and tables that
    exist are left alone (creating them, even "if not exists", takes locks others wait on, and needs rights a role
    that may only read and write rows lacks)."""
    env = environment(url)
    if reachable(url):
        env["CREATE_TABLE"] = "no"
    return env


class EventSource:
    """The PostgreSQL store at `url` opened for reading, by a process that builds read models."""

    def __init__(self, url: str) -> None:
        from app.coordinator import Coordinator

        self.application = Coordinator(env=probed_environment(url))
        recorder = self.application.recorder
        assert isinstance(recorder, PostgresStore)
        self.recorder = recorder

    def max_notification_id(self) -> int | None:
        """The position of the newest event."""
        found: int | None = self.recorder.max_notification_id()
        return found

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` events after position `after`, oldest first."""
        return self.recorder.select_records(after, limit)
