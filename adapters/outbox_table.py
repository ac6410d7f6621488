"""The outbox: requested notifications and where their delivery stands, beside the events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from eventsourcing.sqlite import SQLiteCursor

    from app.ledger import DeliveryUpdate, OutboxEntry


class Cursor(Protocol):
    """A cursor of the event store: eventsourcing's while writing, the standard library's for read-only queries."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any:
        """Run one statement."""
        ...

    def fetchall(self) -> Any:
        """Every row of the last statement."""
        ...

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
DEAD = "dead"
STATUSES = (PENDING, DELIVERED, FAILED, DEAD)

OUTBOX = (
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at TEXT, last_error TEXT, channel TEXT, delivered_at TEXT, origin INTEGER, item INTEGER,"
    " subject_kind TEXT, subject TEXT, recipient TEXT, priority TEXT, kind TEXT, message TEXT, requested_at TEXT,"
    " created_at TEXT)"
)
"""A row keeps where its delivery stands; what was asked is kept once, in the event that asked it (`origin`: its
position in the event log; `item`: its place among the notifications that event requested), and read from there:
the subject (from the key), recipient, priority, kind, text, when it was requested (the event's `at`) and queued
(the event's own `timestamp`: the wall-clock instant it was made, which its save follows within milliseconds; due
times keep to the store's clock, which may be another). Those columns hold values only where there is no such
event, and in rows queued by older stores, which keep what they were written with."""
OUTBOX_INDEXES = [
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE status IN ('pending', 'failed')",
    "CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status)",
]
OUTBOX_TABLES = [
    OUTBOX,
    *OUTBOX_INDEXES,
    "CREATE TABLE IF NOT EXISTS delivery_attempts (outbox_id INTEGER NOT NULL, position INTEGER NOT NULL,"
    " PRIMARY KEY (outbox_id, position)) WITHOUT ROWID",
]
"""`delivery_attempts`, append-only: where in the event log (the position of a `Deliveries.Recorded` event) each
notification's attempts are recorded, so one task's or agent's attempts are found without scanning the log."""
DUE_INDEX = "INDEXED BY outbox_due"
"""Waiting notifications are found through the due index: the planner would otherwise pick the status index
and sort every waiting row on each pass (a drain of n notifications then costs O(n²))."""
COLUMNS = (
    "id", "key", "subject_kind", "subject", "recipient", "priority", "kind", "message", "requested_at", "status",
    "attempts", "next_attempt_at", "last_error", "channel", "delivered_at", "created_at", "origin", "item",
)
_OLD_COLUMNS = COLUMNS[:-2]
"""The columns of an outbox written before texts were kept once (no requesting event known)."""
_ASKED = ("subject_kind", "subject", "recipient", "priority", "kind", "message", "requested_at", "created_at")
"""What a row leaves to the event that requested it."""

DUE_QUERY = (
    "SELECT {columns} FROM outbox " + DUE_INDEX + " WHERE status IN ('pending', 'failed')"
    " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
)
UPCOMING_QUERY = (
    f"SELECT key, next_attempt_at FROM outbox {DUE_INDEX} WHERE status IN ('pending', 'failed')"
    " ORDER BY next_attempt_at, id LIMIT ?"
)


