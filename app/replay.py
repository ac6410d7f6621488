"""Replaying a task's events up to a moment: what it was then, and how it got there."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from app.failures import UnknownTask
from domain.task import Task


def task_as_of(events: Iterable[Any], task_id: str, moment: datetime) -> tuple[Task, list[dict[str, Any]]]:
    """The task `events` (its whole stream, oldest first) make of it up to `moment`, and its history of stage changes
    up to then (UnknownTask if no alert had named it by then)."""
    task: Any = None
    history: list[dict[str, Any]] = []
    for event in events:
        at = getattr(event, "at", None)
        if at is not None and at > moment:
            break
        task = cast(Task.Event, event).mutate(task)
        if isinstance(event, Task.Escalated | Task.Resolved):
            history.append(task.history[-1])
    if not isinstance(task, Task) or not task.recent_alerts:
        raise UnknownTask(task_id)
    return task, history
