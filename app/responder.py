"""The response engine: reacts to what a command just recorded by requesting notifications.

After each command on a task or agent, the coordinator hands the responder the events that
command recorded. The responder decides the response procedures (see `domain.responses`),
records them on the same aggregate as `NotificationsRequested` events and queues them in the
outbox, all in the same transaction as the events that caused them. Replay applies those
events without deciding anything, so nothing is ever sent twice because of a replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.ledger import OutboxEntry
from app.workspace import Workspace
from domain import responses, rules
from domain.agent import Agent
from domain.alert_types.registry import KINDS
from domain.alerts import AlertType
from domain.escalation import Escalating
from domain.moments import later
from domain.notifications import PRIORITIES, URGENT, NotificationKey
from domain.responses import Ask, Policy, TaskContext
from domain.rules import describe_duration
from domain.stages import Stage
from domain.task import Task

_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
_URGENT_KINDS = frozenset({"crisis", "emergency", "repeat"})
Told = dict[tuple[str, datetime], int]
"""How urgently each recipient was already told, per instant, by the command being responded to."""


class Responder:
    """Decides and records the notifications each recorded change calls for."""

    def __init__(self, workspace: Workspace, policy: Policy) -> None:
        self.workspace = workspace
        self.policy = policy

    # Tasks ---------------------------------------------------------------------------------------

    def after_task(self, task: Task, seen: int) -> None:
        """Respond to the events `task` recorded since it had `seen` pending events."""
        told: Told = {}
        for event in list(task.pending_events[seen:]):
            if isinstance(event, Task.AlertReceived):
                self._request(task, event.at, self._alert_asks(task, event), told)
            elif isinstance(event, Escalating.Escalated) and not isinstance(event, Escalating.DeEscalated):
                self._respond_to_escalation(task, event, told)

    def repeat_due(self, aggregate: Escalating) -> datetime | None:
        """When the PM is next reminded of a task still RED and unacknowledged."""
        if not isinstance(aggregate, Task) or not aggregate.in_crisis or aggregate.acknowledged_by is not None:
            return None
        if aggregate.pm_alerted_at is None:
            return None
        return later(aggregate.pm_alerted_at, self.policy.repeat_interval)

    def repeat(self, task: Task, now: datetime) -> None:
        """Remind the PM of a task still RED and unacknowledged, once its repeat interval has passed."""
        due = self.repeat_due(task)
        if due is None or due > now or task.pm_alerted_at is None:
            return
        at = task.clamp(now)
        reason = task.history[-1]["reason"] if task.history else "still in crisis"
        since = next(
            (entry["at"] for entry in reversed(task.history) if entry["to"] == "RED" and entry["from"] != "RED"),
            task.pm_alerted_at,
        )
        ask = responses.still_red(self._context(task, at), task.stage, reason, since, at, self.policy)
        self._request(task, at, [ask], {})

    def _respond_to_escalation(self, task: Task, event: Escalating.Escalated, told: Told) -> None:
        to_stage: Stage = event.to_stage
        if to_stage is Stage.EMERGENCY:
            self._emergency(task, event, told)
        elif event.rule == rules.SILENCE:
            return  # the agent's own notifications name all its tasks: one message, not one per task
        elif to_stage.level != event.from_stage.level:
            asks = responses.task_entered(self._context(task, event.at), to_stage, event.reason, self.policy)
            self._request(task, event.at, asks, told)

    def _emergency(self, task: Task, event: Escalating.Escalated, told: Told) -> None:
        context = self._context(task, event.at)
        backup = self._backup_for(task)
        reassigning = backup is not None and self.policy.auto_reassign
        asks = responses.emergency_protocol(context, event.reason, backup, reassigning, self.policy)
        self._request(task, event.at, asks, told)
        if reassigning and backup is not None:
            reason = f"emergency reassignment: {event.reason}"
            task.reassign(backup, event.at, reason, self.workspace.view(backup))

    def _alert_asks(self, task: Task, event: Task.AlertReceived) -> list[Ask]:
        """What the alert's own type asks to be told when it arrives (see `domain.alert_types`)."""
        return KINDS[AlertType(event.alert_type)].asks(task, event, self._context(task, event.at), self.policy)

    def _context(self, task: Task, at: datetime) -> TaskContext:
        return TaskContext(task.task_id, task.agent_id, task.time_left(at), task.history, task.recent_alerts)

    def _backup_for(self, task: Task) -> str | None:
        """A responsive agent other than the task's, with the fewest open tasks (ties by name)."""
        load = self.workspace.open_load()
        candidates = set(load) | set(self.policy.backup_pool)
        for agent_id in sorted(candidates, key=lambda name: (load.get(name, 0), name)):
            if agent_id == task.agent_id:
                continue
            agent = self.workspace.known_agent(agent_id)
            if agent is None or not agent.unresponsive:
                return agent_id
        return None

    # Agents --------------------------------------------------------------------------------------

    def after_agent(self, agent: Agent, seen: int) -> None:
        """Respond to the events `agent` recorded since it had `seen` pending events."""
        told: Told = {}
        for event in list(agent.pending_events[seen:]):
            if isinstance(event, Agent.MarkedUnresponsive):
                reason = (
                    f"silent for {describe_duration(event.at - event.last_activity)}"
                    if event.last_activity is not None else "last activity unknown"
                )
                asks = responses.agent_unresponsive(agent.agent_id, reason, self._open_tasks(agent), self.policy)
                self._request(agent, event.at, asks, told)
            elif _entered_new_level(event) and (held := self._open_tasks(agent)):
                # An agent's level is how long it has been silent while flagged; it is told about only while the
                # agent holds open work: with none, nothing is at stake and nobody is woken for it.
                assert isinstance(event, Escalating.Escalated)
                asks = responses.agent_entered(agent.agent_id, event.to_stage, event.reason, held, self.policy)
                self._request(agent, event.at, asks, told)

    def _open_tasks(self, agent: Agent) -> list[str]:
        return self.workspace.open_tasks_of(agent.agent_id)

    # Recording -----------------------------------------------------------------------------------

    def _request(self, aggregate: Escalating, at: datetime, asks: Sequence[Ask], told: Told) -> None:
        """Record `asks` (skipping anyone this command already told as urgently at `at`) and queue them."""
        fresh = [ask for ask in asks if told.get((ask.recipient, at), -1) < _RANK[ask.priority]]
        if not fresh:
            return
        for ask in fresh:
            told[(ask.recipient, at)] = _RANK[ask.priority]
        subject_kind, subject = _subject(aggregate)
        number = aggregate.requests + 1  # counts decisions only, so keys never depend on when deliveries happened
        notifications = [
            {"key": str(NotificationKey(subject_kind, subject, number, index)), "recipient": ask.recipient,
             "priority": ask.priority, "kind": ask.kind, "message": ask.message}
            for index, ask in enumerate(fresh)
        ]
        urgent = any(ask.priority == URGENT and ask.kind in _URGENT_KINDS for ask in fresh)
        aggregate.request_notifications(at, notifications, urgent)
        origin = (aggregate.id.hex, aggregate.version)  # the event just recorded keeps the text
        self.workspace.batch.outbox.extend(
            OutboxEntry(n["key"], subject_kind, subject, n["recipient"], n["priority"], n["kind"], n["message"], at,
                        origin, index)
            for index, n in enumerate(notifications)
        )


def _entered_new_level(event: object) -> bool:
    """An escalation (not a de-escalation) to another level, or to EMERGENCY."""
    if not isinstance(event, Escalating.Escalated) or isinstance(event, Escalating.DeEscalated):
        return False
    return event.to_stage.level != event.from_stage.level or event.to_stage is Stage.EMERGENCY


def _subject(aggregate: Escalating) -> tuple[str, str]:
    if isinstance(aggregate, Task):
        return "task", aggregate.task_id
    if isinstance(aggregate, Agent):
        return "agent", aggregate.agent_id
    raise TypeError(f"no notifications for {type(aggregate).__name__}")