def utc(moment: datetime | None) -> str | None:
    """Sortable UTC ISO 8601 text with microseconds."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def upgrade(c: SQLiteCursor) -> None:
    """Bring an outbox written by older stores to today's table, every row and id kept as it was written (with
    its texts where they are there): before texts were kept once (no `origin`), or while each row still had to
    repeat what its event asked (`recipient` required)."""
    c.execute('SELECT name, "notnull" FROM pragma_table_info(\'outbox\')')
    required = {str(row[0]): bool(row[1]) for row in c.fetchall()}
    if not required or not required.get("recipient"):
        return
    names = ", ".join(COLUMNS if "origin" in required else _OLD_COLUMNS)
    c.execute("DROP INDEX IF EXISTS outbox_due")
    c.execute("DROP INDEX IF EXISTS outbox_status")
    c.execute("ALTER TABLE outbox RENAME TO outbox_before_upgrade")
    c.execute(OUTBOX)
    c.execute(f"INSERT INTO outbox ({names}) SELECT {names} FROM outbox_before_upgrade")
    c.execute("DROP TABLE outbox_before_upgrade")
    for statement in OUTBOX_INDEXES:
        c.execute(statement)


def insert_requested(c: SQLiteCursor, entries: Sequence[OutboxEntry], now: datetime,
                     positions: Mapping[tuple[str, int], int]) -> None:
    """Queue newly requested notifications for delivery now (a key already queued is left as it is); `positions`:
    where in the event log the events saved with them are, by (aggregate id, version)."""
    created = utc(now)
    rows = []
    for e in entries:
        origin = None if e.origin is None else positions.get(e.origin)
        asked = _LEFT_TO_EVENT if origin is not None else (
            e.subject_kind, e.subject, e.recipient, e.priority, e.kind, e.message, utc(e.requested_at), created)
        rows.append((e.key, PENDING, created, origin, None if origin is None else e.item, *asked))
    c.executemany(
        f"INSERT OR IGNORE INTO outbox (key, status, attempts, next_attempt_at, origin, item, {', '.join(_ASKED)})"
        " VALUES (?,?,0,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


_LEFT_TO_EVENT = (None,) * len(_ASKED)


def _selected(c: Cursor) -> str:
    """The columns to select: today's, or (read before a writer upgraded the table) the older table's and none for
    the requesting event."""
    c.execute("SELECT 1 FROM pragma_table_info('outbox') WHERE name = 'origin'")
    return ", ".join(COLUMNS if c.fetchall() else (*_OLD_COLUMNS, "NULL", "NULL"))


def _with_texts(c: Cursor, rows: list[dict[str, Any]], texts: bool = True) -> list[dict[str, Any]]:
    """`rows` with what each one's event asked filled in where the row leaves it to the event (its text too, unless
    `texts` is false)."""
    wanted = {row["origin"] for row in rows if row["origin"] is not None
              and (row["recipient"] is None or (texts and row["message"] is None))}
    if not wanted:
        return rows
    from adapters import event_log  # here: a query command that lists nothing loads none of these
    from app.records import state_of
    from domain.notifications import NotificationKey

    requested = {record.position: state_of(record) for record in event_log.records_at(c, wanted)}
    for row in rows:
        state = requested.get(row["origin"])
        if state is None:
            continue
        asked = state["notifications"][row["item"]]
        if row["recipient"] is None:
            key = NotificationKey.parse(row["key"])
            row.update(subject_kind=key.subject_kind, subject=key.subject, recipient=asked["recipient"],
                       priority=asked["priority"], kind=asked["kind"], requested_at=row_instant(state["at"]),
                       created_at=row_instant(state["timestamp"]))
        if texts and row["message"] is None:
            row["message"] = asked["message"]
    return rows


def row_instant(value: Any) -> str | None:
    """An instant of an event (ISO 8601 text, or tagged by the stock transcoder of older stores) as `utc` writes it.

    The codec writes UTC with a `Z`, to the second or the microsecond (`domain.moments.iso_text`): those are
    rewritten as text, which gives what `utc` would (a test holds the two to each other) at a fraction of the cost
    of parsing and formatting two instants for every notification a drain hands out; anything else is parsed.
    """
    if isinstance(value, str) and value[-1:] == "Z" and value[10:11] == "T" and value[19:20] in ("Z", "."):
        if len(value) == 20:
            return value[:19] + ".000000+00:00"
        if len(value) == 27:
            return value[:26] + "+00:00"
    text = value.get("_data_") if isinstance(value, dict) else value
    return utc(datetime.fromisoformat(str(text)))


def in_order(c: Cursor, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` notifications queued after id `after`, oldest first, each with what its event asked but its
    text, which stays there (a copy of the outbox elsewhere reads it from the same event)."""
    c.execute(f"SELECT {_selected(c)} FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return _with_texts(c, [dict(zip(COLUMNS, row, strict=True)) for row in c.fetchall()], texts=False)


def apply_updates(c: SQLiteCursor, updates: Sequence[DeliveryUpdate], position: int | None = None) -> None:
    """Record delivery outcomes (recorded in the event log at `position`, if known); a delivered notification is
    never reopened by a late outcome."""
    if position is not None:
        c.executemany("INSERT OR IGNORE INTO delivery_attempts SELECT id, ? FROM outbox WHERE key = ?",
                      [(position, u.key) for u in updates])
    c.executemany(
        "UPDATE outbox SET status = ?, attempts = ?, channel = ?, next_attempt_at = ?, last_error = ?,"
        " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
        " WHERE key = ? AND status != 'delivered'",
        [
            (u.status, u.attempts, u.channel, utc(u.next_attempt_at), u.last_error, u.status, utc(u.at), u.key)
            for u in updates
        ],
    )


def due(c: Cursor, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Notifications waiting for an attempt at or before `now`, oldest first."""
    c.execute(DUE_QUERY.format(columns=_selected(c)), (utc(now), limit))
    return _with_texts(c, [dict(zip(COLUMNS, row, strict=True)) for row in c.fetchall()])


def upcoming(c: Cursor, limit: int) -> list[tuple[str, datetime]]:
    """The key and due time of the first `limit` notifications waiting for an attempt, the earliest first."""
    c.execute(UPCOMING_QUERY, (limit,))
    return [(str(key), datetime.fromisoformat(moment)) for key, moment in c.fetchall()]


def listing(c: Cursor, status: str | None, limit: int | None, after: int = 0) -> list[dict[str, Any]]:
    """Notifications, newest first, optionally only those with `status` and those queued after id `after`."""
    where = ["id > ?"]
    params: list[Any] = [after]
    if status:
        where.append("status = ?")
        params.append(status)
    sql = f"SELECT {_selected(c)} FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    c.execute(sql, params)
    return _with_texts(c, [dict(zip(COLUMNS, row, strict=True)) for row in c.fetchall()])


def requeue(c: SQLiteCursor, now: datetime, key_or_id: str | None) -> int:
    """Make dead (or failed) notifications deliverable again with fresh attempts; returns how many."""
    if key_or_id is None:
        c.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE status = 'dead'",
                  (utc(now),))
    else:
        c.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?"
            " WHERE (key = ? OR CAST(id AS TEXT) = ?) AND status IN ('dead', 'failed')",
            (utc(now), key_or_id, key_or_id),
        )
    return int(c.sqlite_cursor.rowcount)


def counts(c: Cursor) -> dict[str, int]:
    """How many notifications are in each status."""
    c.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    found = {status: 0 for status in STATUSES}
    found.update({row[0]: int(row[1]) for row in c.fetchall()})
    return found


def document(row: dict[str, Any]) -> dict[str, Any]:
    """A notification as `coordinator notifications --json` and the HTTP API show it (instants in UTC, `Z`)."""
    return {
        "id": row["id"], "key": row["key"], "subject": row["subject"], "recipient": row["recipient"],
        "priority": row["priority"], "kind": row["kind"], "status": row["status"], "attempts": row["attempts"],
        "channel": row["channel"], "requested_at": _z(row["requested_at"]), "delivered_at": _z(row["delivered_at"]),
        "next_attempt_at": _z(row["next_attempt_at"]) if row["status"] in (PENDING, FAILED) else None,
        "last_error": row["last_error"], "message": row["message"],
    }


def _z(text: str | None) -> str | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def attempt_positions(c: Cursor, keys: Sequence[str]) -> list[int]:
    """Where in the event log the attempts to deliver the notifications `keys` are recorded, in log order."""
    found: set[int] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        c.execute(f"SELECT a.position FROM outbox o JOIN delivery_attempts a ON a.outbox_id = o.id"
                  f" WHERE o.key IN ({','.join('?' * len(chunk))})", chunk)
        found.update(int(row[0]) for row in c.fetchall())
    return sorted(found)
