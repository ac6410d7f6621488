"""Task and agent status read models, kept up to date from the event store's notification log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from app.records import Record, aggregate_key, event_kind, state_of, utc_text
from domain.stages import Stage
from projections import versions
from projections.base import Projection
from projections.sliced import alert_fields
from projections.sql import upsert

if TYPE_CHECKING:
    import sqlite_utils

Row = dict[str, Any]


class StatusProjection(Projection):
    """`task_status` and `agent_status`: one row per task and per agent, as they stand now."""

    name = "status"
    version = versions.STATUS
    tables = ("task_status", "agent_status")

    def create_tables(self, db: sqlite_utils.Database) -> None:
        for statement in _SCHEMA:
            db.conn.execute(statement)

    def apply(self, db: sqlite_utils.Database, records: Sequence[Record]) -> None:
        handled = [(handler, aggregate_key(record), record) for record in records
                   if (handler := _HANDLERS.get(event_kind(record.topic))) is not None]
        rows: Rows = {}
        wanted = sorted({key for _, key, _ in handled})
        for table, columns in _COLUMNS.items():
            for row in _rows_by_id(db, table, columns, wanted):
                rows[row["id"]] = (table, row)
        for handler, key, record in handled:
            state = alert_fields(record) if handler is _alert_received else None
            handler(key, state or state_of(record), rows)
        for table, columns in _COLUMNS.items():
            changed = [tuple(row[column] for column in columns) for name, row in rows.values() if name == table]
            if changed:
                db.conn.executemany(upsert(table, columns, ("id",)), changed)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS task_status (id TEXT PRIMARY KEY, task_id TEXT, agent_id TEXT, level TEXT,"
    " emergency INTEGER, stage TEXT, status TEXT, deadline TEXT, acknowledged_by TEXT, acknowledged_at TEXT,"
    " updated_at TEXT)",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_task_status_task_id ON task_status (task_id)",
    "CREATE INDEX IF NOT EXISTS idx_task_status_agent_id_status ON task_status (agent_id, status)",
    "CREATE INDEX IF NOT EXISTS idx_task_status_level ON task_status (level)",
    "CREATE TABLE IF NOT EXISTS agent_status (id TEXT PRIMARY KEY, agent_id TEXT, level TEXT, emergency INTEGER,"
    " stage TEXT, responsive INTEGER, last_activity TEXT, updated_at TEXT)",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_agent_status_agent_id ON agent_status (agent_id)",
)
_COLUMNS = {
    "task_status": ("id", "task_id", "agent_id", "level", "emergency", "stage", "status", "deadline",
                    "acknowledged_by", "acknowledged_at", "updated_at"),
    "agent_status": ("id", "agent_id", "level", "emergency", "stage", "responsive", "last_activity", "updated_at"),
}


def _rows_by_id(db: sqlite_utils.Database, table: str, columns: tuple[str, ...], ids: list[str]) -> list[Row]:
    found: list[Row] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor = db.conn.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        found.extend(dict(zip(columns, values, strict=True)) for values in cursor.fetchall())
    return found


Rows = dict[str, tuple[str, Row]]


def _task_registered(key: str, state: Row, rows: Rows) -> None:
    rows[key] = (
        "task_status",
        {
            "id": key, "task_id": state["task_id"], "agent_id": None, "level": "GREEN", "emergency": 0,
            "stage": "GREEN", "status": "open", "deadline": None, "acknowledged_by": None, "acknowledged_at": None,
            "updated_at": utc_text(state["timestamp"]),
        },
    )


def _agent_registered(key: str, state: Row, rows: Rows) -> None:
    rows[key] = (
        "agent_status",
        {
            "id": key, "agent_id": state["agent_id"], "level": "GREEN", "emergency": 0, "stage": "GREEN",
            "responsive": 1, "last_activity": None, "updated_at": utc_text(state["timestamp"]),
        },
    )


def _alert_received(key: str, state: Row, rows: Rows) -> None:
    row = rows[key][1]
    row.update(agent_id=state["agent_id"], updated_at=utc_text(state["at"]))
    if "deadline" in state["changes"]:
        row.update(deadline=utc_text(state["changes"]["deadline"]))


def _reassigned(key: str, state: Row, rows: Rows) -> None:
    rows[key][1].update(agent_id=state["to_agent"], updated_at=utc_text(state["at"]))


def _moved(key: str, state: Row, rows: Rows) -> None:
    stage, before = Stage(state["to_stage"]), Stage(state["from_stage"])
    row = rows[key][1]
    row.update(level=stage.level, emergency=int(stage.emergency), stage=stage.value, updated_at=utc_text(state["at"]))
    if "acknowledged_by" in row and stage.rank >= Stage.RED.rank > before.rank:
        row.update(acknowledged_by=None, acknowledged_at=None)  # a new crisis is not acknowledged yet


def _resolved(key: str, state: Row, rows: Rows) -> None:
    rows[key][1].update(level="GREEN", emergency=0, stage="GREEN", status="completed",
                        updated_at=utc_text(state["at"]))


def _acknowledged(key: str, state: Row, rows: Rows) -> None:
    row = rows[key][1]
    if "acknowledged_by" in row:
        row.update(acknowledged_by=state["by"], acknowledged_at=utc_text(state["at"]))


def _reopened(key: str, state: Row, rows: Rows) -> None:
    rows[key][1].update(status="open", updated_at=utc_text(state["at"]))


def _marked_unresponsive(key: str, state: Row, rows: Rows) -> None:
    rows[key][1].update(
        responsive=0, last_activity=utc_text(state["last_activity"]), updated_at=utc_text(state["at"])
    )


def _activity_seen(key: str, state: Row, rows: Rows) -> None:
    at = utc_text(state["at"])
    rows[key][1].update(responsive=1, last_activity=at, updated_at=at)


_HANDLERS: dict[str, Callable[[str, Row, Rows], None]] = {
    "Task.Registered": _task_registered,
    "Agent.Registered": _agent_registered,
    "Task.AlertReceived": _alert_received,
    "Task.Escalated": _moved,
    "Task.DeEscalated": _moved,
    "Agent.Escalated": _moved,
    "Agent.DeEscalated": _moved,
    "Task.Resolved": _resolved,
    "Task.Reopened": _reopened,
    "Task.Acknowledged": _acknowledged,
    "Task.Reassigned": _reassigned,
    "Agent.MarkedUnresponsive": _marked_unresponsive,
    "Agent.ActivitySeen": _activity_seen,
}
