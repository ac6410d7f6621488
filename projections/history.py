"""Escalation history read model: every level change of every task and agent, in recording order.

One row per `Escalated`, `DeEscalated` and `Resolved` event, keyed by its position in the event log, with the
subject's name (kept from `Registered` events in `history_subjects`), so a subject's history is one
indexed query instead of a replay of its aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.records import Record, aggregate_key, event_kind, instant, state_of, utc_text
from projections import versions
from projections.base import Projection, ReadModels
from projections.sql import upsert

if TYPE_CHECKING:
    import sqlite_utils

HISTORY = "escalation_history"
SUBJECTS = "history_subjects"
COLUMNS = ("position", "subject_kind", "subject", "at", "from_level", "to_level", "emergency", "reason", "rule",
           "direction")
_CHUNK = 500
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {HISTORY} (position INTEGER PRIMARY KEY, subject_kind TEXT, subject TEXT, at TEXT,"
    " from_level TEXT, to_level TEXT, emergency INTEGER, reason TEXT, rule TEXT, direction TEXT)",
    f"CREATE INDEX IF NOT EXISTS idx_{HISTORY}_subject_kind_subject_at ON {HISTORY} (subject_kind, subject, at)",
    f"CREATE TABLE IF NOT EXISTS {SUBJECTS} (id TEXT PRIMARY KEY, kind TEXT, name TEXT)",
)

_MOVES = {
    "Task.Escalated": ("task", "up"),
    "Task.DeEscalated": ("task", "down"),
    "Agent.Escalated": ("agent", "up"),
    "Agent.DeEscalated": ("agent", "down"),
    "Task.Resolved": ("task", "resolved"),
}
_REGISTERED = {"Task.Registered": ("task", "task_id"), "Agent.Registered": ("agent", "agent_id")}
_LEVEL = {"GREEN": "GREEN", "YELLOW": "YELLOW", "ORANGE": "ORANGE", "RED": "RED", "EMERGENCY": "RED"}


class HistoryProjection(Projection):
    """`escalation_history`: each stage change (and resolution) of tasks and agents, with time, reason and rule."""

    name = "history"
    version = versions.HISTORY
    tables = (HISTORY, SUBJECTS)

    def create_tables(self, db: sqlite_utils.Database) -> None:
        """Create `escalation_history` and `history_subjects` (idempotent)."""
        for statement in _SCHEMA:
            db.conn.execute(statement)

    def apply(self, db: sqlite_utils.Database, records: Sequence[Record]) -> None:
        """Insert a row per stage change in the page; names come from this page's or earlier registrations."""
        names: dict[str, str] = {}
        subjects: list[tuple[str, str, str]] = []
        moves: list[tuple[str, list[Any]]] = []
        for record in records:
            kind = event_kind(record.topic)
            move = _MOVES.get(kind)
            if move is not None:
                state = state_of(record)
                subject_kind, direction = move
                from_stage = state["from_stage"]
                to_stage = state.get("to_stage", "GREEN")
                moves.append((aggregate_key(record), [
                    record.position, subject_kind, None, utc_text(state["at"]), _LEVEL.get(from_stage, from_stage),
                    _LEVEL.get(to_stage, to_stage), int(to_stage == "EMERGENCY"), state["reason"],
                    state.get("rule"), direction,
                ]))
                continue
            registered = _REGISTERED.get(kind)
            if registered is not None:
                key, name = aggregate_key(record), state_of(record)[registered[1]]
                names[key] = name
                subjects.append((key, registered[0], name))
        if subjects:
            db.conn.executemany(upsert(SUBJECTS, ("id", "kind", "name"), ("id",)), subjects)
        if not moves:
            return
        names.update(_names(db, {key for key, _ in moves} - names.keys()))
        for key, row in moves:
            row[2] = names.get(key, key)
        db.conn.executemany(upsert(HISTORY, COLUMNS, ("position",)), [row for _, row in moves])


def _names(db: sqlite_utils.Database, keys: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        sql = f"SELECT id, name FROM {SUBJECTS} WHERE id IN ({','.join('?' * len(chunk))})"
        found.update(db.conn.execute(sql, chunk).fetchall())
    return found


def history_of(
    db: ReadModels, kind: str, subject: str, until: str | datetime | None = None
) -> list[dict[str, Any]]:
    """The stage changes of the task or agent (`kind` `task` or `agent`) named `subject`, oldest first.

    `until` (ISO 8601 text or datetime) keeps only the changes at or before it: the history as it stood then.
    Rows have the table's columns, with `emergency` as a bool.
    """
    rows = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {HISTORY} WHERE subject_kind = ? AND subject = ? ORDER BY position",
        [kind, subject],
    ).fetchall()
    history = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    if until is not None:
        limit = instant(until)
        history = [row for row in history if instant(row["at"]) <= limit]
    for row in history:
        row["emergency"] = bool(row["emergency"])
    return history


def escalations_after(db: ReadModels, position: int, levels: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """Upward level changes to one of `levels` recorded after `position`, oldest first (at most `limit`)."""
    marks = ",".join("?" * len(levels))
    rows = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {HISTORY} WHERE position > ? AND direction = 'up' AND to_level IN ({marks})"
        " ORDER BY position LIMIT ?", [position, *levels, limit],
    ).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def escalations_count_after(db: ReadModels, position: int, levels: Sequence[str]) -> tuple[int, int]:
    """How many upward level changes to one of `levels` were recorded after `position`, and the last one's."""
    marks = ",".join("?" * len(levels))
    count, last = db.conn.execute(
        f"SELECT COUNT(*), MAX(position) FROM {HISTORY} WHERE position > ? AND direction = 'up'"
        f" AND to_level IN ({marks})", [position, *levels],
    ).fetchone()
    return int(count), int(last or position)
