"""Shared builders for the Task aggregate unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.agent import Agent
from domain.alerts import Alert, AlertType
from domain.rules import AgentView
from domain.stages import Stage
from domain.task import Task

TASK = "task-42"
MILESTONE = "milestone:phase-1"


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 3, 1, hour, minute, second, micro, tzinfo=UTC)


def alert(kind: AlertType, when: datetime, task_id: str = TASK, **fields: Any) -> Alert:
    return Alert(kind, when, f"{kind.value}@{when.isoformat()}", {}, task_id=task_id, **fields)


def assigned(when: datetime, agent: str = "ada", deadline: datetime | None = None) -> Alert:
    return alert(AlertType.TASK_ASSIGNED, when, agent_id=agent, deadline=deadline)


def crisis(when: datetime, level: Stage, agent: str = "ada") -> Alert:
    return alert(AlertType.COORDINATION_CRISIS, when, agent_id=agent, crisis_stage=level)


def warning(when: datetime, remaining: timedelta, agent: str = "ada") -> Alert:
    return alert(AlertType.DEADLINE_WARNING, when, agent_id=agent, time_remaining=remaining)


def reassigned(when: datetime, new: str, old: str = "ada") -> Alert:
    return alert(AlertType.TASK_REASSIGNMENT, when, agent_id=new, old_agent=old)


def completed(when: datetime) -> Alert:
    return alert(AlertType.TASK_COMPLETED, when)


def milestone(when: datetime, status: str, agent: str = "ada") -> Alert:
    return alert(AlertType.PHASE1_MILESTONE, when, task_id=MILESTONE, agent_id=agent, milestone_status=status)


def responsive(agent: str = "ada") -> AgentView:
    return AgentView(agent, False, None)


def feed(task: Task, *alerts: Alert, agent: AgentView | None = None) -> Task:
    """Apply alerts whose agent (if any) is responsive, or as `agent` says."""
    for item in alerts:
        view = agent if agent is not None else (responsive(item.agent_id) if item.agent_id else None)
        before = agent if agent is not None else (responsive(task.agent_id) if task.agent_id else None)
        task.receive(item, before, view)
    return task


def new_task(*alerts: Alert, task_id: str = TASK) -> Task:
    return feed(Task.register(task_id), *alerts)


def moves(task: Task) -> list[tuple[datetime, str, bool]]:
    """The history as (instant, level moved to, emergency)."""
    return [(entry["at"], entry["to"], entry["emergency"]) for entry in task.history]


def level(task: Task) -> tuple[str, bool]:
    return task.stage.level, task.stage.emergency


def replay(events: list[Any]) -> Any:
    copy = None
    for event in events:
        copy = event.mutate(copy)
    return copy


def instants_never_run_backwards(task: Task) -> bool:
    instants = [entry["at"] for entry in task.history]
    return instants == sorted(instants)


def flag(agent: Agent, task: Task, when: datetime, last_activity: datetime, fingerprint: str = "flag") -> None:
    """Flag `agent` unresponsive at `when`, then let `task` reconsider, as the coordinator does."""
    before = agent.view()
    agent.mark_unresponsive(when, last_activity, fingerprint, {})
    task.reconsider(when, before, agent.view())


def heartbeat(agent: Agent, task: Task, when: datetime) -> None:
    """Record `agent` active at `when`, then let `task` reconsider, as the coordinator does."""
    before = agent.view()
    agent.see_activity(when, "heartbeat")
    task.reconsider(when, before, agent.view())
