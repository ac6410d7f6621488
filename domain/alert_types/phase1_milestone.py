"""PHASE1_MILESTONE: a milestone's status, tracked as task `milestone:<name>`: failing → ORANGE, done → resolved."""

from __future__ import annotations

from typing import Any

from domain import responses
from domain.alert_types.kind import AlertKind, Facts
from domain.alerts import Alert, AlertType
from domain.responses import Ask, Policy, TaskContext

FAILING = frozenset({"failing", "failed", "blocked", "red"})
DONE = frozenset({"passing", "passed", "complete", "completed", "done", "green"})


def failing(alert: Alert) -> bool:
    """Its status says the milestone is failing (a failing milestone reopens a completed one)."""
    return (alert.milestone_status or "").lower() in FAILING


def done(alert: Alert) -> bool:
    """Its status says the milestone is reached."""
    return (alert.milestone_status or "").lower() in DONE


def facts(task: Any, alert: Alert, found: Facts, takes_over: bool) -> None:
    found["milestone_failing"] = failing(alert)


def asks(task: Any, event: Any, context: TaskContext, policy: Policy) -> list[Ask]:
    """The PM hears of a failing milestone and what blocks it."""
    if not task.milestone_failing:
        return []
    alert: dict[str, Any] = event.alert
    blocking = alert.get("blocking_issues") or []
    issues = [str(item) for item in blocking] if isinstance(blocking, list) else [str(blocking)]
    return responses.milestone_failing(str(alert.get("milestone", task.task_id)), event.agent_id, issues, policy)


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"milestone": task, "status": "failing", "blocking_issues": ["synthetic test event"],
            "assigned_agent": agent}


KIND = AlertKind(AlertType.PHASE1_MILESTONE, "task", sample, facts=facts, reopens=failing, completes=done, asks=asks)
