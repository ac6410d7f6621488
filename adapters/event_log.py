"""The one reader of the event store's notification log: stored events as `Record`s, by position.

Every reader of the log goes through these functions, over any DB-API cursor or connection of the event store
(eventsourcing's while it writes, the standard library's read-only one for queries and the event stream), so the
table's layout is known in one place.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from adapters.home_files import EVENTS_TABLE
from adapters.state_packing import unpack, unpack_all
from app.records import Record

_COLUMNS = "rowid, originator_id, originator_version, topic, state"


class _Rows(Protocol):
    def fetchall(self) -> Any: ...


def _rows(db: Any, sql: str, parameters: Any = ()) -> list[Any]:
    """Run `sql` on a connection (which returns a cursor) or on a cursor (which keeps its rows)."""
    result = db.execute(sql, parameters)
    source: _Rows = result if result is not None else db
    return list(source.fetchall())


def _records(rows: list[Any]) -> list[Record]:
    """Rows of `_COLUMNS` as records, their states unpacked together (`unpack_all`)."""
    states = unpack_all([row[4] for row in rows])
    return [Record(position, originator_id, version, topic, state)
            for (position, originator_id, version, topic, _), state in zip(rows, states, strict=True)]


def head(db: Any) -> int:
    """The position of the newest event (0 when there is none)."""
    return int(_rows(db, f"SELECT IFNULL(MAX(rowid), 0) FROM {EVENTS_TABLE}")[0][0])


def records_after(db: Any, after: int, limit: int) -> list[Record]:
    """Up to `limit` events after position `after`, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    return _records(_rows(db, sql, (after, limit)))


def newest_records(db: Any, limit: int, topics: Collection[str] | None = None) -> list[Record]:
    """The newest `limit` events (only those with one of `topics`, if given), newest first."""
    where, params = "", []
    if topics is not None:
        where = f"WHERE topic IN ({','.join('?' * len(topics))})"
        params = list(topics)
    sql = f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} {where} ORDER BY rowid DESC LIMIT ?"
    return _records(_rows(db, sql, [*params, limit]))


def records_at(db: Any, positions: Collection[int]) -> list[Record]:
    """The events at these positions (those recorded), oldest first."""
    wanted = sorted(set(positions))
    found: list[Record] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        sql = f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE rowid IN ({','.join('?' * len(chunk))}) ORDER BY rowid"
        found += _records(_rows(db, sql, chunk))
    return found


def records_of(db: Any, originator_id: str) -> list[Record]:
    """Every event of one aggregate, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE originator_id = ? ORDER BY originator_version"
    return _records(_rows(db, sql, (originator_id,)))


def first_record(db: Any, originator_id: str) -> tuple[str, bytes] | None:
    """(topic, state) of an aggregate's first event (its registration), if recorded."""
    sql = f"SELECT topic, state FROM {EVENTS_TABLE} WHERE originator_id = ? AND originator_version = 1"
    rows = _rows(db, sql, (originator_id,))
    return (rows[0][0], unpack(rows[0][1])) if rows else None


def topics(db: Any) -> list[str]:
    """Every event topic recorded so far."""
    return sorted(row[0] for row in _rows(db, f"SELECT DISTINCT topic FROM {EVENTS_TABLE}"))
