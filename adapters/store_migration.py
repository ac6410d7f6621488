"""Copying a SQLite home's history into an empty PostgreSQL store: events, snapshots, ledger and outbox state.

Everything is copied in one transaction, so an interrupted migration leaves the target as empty as it was and can
simply be run again. Events keep their positions exactly (the target's sequence is then moved past the last), so
everything that names a position (an outbox row's requesting event, where an attempt is recorded, the position
a home's read models have reached) means the same in the target, however many attempts it took. Delivered,
failed and dead notifications keep their state, so nothing is sent again after the move.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from adapters import event_log, outbox_table
from adapters.home_files import SNAPSHOTS_TABLE
from adapters.postgres_ledger import b as _b
from adapters.postgres_ledger import instant as _instant
from adapters.postgres_store import PostgresStore
from adapters.state_packing import pack

PAGE = 5_000
Progress = Callable[[int], None]


@dataclass
class Migrated:
    """What was copied."""

    events: int = 0
    snapshots: int = 0
    alerts: int = 0
    notifications: int = 0
    quarantined: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class TargetNotEmpty(RuntimeError):
    """The PostgreSQL store already holds events: a migration only fills an empty one."""


def count_events(source: Path) -> int:
    """How many events the home's event store holds (what a progress bar counts to)."""
    with _read_only(source) as db:
        return event_log.head(db)


def migrate(source: Path, target: PostgresStore, progress: Progress | None = None) -> Migrated:
    """Copy the SQLite event store at `source` (already opened once by today's code, so its tables are current)
    into `target`, which must hold nothing yet (`TargetNotEmpty` otherwise)."""
    done = Migrated()
    advance = progress or (lambda count: None)
    with _read_only(source) as db, target.datastore.transaction(commit=True) as c:
        c.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(target.events))  # no writer adds events meanwhile
        _check_empty(c, target)
        with c.copy(SQL("COPY {} (notification_id, originator_id, originator_version, topic, state) FROM STDIN")
                    .format(target.events)) as copy:
            for page in _pages(db):
                for record in page:
                    copy.write_row((record.position, UUID(record.originator_id), record.originator_version,
                                    record.topic, pack(record.state)))  # packed as today's code writes
                done.events += len(page)
                advance(len(page))
        c.execute(SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), GREATEST(%s, 1), %s)"),
                  (target.events_name, event_log.head(db), done.events > 0))
        done.snapshots = _copy_snapshots(db, c, target)
        done.alerts = _copy_alerts(db, c, target)
        done.quarantined = _copy_quarantine(db, c, target)
        _copy_indexes(db, c, target)
        done.notifications = _copy_outbox(db, c, target)
    return done


_TABLES = ("alerts_seen", "alert_sources", "quarantine", "task_index", "agent_index", "sources", "outbox",
           "delivery_attempts")
"""The ledger's tables, each of which must be empty before a copy (beside the events and snapshots)."""


def _check_empty(c: Cursor[Any], target: PostgresStore) -> None:
    tables = [target.events, SQL("{}.{}").format(target.schema, target.snapshots_table),
              *(SQL("{}.{}").format(target.schema, Identifier(name)) for name in _TABLES)]
    names = ["events", "snapshots", *_TABLES]
    held = []
    for name, table in zip(names, tables, strict=True):
        c.execute(SQL("SELECT COUNT(*) AS n FROM {}").format(table))
        row = c.fetchone()
        if row is not None and row["n"]:
            held.append(f"{row['n']:,} {name}")
    if held:
        raise TargetNotEmpty(f"the target already holds {', '.join(held)}: migrate into an empty database")


