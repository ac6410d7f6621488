"""DEADLINE_WARNING: a task's deadline is near; the newest warning sets the deadline it implies."""

from __future__ import annotations

from typing import Any

from domain import responses
from domain.alert_types.kind import AlertKind, Facts
from domain.alerts import Alert, AlertType
from domain.moments import shift, shift_back
from domain.responses import Ask, Policy, TaskContext


def facts(task: Any, alert: Alert, found: Facts, takes_over: bool) -> None:
    """The deadline and warning time it implies (an older warning than the last changes neither); with no
    assignment seen, the warning marks the 50 % point."""
    if alert.time_remaining is None:
        return
    if task.warned_at is None or alert.timestamp >= task.warned_at:
        found["deadline"] = shift(alert.timestamp, alert.time_remaining)
        found["warned_at"] = alert.timestamp
    if task.start is None:
        found["start"] = shift_back(alert.timestamp, alert.time_remaining)


def asks(task: Any, event: Any, context: TaskContext, policy: Policy) -> list[Ask]:
    """The agent and the PM are told, when this warning is the one that set the deadline."""
    if task.warned_at == event.alert_at and task.deadline is not None:
        return responses.deadline_warning(context, task.deadline - event.alert_at, policy)
    return []


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"task_id": task, "agent_id": agent, "time_remaining": "30 minutes"}


KIND = AlertKind(AlertType.DEADLINE_WARNING, "task", sample, facts=facts, asks=asks)
