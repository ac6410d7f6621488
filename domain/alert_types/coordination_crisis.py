"""COORDINATION_CRISIS: a task's coordination is in trouble, at an escalation level; the highest since the last
clear holds the task at least there."""

from __future__ import annotations

from typing import Any

from domain.alert_types.kind import AlertKind, Facts
from domain.alerts import Alert, AlertType
from domain.stages import Stage


def facts(task: Any, alert: Alert, found: Facts, takes_over: bool) -> None:
    """Crisis facts after the alert (older news than the last clear, or than the crisis recorded, changes nothing)."""
    moment, stage = alert.timestamp, alert.crisis_stage
    if stage is None or (task.crisis_floor is not None and moment < task.crisis_floor):
        return
    if stage is Stage.GREEN:
        if task.crisis_at is None or moment >= task.crisis_at:
            found.update(crisis=None, crisis_note=None, crisis_floor=moment)
        return
    latest = moment if task.crisis_at is None else max(moment, task.crisis_at)
    if task.crisis is None or stage.rank >= task.crisis.rank:
        found.update(crisis=stage, crisis_note=alert.note, crisis_at=latest)
    else:
        found.update(crisis_at=latest)


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"task_id": task, "agent_id": agent, "escalation_level": "red", "description": "synthetic test event"}


KIND = AlertKind(AlertType.COORDINATION_CRISIS, "task", sample, facts=facts)
