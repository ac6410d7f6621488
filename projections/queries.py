"""Read-only queries over the status read models."""

from __future__ import annotations

from typing import Any

import sqlite_utils

SEVERITY_ORDER = (
    "CASE level WHEN 'RED' THEN 0 WHEN 'ORANGE' THEN 1 WHEN 'YELLOW' THEN 2 ELSE 3 END, emergency DESC"
)


def tasks(db: sqlite_utils.Database, level: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Tasks, most severe first, optionally only those at `level` / with `status`."""
    where, params = [], []
    if level is not None:
        where.append("level = ?")
        params.append(level)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = (
        "SELECT task_id, agent_id, level, emergency, status, deadline FROM task_status "
        f"{clause} ORDER BY {SEVERITY_ORDER}, task_id"
    )
    return [dict(zip(("task_id", "agent_id", "level", "emergency", "status", "deadline"), row, strict=True))
            for row in db.execute(sql, params).fetchall()]


def open_tasks_of(db: sqlite_utils.Database, agent_id: str) -> list[str]:
    """Ids of the open tasks `agent_id` holds."""
    rows = db.execute(
        "SELECT task_id FROM task_status WHERE agent_id = ? AND status = 'open' ORDER BY task_id", [agent_id]
    ).fetchall()
    return [row[0] for row in rows]


def agents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Agents, most severe first, each with the open tasks it holds."""
    held: dict[str, list[str]] = {}
    for agent_id, task_id in db.execute(
        "SELECT agent_id, task_id FROM task_status WHERE status = 'open' AND agent_id IS NOT NULL ORDER BY task_id"
    ).fetchall():
        held.setdefault(agent_id, []).append(task_id)
    rows = db.execute(
        "SELECT agent_id, level, emergency, responsive, last_activity FROM agent_status "
        f"ORDER BY {SEVERITY_ORDER}, agent_id"
    ).fetchall()
    return [
        {
            "agent_id": agent_id,
            "level": level,
            "emergency": bool(emergency),
            "responsive": bool(responsive),
            "last_activity": last_activity,
            "tasks": held.get(agent_id, []),
        }
        for agent_id, level, emergency, responsive, last_activity in rows
    ]