class _read_only:
    """The home's event store, open read-only with the standard library."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True, timeout=30.0)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _pages(db: sqlite3.Connection) -> Iterator[list[Any]]:
    after = 0
    while page := event_log.records_after(db, after, PAGE):
        yield page
        after = page[-1].position


def _q(target: PostgresStore, text: str) -> Any:
    return SQL(text).format(schema=target.schema)


def _fingerprint(stored: bytes | str) -> str:
    """A fingerprint as the PostgreSQL store keeps it: the SQLite store keeps a SHA-256 digest as its 32 bytes."""
    return stored.hex() if isinstance(stored, bytes) else stored


def _copy_snapshots(db: sqlite3.Connection, c: Cursor[Any], target: PostgresStore) -> int:
    try:
        rows = db.execute(f"SELECT originator_id, originator_version, topic, state FROM {SNAPSHOTS_TABLE}").fetchall()
    except sqlite3.OperationalError:  # a store that never took a snapshot
        return 0
    c.executemany(SQL("INSERT INTO {}.{} (originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)")
                  .format(target.schema, target.snapshots_table),
                  [(UUID(str(originator)), version, topic, bytes(state)) for originator, version, topic, state in rows])
    return len(rows)


def _copy_alerts(db: sqlite3.Connection, c: Cursor[Any], target: PostgresStore) -> int:
    sources = db.execute("SELECT id, name FROM alert_sources").fetchall()
    c.executemany(_q(target, "INSERT INTO {schema}.alert_sources (id, name) VALUES (%s, %s)"), sources)
    c.execute(_q(target, "SELECT setval(pg_get_serial_sequence('{schema}.alert_sources', 'id'),"
                         " GREATEST((SELECT MAX(id) FROM {schema}.alert_sources), 1))"))
    copied = 0
    rows = db.execute("SELECT fingerprint, source, line FROM alerts_seen")
    while page := rows.fetchmany(PAGE):
        c.executemany(_q(target, "INSERT INTO {schema}.alerts_seen VALUES (%s, %s, %s)"),
                      [(_fingerprint(fingerprint), source, line) for fingerprint, source, line in page])
        copied += len(page)
    return copied


def _copy_quarantine(db: sqlite3.Connection, c: Cursor[Any], target: PostgresStore) -> int:
    rows = db.execute("SELECT source, line, item_index, raw, reason, recorded_at, digest FROM quarantine ORDER BY id")
    copied = 0
    while page := rows.fetchmany(PAGE):
        c.executemany(_q(target, "INSERT INTO {schema}.quarantine (source, line, item_index, raw, reason,"
                                 " recorded_at, digest) VALUES (%s,%s,%s,%s,%s,%s,%s)"),
                      [(_b(source), line, index, _b(raw), _b(reason), _instant(recorded), digest)
                       for source, line, index, raw, reason, recorded, digest in page])
        copied += len(page)
    return copied


def _copy_indexes(db: sqlite3.Connection, c: Cursor[Any], target: PostgresStore) -> None:
    tasks = db.execute("SELECT task_id, agent_id, open, next_due, pinned FROM task_index")
    while page := tasks.fetchmany(PAGE):
        c.executemany(_q(target, "INSERT INTO {schema}.task_index VALUES (%s,%s,%s,%s,%s)"),
                      [(_b(task), _b(agent), bool(open_), _instant(due), bool(pinned))
                       for task, agent, open_, due, pinned in page])
    agents = db.execute("SELECT agent_id, next_due FROM agent_index").fetchall()
    c.executemany(_q(target, "INSERT INTO {schema}.agent_index VALUES (%s,%s)"),
                  [(_b(agent), _instant(due)) for agent, due in agents])
    marks = db.execute("SELECT path, inode, offset, line, mtime_ns, head FROM sources").fetchall()
    c.executemany(_q(target, "INSERT INTO {schema}.sources VALUES (%s,%s,%s,%s,%s,%s)"), marks)


def _outbox_row(row: dict[str, Any]) -> tuple[Any, ...]:
    """An outbox row as the target keeps it: what its event asked written out, but its text (kept in the event)."""
    return (row["id"], _b(row["key"]), row["subject_kind"], _b(row["subject"]), _b(row["recipient"]),
            row["priority"], row["kind"], _b(row["message"]), _instant(row["requested_at"]), row["status"],
            row["attempts"], _instant(row["next_attempt_at"]), _b(row["last_error"]), row["channel"],
            _instant(row["delivered_at"]), _instant(row["created_at"]), row["origin"], row["item"])


def _copy_outbox(db: sqlite3.Connection, c: Cursor[Any], target: PostgresStore) -> int:
    names = ", ".join(outbox_table.COLUMNS)
    statement = _q(target, f"INSERT INTO {{schema}}.outbox ({names}) VALUES ({','.join(['%s'] * 18)})")
    copied = last = 0
    while page := outbox_table.in_order(db.cursor(), last, PAGE):
        c.executemany(statement, [_outbox_row(row) for row in page])
        copied += len(page)
        last = page[-1]["id"]
    c.execute(_q(target, "SELECT setval(pg_get_serial_sequence('{schema}.outbox', 'id'),"
                         " GREATEST((SELECT MAX(id) FROM {schema}.outbox), 1))"))
    attempts = db.execute("SELECT outbox_id, position FROM delivery_attempts")
    while page := attempts.fetchmany(PAGE):
        c.executemany(_q(target, "INSERT INTO {schema}.delivery_attempts VALUES (%s, %s)"), page)
    return copied

