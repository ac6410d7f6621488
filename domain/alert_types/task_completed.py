"""TASK_COMPLETED: a task is done (GREEN, status completed)."""

from __future__ import annotations

from domain.alert_types.kind import AlertKind
from domain.alert_types.task_assigned import always
from domain.alerts import AlertType


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"task_id": task}


KIND = AlertKind(AlertType.TASK_COMPLETED, "task", sample, completes=always)
