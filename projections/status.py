"""Task and agent status read models, kept up to date from the event store's notification log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from domain.agent import Agent
from domain.escalation import Escalating
from domain.task import Task
from projections.runner import Projection

Row = dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as every command prints times."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StatusProjection(Projection):
    """`task_status` and `agent_status`: one row per task and per agent, as they stand now."""

    name = "status"
    version = 2
    tables = ("task_status", "agent_status")

    def create_tables(self, db: sqlite_utils.Database) -> None:
        db["task_status"].create(  # type: ignore[union-attr]
            {
                "id": str, "task_id": str, "agent_id": str, "level": str, "emergency": int,
                "status": str, "deadline": str, "updated_at": str,
            },
            pk="id",
            if_not_exists=True,
        )
        db["task_status"].create_index(["task_id"], unique=True, if_not_exists=True)  # type: ignore[union-attr]
        db["task_status"].create_index(["agent_id", "status"], if_not_exists=True)  # type: ignore[union-attr]
        db["task_status"].create_index(["level"], if_not_exists=True)  # type: ignore[union-attr]
        db["agent_status"].create(  # type: ignore[union-attr]
            {
                "id": str, "agent_id": str, "level": str, "emergency": int, "responsive": int,
                "last_activity": str, "updated_at": str,
            },
            pk="id",
            if_not_exists=True,
        )
        db["agent_status"].create_index(["agent_id"], unique=True, if_not_exists=True)  # type: ignore[union-attr]

    def apply(self, db: sqlite_utils.Database, events: Sequence[Any]) -> None:
        rows: dict[str, tuple[str, Row]] = {}
        wanted = {event.originator_id.hex for event in events}
        for table in self.tables:
            for row in _rows_by_id(db, table, wanted):
                rows[row["id"]] = (table, row)
        for event in events:
            handler = handler_for(type(event))
            if handler is not None:
                handler(event, rows)
        for table in self.tables:
            changed = [row for name, row in rows.values() if name == table]
            if changed:
                db[table].upsert_all(changed, pk="id")  # type: ignore[union-attr]


def _rows_by_id(db: sqlite_utils.Database, table: str, ids: set[str]) -> list[Row]:
    found: list[Row] = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.extend(db[table].rows_where(f"id IN ({','.join('?' * len(chunk))})", chunk))
    return found


def _task_registered(event: Task.Registered, rows: dict[str, tuple[str, Row]]) -> None:
    rows[event.originator_id.hex] = (
        "task_status",
        {
            "id": event.originator_id.hex, "task_id": event.task_id, "agent_id": None, "level": "GREEN",
            "emergency": 0, "status": "open", "deadline": None, "updated_at": _iso(event.timestamp),
        },
    )


def _agent_registered(event: Agent.Registered, rows: dict[str, tuple[str, Row]]) -> None:
    rows[event.originator_id.hex] = (
        "agent_status",
        {
            "id": event.originator_id.hex, "agent_id": event.agent_id, "level": "GREEN", "emergency": 0,
            "responsive": 1, "last_activity": None, "updated_at": _iso(event.timestamp),
        },
    )


def _alert_received(event: Task.AlertReceived, rows: dict[str, tuple[str, Row]]) -> None:
    row = rows[event.originator_id.hex][1]
    row.update(agent_id=event.agent_id, deadline=_iso(event.deadline), updated_at=_iso(event.at))


def _moved(event: Escalating.Escalated, rows: dict[str, tuple[str, Row]]) -> None:
    row = rows[event.originator_id.hex][1]
    row.update(level=event.to_stage.level, emergency=int(event.to_stage.emergency), updated_at=_iso(event.at))


def _resolved(event: Task.Resolved, rows: dict[str, tuple[str, Row]]) -> None:
    row = rows[event.originator_id.hex][1]
    row.update(level="GREEN", emergency=0, status="completed", updated_at=_iso(event.at))


def _reopened(event: Task.Reopened, rows: dict[str, tuple[str, Row]]) -> None:
    rows[event.originator_id.hex][1].update(status="open", updated_at=_iso(event.at))


def _marked_unresponsive(event: Agent.MarkedUnresponsive, rows: dict[str, tuple[str, Row]]) -> None:
    row = rows[event.originator_id.hex][1]
    row.update(responsive=0, last_activity=_iso(event.last_activity), updated_at=_iso(event.at))


def _activity_seen(event: Agent.ActivitySeen, rows: dict[str, tuple[str, Row]]) -> None:
    row = rows[event.originator_id.hex][1]
    row.update(responsive=1, last_activity=_iso(event.at), updated_at=_iso(event.at))


_HANDLERS: dict[type, Callable[[Any, dict[str, tuple[str, Row]]], None]] = {
    Task.Registered: _task_registered,
    Agent.Registered: _agent_registered,
    Task.AlertReceived: _alert_received,
    Escalating.Escalated: _moved,
    Escalating.DeEscalated: _moved,
    Task.Resolved: _resolved,
    Task.Reopened: _reopened,
    Agent.MarkedUnresponsive: _marked_unresponsive,
    Agent.ActivitySeen: _activity_seen,
}


def handler_for(event_type: type) -> Callable[[Any, dict[str, tuple[str, Row]]], None] | None:
    """The handler for an event class, found along its bases (aggregates subclass inherited events)."""
    for base in event_type.__mro__:
        handler = _HANDLERS.get(base)
        if handler is not None:
            return handler
    return None
