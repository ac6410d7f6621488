"""Read-only queries over the status read models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections.base import ReadModels
from projections.history import history_of

SEVERITY_ORDER = (
    "CASE level WHEN 'RED' THEN 0 WHEN 'ORANGE' THEN 1 WHEN 'YELLOW' THEN 2 ELSE 3 END, emergency DESC"
)


def tasks(
    db: ReadModels, level: str | None = None, status: str | None = None, agent: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Tasks, most severe first, optionally only those at `level` (`EMERGENCY`: RED's last stage), with `status`,
    held by `agent`; at most `limit`. Filters and the limit are applied in SQL (indexes on level and agent)."""
    where: list[str] = []
    params: list[Any] = []
    stage = None
    if level == "EMERGENCY":
        level, stage = None, "EMERGENCY"
    for column, value in (("level", level), ("stage", stage), ("status", status), ("agent_id", agent)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {', '.join(TASK_FIELDS)} FROM task_status {clause} ORDER BY {SEVERITY_ORDER}, task_id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [dict(zip(TASK_FIELDS, row, strict=True)) for row in db.execute(sql, params).fetchall()]


def open_tasks_of(db: ReadModels, agent_id: str) -> list[str]:
    """Ids of the open tasks `agent_id` holds."""
    rows = db.execute(
        "SELECT task_id FROM task_status WHERE agent_id = ? AND status = 'open' ORDER BY task_id", [agent_id]
    ).fetchall()
    return [row[0] for row in rows]


def agents(db: ReadModels) -> list[dict[str, Any]]:
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


TASK_FIELDS = ("task_id", "agent_id", "level", "emergency", "status", "deadline", "acknowledged_by",
               "acknowledged_at")
AGENT_FIELDS = ("agent_id", "level", "emergency", "responsive", "last_activity")


def task_document(db: ReadModels, task_id: str) -> dict[str, Any] | None:
    """The `task show` document of `task_id` (None when no alert named it): its standing and whole history."""
    row = db.execute(f"SELECT {', '.join(TASK_FIELDS)} FROM task_status WHERE task_id = ?", [task_id]).fetchone()
    if row is None:
        return None
    return document_of_task(dict(zip(TASK_FIELDS, row, strict=True)), history_of(db, "task", task_id))


def document_of_task(fields: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The `task show` document from a task's fields (as the status read model keeps them) and history rows; who
    acknowledged its current crisis, and when (None when nobody has)."""
    return {
        "task_id": fields["task_id"],
        "agent_id": fields["agent_id"],
        "level": fields["level"],
        "emergency": bool(fields["emergency"]),
        "status": fields["status"],
        "deadline": fields["deadline"],
        "acknowledged_by": fields["acknowledged_by"],
        "acknowledged_at": fields["acknowledged_at"],
        "history": history_entries(history),
    }


def agent_document(db: ReadModels, agent_id: str) -> dict[str, Any] | None:
    """The `agent show` document of `agent_id` (None when no alert named it), with its open tasks and history."""
    row = db.execute(f"SELECT {', '.join(AGENT_FIELDS)} FROM agent_status WHERE agent_id = ?", [agent_id]).fetchone()
    if row is None:
        return None
    fields = dict(zip(AGENT_FIELDS, row, strict=True))
    return {
        "agent_id": fields["agent_id"],
        "level": fields["level"],
        "emergency": bool(fields["emergency"]),
        "responsive": bool(fields["responsive"]),
        "last_activity": fields["last_activity"],
        "tasks": open_tasks_of(db, agent_id),
        "history": history_entries(history_of(db, "agent", agent_id)),
    }


def history_entries(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """History read-model rows as `task show` and `agent show` print them."""
    return [{"at": row["at"], "from": row["from_level"], "to": row["to_level"], "emergency": bool(row["emergency"]),
             "reason": row["reason"]} for row in rows]
