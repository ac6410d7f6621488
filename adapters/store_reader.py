"""What a query reads from the event store itself (beside the read models), from either store.

The SQLite home is read with the standard library's read-only connection, so a query starts about as fast as
Python itself; the PostgreSQL store answers the same questions through its recorder (`PostgresStore`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from adapters import event_log, outbox_table, quarantine_table
from app.records import Record


class StoreReader(Protocol):
    """The event log, the outbox and the quarantine, read-only."""

    def max_notification_id(self) -> int | None:
        """The position of the newest event (None when there is none)."""
        ...

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` events after position `after`, oldest first."""
        ...

    def recent_events(self, limit: int, topics: Collection[str] | None = None) -> list[Record]:
        """The newest `limit` events (only those with one of `topics`, if given), newest first."""
        ...

    def topics(self) -> list[str]:
        """Every event topic recorded so far."""
        ...

    def records_at(self, positions: Collection[int]) -> list[Record]:
        """The events at these positions (those recorded), oldest first."""
        ...

    def records_of(self, originator_id: str) -> list[Record]:
        """Every event of one aggregate (its id as 32 hex digits), oldest first."""
        ...

    def first_record(self, originator_id: str) -> tuple[str, bytes] | None:
        """(topic, state) of an aggregate's first event (its registration), if recorded."""
        ...

    def attempt_positions(self, keys: Sequence[str]) -> list[int]:
        """Where in the event log the attempts to deliver the notifications `keys` are recorded, in log order."""
        ...

    def notifications(self, status: str | None = None, limit: int | None = None, after: int = 0
                      ) -> list[dict[str, Any]]:
        """Notifications, newest first."""
        ...

    def notification_counts(self) -> dict[str, int]:
        """How many notifications are pending, delivered, failed and dead."""
        ...

    def quarantine_count(self) -> int:
        """How many items are in quarantine."""
        ...

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined item, oldest first."""
        ...

    def writer(self) -> str | None:
        """Who writes to the store now, as people read it (None when nobody does)."""
        ...

    def hives(self, stores: Mapping[str, str]) -> dict[str, str | None]:
        """Who writes each of the hives whose `stores` are given by name, now (None: nobody)."""
        ...


class SQLiteReader:
    """A home's SQLite event store through a read-only connection of the standard library (`home`: the home
    directory, whose lock file names its writer)."""

    def __init__(self, connection: sqlite3.Connection, home: Path | None = None) -> None:
        self.connection = connection
        self.home = home

    def max_notification_id(self) -> int | None:
        return event_log.head(self.connection) or None

    def select_records(self, after: int, limit: int) -> list[Record]:
        return event_log.records_after(self.connection, after, limit)

    def recent_events(self, limit: int, topics: Collection[str] | None = None) -> list[Record]:
        return event_log.newest_records(self.connection, limit, topics)

    def topics(self) -> list[str]:
        return event_log.topics(self.connection)

    def records_at(self, positions: Collection[int]) -> list[Record]:
        return event_log.records_at(self.connection, positions)

    def records_of(self, originator_id: str) -> list[Record]:
        return event_log.records_of(self.connection, originator_id)

    def first_record(self, originator_id: str) -> tuple[str, bytes] | None:
        return event_log.first_record(self.connection, originator_id)

    def attempt_positions(self, keys: Sequence[str]) -> list[int]:
        return outbox_table.attempt_positions(self.connection.cursor(), keys)

    def notifications(self, status: str | None = None, limit: int | None = None, after: int = 0
                      ) -> list[dict[str, Any]]:
        return outbox_table.listing(self.connection.cursor(), status, limit, after)

    def notification_counts(self) -> dict[str, int]:
        return outbox_table.counts(self.connection.cursor())

    def quarantine_count(self) -> int:
        return quarantine_table.count(self.connection.cursor())

    def quarantined(self) -> list[dict[str, Any]]:
        return quarantine_table.listing(self.connection.cursor())

    def writer(self) -> str | None:
        if self.home is None:
            return None
        from adapters.home_lock import holder

        found = holder(self.home)
        if found is None:
            return None
        return f"{found.get('command') or 'a coordinator'} (pid {found.get('pid', '?')}, since " \
               f"{found.get('started_at', '?')})"

    def hives(self, stores: Mapping[str, str]) -> dict[str, str | None]:
        return {}  # hives are shared out on a PostgreSQL server

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()
