"""SQLite event store with the coordinator's ledger, written in the same transaction as the events."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from adapters import event_log, outbox_table, quarantine_table
from adapters.clock import Clock, SystemClock
from adapters.event_codec import EventMapper
from adapters.home_files import SNAPSHOTS_TABLE
from app.ledger import LedgerBatch
from app.records import DELIVERIES_TOPIC, Record
from domain.alerts import quarantine_digest
from domain.sources import SourceMark

_LOOKUP_CHUNK = 500

ALERTS_SEEN = ("CREATE TABLE IF NOT EXISTS alerts_seen (fingerprint PRIMARY KEY, source INTEGER NOT NULL,"
               " line INTEGER) WITHOUT ROWID")
"""The fingerprint of every alert and observation accepted (as `stored_fingerprint` keeps it) and where it was
read (`source`: an id of `alert_sources`); its type, time and when it was recorded are in its event."""
ALERT_SOURCES = "CREATE TABLE IF NOT EXISTS alert_sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
"""The names of the places alerts were read from (a file's path, the HTTP API's path), each kept once."""


def stored_fingerprint(fingerprint: str) -> bytes | str:
    """A fingerprint as `alerts_seen` keeps it: a SHA-256 digest (64 hex digits) as its 32 bytes, anything else as
    written (the two never compare equal, so neither can be taken for the other)."""
    if len(fingerprint) == 64:
        try:
            return bytes.fromhex(fingerprint)
        except ValueError:
            pass
    return fingerprint


def _upgrade_alerts_seen(c: SQLiteCursor) -> None:
    """Bring an `alerts_seen` written with every alert's type and times to today's table (fingerprints and sources
    kept)."""
    c.execute("SELECT name FROM pragma_table_info('alerts_seen')")
    if "recorded_at" not in {row[0] for row in c.fetchall()}:
        return
    c.execute("ALTER TABLE alerts_seen RENAME TO alerts_seen_before_upgrade")
    c.execute(ALERTS_SEEN)
    c.execute(ALERT_SOURCES)
    c.execute("INSERT OR IGNORE INTO alert_sources (name) SELECT DISTINCT source FROM alerts_seen_before_upgrade")
    c.execute("SELECT name, id FROM alert_sources")
    ids = dict(c.fetchall())
    after = ""
    while True:  # in pages, by fingerprint, so a large store is never held in memory at once
        c.execute("SELECT fingerprint, source, line FROM alerts_seen_before_upgrade WHERE fingerprint > ?"
                  " ORDER BY fingerprint LIMIT 10000", (after,))
        rows = c.fetchall()
        if not rows:
            break
        c.executemany("INSERT OR IGNORE INTO alerts_seen VALUES (?,?,?)",
                      [(stored_fingerprint(fingerprint), ids[source], line) for fingerprint, source, line in rows])
        after = rows[-1][0]
    c.execute("DROP TABLE alerts_seen_before_upgrade")


LEDGER_TABLES = [
    ALERTS_SEEN,
    ALERT_SOURCES,
    "CREATE TABLE IF NOT EXISTS quarantine ("
    " id INTEGER PRIMARY KEY, source TEXT NOT NULL, line INTEGER, item_index INTEGER,"
    " raw TEXT NOT NULL, reason TEXT NOT NULL, recorded_at TEXT NOT NULL, digest TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS task_index ("
    " task_id TEXT PRIMARY KEY, agent_id TEXT, open INTEGER NOT NULL, next_due TEXT, pinned INTEGER NOT NULL)"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS task_index_open ON task_index (open)",
    "CREATE INDEX IF NOT EXISTS task_index_due ON task_index (next_due) WHERE next_due IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS agent_index (agent_id TEXT PRIMARY KEY, next_due TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS agent_index_due ON agent_index (next_due) WHERE next_due IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, offset INTEGER NOT NULL,"
    " line INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, head TEXT NOT NULL DEFAULT '')",
]


def iso(moment: datetime | None) -> str | None:
    """A sortable UTC ISO 8601 text with microseconds (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _row(stored: StoredEvent) -> tuple[str, int, str, bytes]:
    """A stored event as a row of an events or snapshots table (ids as 32 hex digits, as eventsourcing keeps them)."""
    originator = stored.originator_id
    return (originator.hex if isinstance(originator, UUID) else str(originator), stored.originator_version,
            stored.topic, stored.state)


class LedgerRecorder(SQLiteApplicationRecorder):
    """Application recorder that also keeps the ledger (see `app.ledger`)."""

    clock: Clock = SystemClock()
    """Where the ledger's recording times come from (the composition root sets the home's clock)."""

    def save(self, events: Sequence[StoredEvent], batch: LedgerBatch) -> None:
        """Record `events`, the batch's ledger rows and snapshots in one transaction (see `app.ledger.Store`)."""
        self.insert_events(events, ledger=batch)

    def _create_table(self, c: SQLiteCursor) -> None:
        outbox_table.upgrade(c)  # before the statements, which would create today's indexes on the older table
        _upgrade_alerts_seen(c)
        super()._create_table(c)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *LEDGER_TABLES, *outbox_table.OUTBOX_TABLES]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = self._insert_event_rows(c, stored_events)
        batch = kwargs.get("ledger")  # what `save` passes on through eventsourcing's transaction
        if isinstance(batch, LedgerBatch):
            positions = {(_row(event)[0], event.originator_version): position
                         for event, position in zip(stored_events, notification_ids, strict=True)}
            recorded = (position for event, position in zip(stored_events, notification_ids, strict=True)
                        if event.topic == DELIVERIES_TOPIC)
            self._insert_ledger(c, batch, positions, next(recorded, None))
        return notification_ids

    def _insert_event_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        c.execute(f"SELECT IFNULL(MAX(rowid), 0) FROM {self.events_table_name}")
        first = int(c.fetchone()[0]) + 1
        c.executemany(self.insert_events_statement, list(map(_row, stored_events)))
        return list(range(first, first + len(stored_events)))

    def _insert_ledger(self, c: SQLiteCursor, batch: LedgerBatch, positions: dict[tuple[str, int], int],
                       deliveries_at: int | None = None) -> None:
        moment = self.clock.now()
        now = iso(moment)
        if batch.source is not None:
            mark = batch.source
            c.execute("INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?)",
                      (mark.path, mark.inode, mark.offset, mark.line, mark.mtime_ns, mark.head))
        if batch.outbox:
            outbox_table.insert_requested(c, batch.outbox, moment, positions)
        if batch.deliveries:
            outbox_table.apply_updates(c, batch.deliveries, deliveries_at)
        if batch.accepted:
            sources = self._source_ids(c, {a.source for a in batch.accepted})
            c.executemany("INSERT INTO alerts_seen VALUES (?,?,?)",
                          [(stored_fingerprint(a.fingerprint), sources[a.source], a.line) for a in batch.accepted])
        if batch.quarantined:
            c.executemany(
                "INSERT OR IGNORE INTO quarantine (source, line, item_index, raw, reason, recorded_at, digest)"
                " VALUES (?,?,?,?,?,?,?)",
                [(q.source, q.line, q.index, q.raw, q.reason, now, quarantine_digest(q)) for q in batch.quarantined],
            )
        if batch.tasks:
            c.executemany(
                "INSERT OR REPLACE INTO task_index VALUES (?,?,?,?,?)",
                [(e.task_id, e.agent_id, int(e.open), iso(e.next_due), int(e.pinned)) for e in batch.tasks.values()],
            )
        if batch.snapshots:
            rows = list(map(_row, batch.snapshots))
            c.executemany(f"INSERT INTO {SNAPSHOTS_TABLE} VALUES (?,?,?,?)", rows)
            # Only an aggregate's latest snapshot is ever read (a load at an earlier version replays its events).
            c.executemany(f"DELETE FROM {SNAPSHOTS_TABLE} WHERE originator_id = ? AND originator_version < ?",
                          [row[:2] for row in rows])
        if batch.agents:
            c.executemany(
                "INSERT OR REPLACE INTO agent_index VALUES (?,?)",
                [(agent_id, iso(due)) for agent_id, due in batch.agents.items()],
            )

    @staticmethod
    def _source_ids(c: SQLiteCursor, names: set[str]) -> dict[str, int]:
        """The `alert_sources` id of each name (new names are added)."""
        wanted = sorted(names)
        c.executemany("INSERT OR IGNORE INTO alert_sources (name) VALUES (?)", [(name,) for name in wanted])
        c.execute(f"SELECT name, id FROM alert_sources WHERE name IN ({','.join('?' * len(wanted))})", wanted)
        return dict(c.fetchall())

    # Ledger (read side) -------------------------------------------------------------------------

    def known_quarantine(self, digests: Collection[str]) -> set[str]:
        return self._present("quarantine", "digest", digests)

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        return self._present("alerts_seen", "fingerprint", fingerprints, stored_fingerprint)

    def _present(self, table: str, column: str, values: Collection[str], stored: Callable[[str], Any] = str,
                 ) -> set[str]:
        """Those of `values` found in `table.column`, where each is kept as `stored(value)` (looked up in chunks)."""
        wanted = list(values)
        known: set[str] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = {stored(value): value for value in wanted[start : start + _LOOKUP_CHUNK]}
                c.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})",
                          list(chunk))
                known.update(chunk[row[0]] for row in c.fetchall())
        return known

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        wanted = list(aggregate_ids)
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = {aggregate_id.hex: aggregate_id for aggregate_id in wanted[start : start + _LOOKUP_CHUNK]}
                c.execute(f"SELECT originator_id FROM {self.events_table_name} WHERE originator_version = 1"
                          f" AND originator_id IN ({','.join('?' * len(chunk))})", list(chunk))
                found.update(chunk[row[0]] for row in c.fetchall())
        return found

    def open_tasks(self) -> list[tuple[str, str | None, bool]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT task_id, agent_id, pinned FROM task_index WHERE open = 1")
            return [(row[0], row[1], bool(row[2])) for row in c.fetchall()]

    def task_ids(self) -> list[str]:
        """Every task the coordinator knows (open or not)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT task_id FROM task_index")
            return [row[0] for row in c.fetchall()]

    def agent_ids(self) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT agent_id FROM agent_index")
            return [row[0] for row in c.fetchall()]

    def source_mark(self, path: str) -> SourceMark | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT path, inode, offset, line, mtime_ns, head FROM sources WHERE path = ?", (path,))
            row = c.fetchone()
        return None if row is None else SourceMark(*row)

    def next_due(self) -> datetime | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT MIN(next_due) FROM (SELECT MIN(next_due) AS next_due FROM task_index"
                      " WHERE next_due IS NOT NULL UNION ALL SELECT MIN(next_due) FROM agent_index"
                      " WHERE next_due IS NOT NULL)")
            row = c.fetchone()
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def due(self, as_of: datetime) -> tuple[list[str], list[str]]:
        moment = iso(as_of)
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT task_id FROM task_index WHERE next_due IS NOT NULL AND next_due <= ?", (moment,))
            tasks = [row[0] for row in c.fetchall()]
            c.execute("SELECT agent_id FROM agent_index WHERE next_due IS NOT NULL AND next_due <= ?", (moment,))
            agents = [row[0] for row in c.fetchall()]
        return tasks, agents

    def recent_events(self, limit: int, topics: Collection[str] | None = None) -> list[Record]:
        """The newest `limit` events (only those with one of `topics`, if given), newest first."""
        with self.datastore.transaction(commit=False) as c:
            return event_log.newest_records(c, limit, topics)

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` stored events after position `after`, oldest first, as projections read them."""
        with self.datastore.transaction(commit=False) as c:
            return event_log.records_after(c, after, limit)

    def topics(self) -> list[str]:
        """Every event topic recorded so far."""
        with self.datastore.transaction(commit=False) as c:
            return event_log.topics(c)

    # Outbox ---------------------------------------------------------------------------------------

    def due_notifications(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Notifications waiting for a delivery attempt at or before `now`."""
        with self.datastore.transaction(commit=False) as c:
            return outbox_table.due(c, now, limit)

    def upcoming_notifications(self, limit: int) -> list[tuple[str, datetime]]:
        """The key and due time of the first `limit` notifications waiting for an attempt, the earliest first."""
        with self.datastore.transaction(commit=False) as c:
            return outbox_table.upcoming(c, limit)

    def notifications(
        self, status: str | None = None, limit: int | None = None, after: int = 0
    ) -> list[dict[str, Any]]:
        """Notifications, newest first (only those queued after id `after`, if given)."""
        with self.datastore.transaction(commit=False) as c:
            return outbox_table.listing(c, status, limit, after)

    def notification_counts(self) -> dict[str, int]:
        """How many notifications are pending, delivered, failed and dead."""
        with self.datastore.transaction(commit=False) as c:
            return outbox_table.counts(c)

    def requeue_notifications(self, now: datetime, key_or_id: str | None = None) -> int:
        """Make one (by key or id) or every dead notification deliverable again."""
        with self.datastore.transaction(commit=True) as c:
            return outbox_table.requeue(c, now, key_or_id)

    def quarantine_count(self) -> int:
        """How many items are in quarantine."""
        with self.datastore.transaction(commit=False) as c:
            return quarantine_table.count(c)

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined item, oldest first."""
        with self.datastore.transaction(commit=False) as c:
            return quarantine_table.listing(c)


def environment(path: Path) -> dict[str, str]:
    """The eventsourcing environment of the embedded SQLite store in the file at `path`, ledger and codec included."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{LedgerRecorder.__module__}:{LedgerRecorder.__qualname__}",
        "MAPPER_TOPIC": f"{EventMapper.__module__}:{EventMapper.__qualname__}",
    }


class EventSource:
    """The event store in the file at `path` opened for reading, by a process that builds read models (it keeps the
    application that owns the connections open as long as it is used)."""

    def __init__(self, path: Path) -> None:
        from app.coordinator import Coordinator

        self.application = Coordinator(env=environment(path))
        recorder = self.application.recorder
        assert isinstance(recorder, LedgerRecorder)
        self.recorder = recorder

    def max_notification_id(self) -> int | None:
        """The position of the newest event."""
        return self.recorder.max_notification_id()

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` events after position `after`, oldest first."""
        return self.recorder.select_records(after, limit)
