"""TASK_REASSIGNMENT: a task moved from one agent to another; the new agent's arrival clears the crisis rule."""

from __future__ import annotations

from typing import Any

from domain import responses
from domain.alert_types.kind import AlertKind, Facts
from domain.alerts import Alert, AlertType
from domain.responses import Ask, Policy, TaskContext


def facts(task: Any, alert: Alert, found: Facts, takes_over: bool) -> None:
    if takes_over:
        found.update(crisis=None, crisis_note=None, crisis_floor=alert.timestamp)


def asks(task: Any, event: Any, context: TaskContext, policy: Policy) -> list[Ask]:
    """Both agents and the PM are told, when the alert put its new agent in charge."""
    alert: dict[str, Any] = event.alert
    if not event.agent_id or event.agent_id != alert.get("new_agent"):
        return []
    old = alert.get("old_agent")
    reason = str(alert.get("reason") or "no reason given")
    return responses.reassigned(context, old if isinstance(old, str) else None, event.agent_id, reason, policy)


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"task_id": task, "old_agent": agent, "new_agent": f"{agent}-backup", "reason": "synthetic test event"}


KIND = AlertKind(AlertType.TASK_REASSIGNMENT, "task", sample, shows_activity=True, facts=facts, asks=asks)
