"""Read-only queries the dashboard needs beyond the commands' documents: board cards, response times, position."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime
from typing import Any

from projections.base import ReadModels

CARD_FIELDS = ("task_id", "agent_id", "level", "emergency", "status", "deadline", "acknowledged_by",
               "acknowledged_at", "updated_at", "level_since")
_CARDS = (
    "SELECT s.task_id, s.agent_id, s.level, s.emergency, s.status, s.deadline, s.acknowledged_by, s.acknowledged_at,"
    " s.updated_at, h.since FROM task_status s LEFT JOIN (SELECT subject, MAX(at) AS since FROM escalation_history"
    " WHERE subject_kind = 'task' GROUP BY subject) h ON h.subject = s.task_id"
)
_ORDER = "CASE s.level WHEN 'RED' THEN 0 WHEN 'ORANGE' THEN 1 WHEN 'YELLOW' THEN 2 ELSE 3 END, s.emergency DESC"
_CHUNK = 500


def cards(db: ReadModels, task_ids: Collection[str] | None = None, completed_since: str | None = None) -> list[
        dict[str, Any]]:
    """Tasks as board cards, most severe first: the open ones and those completed at or after `completed_since`
    (UTC text), or, given `task_ids`, those tasks whatever their status. `level_since` is when the task's last level
    change was recorded (None before any)."""
    if task_ids is not None:
        wanted = sorted(set(task_ids))
        rows = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows.extend(db.execute(f"{_CARDS} WHERE s.task_id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
        found = [_card(row) for row in rows]
        return sorted(found, key=lambda card: (_RANK[card["level"]], not card["emergency"], card["task_id"]))
    where, params = "s.status = 'open'", []
    if completed_since is not None:
        where += " OR (s.status = 'completed' AND s.updated_at >= ?)"
        params.append(completed_since)
    sql = f"{_CARDS} WHERE {where} ORDER BY {_ORDER}, s.task_id"
    return [_card(row) for row in db.execute(sql, params).fetchall()]


_RANK = {"RED": 0, "ORANGE": 1, "YELLOW": 2, "GREEN": 3}


def _card(row: tuple[Any, ...]) -> dict[str, Any]:
    card = dict(zip(CARD_FIELDS, row, strict=True))
    card["emergency"] = bool(card["emergency"])
    return card


def response_times(db: ReadModels, limit: int = 2_000) -> list[dict[str, Any]]:
    """The newest `limit` delivered notifications' response times (request to first delivery, wall clock), oldest
    first: {requested_at, level, seconds}, `level` the subject's stage when it was requested (EMERGENCY kept)."""
    try:
        rows = db.execute(
            "SELECT requested_wall, level, delivered_wall FROM notification_timing WHERE delivered_wall IS NOT NULL"
            " ORDER BY requested_wall DESC, key DESC LIMIT ?", [limit],
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    parse = datetime.fromisoformat
    return [{"requested_at": at, "level": level, "seconds": max((parse(done) - parse(at)).total_seconds(), 0.0)}
            for at, level, done in reversed(rows)]


def position(db: ReadModels) -> int:
    """The position of the last event every read model has applied (0 before any)."""
    try:
        rows = db.execute("SELECT MIN(position) FROM projection_positions").fetchall()
    except sqlite3.OperationalError:
        return 0
    return int(rows[0][0] or 0)
