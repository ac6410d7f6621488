"""TASK_ASSIGNED: a task was given to an agent, perhaps with a deadline; it starts the task's clock (and reopens a
completed task)."""

from __future__ import annotations

from typing import Any

from domain.alert_types.kind import AlertKind, Facts
from domain.alerts import Alert, AlertType


def facts(task: Any, alert: Alert, found: Facts, takes_over: bool) -> None:
    found["start"] = alert.timestamp
    if alert.deadline is not None:
        found["deadline"] = alert.deadline


def always(alert: Alert) -> bool:
    return True


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"task_id": task, "agent_id": agent}


KIND = AlertKind(AlertType.TASK_ASSIGNED, "task", sample, shows_activity=True, facts=facts, reopens=always)
