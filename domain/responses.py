"""The response procedures: who is told what when a task or agent changes level or an alert arrives.

Pure functions: they decide the messages; the coordinator records them as events and an outbox
delivers them, so replaying history never sends anything again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.notifications import PRIORITY, STANDARD, URGENT
from domain.rules import describe_duration
from domain.stages import Stage

SLA_SECONDS = {"YELLOW": 60.0, "ORANGE": 30.0, "RED": 10.0, "EMERGENCY": 10.0}
"""How soon a notification should be delivered after it was requested, by the level of what it is about (the seed's
monitoring intervals: YELLOW 1 min, ORANGE 30 s, RED 10 s)."""
HANDOVER_HISTORY_KEPT = 5
TASKS_LISTED = 10


@dataclass(frozen=True, slots=True)
class Policy:
    """How the coordinator responds (from configuration)."""

    pm_agent: str = "pm-agent"
    repeat_interval: timedelta = timedelta(minutes=15)
    auto_reassign: bool = True
    backup_pool: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ask:
    """A notification decided, before it gets its idempotency key."""

    recipient: str
    priority: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a task's responses mention."""

    task_id: str
    agent_id: str | None
    time_left: timedelta | None = None
    history: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    recent_alerts: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    @property
    def agent(self) -> str:
        return self.agent_id or "no agent"

    @property
    def time_text(self) -> str:
        """`time left: 12m 30s`, `deadline passed 5m 00s ago`, or `no deadline known`."""
        if self.time_left is None:
            return "no deadline known"
        if self.time_left > -timedelta(seconds=1) and self.time_left <= timedelta(0):
            return "deadline reached"
        if self.time_left <= timedelta(0):
            return f"deadline passed {describe_duration(self.time_left)} ago"
        return f"time left: {describe_duration(self.time_left)}"


def level_text(stage: Stage) -> str:
    """`RED (EMERGENCY)`, `ORANGE`, ..."""
    return "RED (EMERGENCY)" if stage.emergency else stage.level


def handover(context: TaskContext) -> str:
    """The task's escalation history and last alerts, for the agent taking it over."""
    moves = [
        f"{_when(entry['at'])} {entry['from']}→{entry['to']}{' EMERGENCY' if entry['emergency'] else ''}: "
        f"{entry['reason']}"
        for entry in list(context.history)[-HANDOVER_HISTORY_KEPT:]
    ]
    alerts = [
        f"{alert.get('type', '?')} at {alert.get('timestamp', '?')}"
        for alert in list(context.recent_alerts)[-HANDOVER_HISTORY_KEPT:]
    ]
    return (
        f"Handover for {context.task_id}: history: {'; '.join(moves) or 'none'}. "
        f"Last alerts: {'; '.join(alerts) or 'none'}."
    )


def task_entered(context: TaskContext, stage: Stage, reason: str, policy: Policy) -> list[Ask]:
    """A task entered YELLOW, ORANGE or RED (EMERGENCY has its own protocol)."""
    what = f"{context.task_id} (agent {context.agent}) is {level_text(stage)}: {reason}; {context.time_text}"
    asks: list[Ask] = []
    if stage is Stage.YELLOW:
        asks.append(Ask(policy.pm_agent, STANDARD, "escalation", f"[COORDINATION] {what}."))
        if context.agent_id:
            asks.append(Ask(context.agent_id, STANDARD, "reminder",
                            f"[REMINDER] A gentle reminder about {context.task_id}: {reason}; {context.time_text}."))
    elif stage is Stage.ORANGE:
        asks.append(Ask(policy.pm_agent, PRIORITY, "escalation", f"[PRIORITY] {what}. Monitoring increased."))
        if context.agent_id:
            asks.append(Ask(context.agent_id, PRIORITY, "reminder",
                            f"⏰ [REMINDER] {context.task_id} is ORANGE, {context.time_text}: make it your priority "
                            f"({reason})."))
    elif stage is Stage.RED:
        asks.append(Ask(policy.pm_agent, URGENT, "crisis", f"🚨 URGENT: Coordination crisis for {what}."))
        if context.agent_id:
            asks.append(Ask(context.agent_id, URGENT, "ping",
                            f"🚨 [CRISIS] {context.task_id} is RED: {reason}; {context.time_text}. "
                            "Reply with your status now."))
    return asks


def emergency_protocol(
    context: TaskContext, reason: str, backup: str | None, reassigning: bool, policy: Policy
) -> list[Ask]:
    """The emergency reassignment protocol: PM, the backup agent (with handover) and the old agent."""
    header = f"🚨 EMERGENCY: {context.task_id} (agent {context.agent}) is RED (EMERGENCY): {reason}"
    if not reason.startswith("deadline"):
        header += f"; {context.time_text}"
    if backup is None:
        return [Ask(policy.pm_agent, URGENT, "emergency",
                    f"{header}. No responsive backup agent is available: reassign it by hand.")]
    if not reassigning:
        return [Ask(policy.pm_agent, URGENT, "emergency", f"{header}. Recommended backup agent: {backup}.")]
    asks = [
        Ask(policy.pm_agent, URGENT, "emergency", f"{header}. Reassigned to {backup}."),
        Ask(backup, URGENT, "assignment",
            f"🚨 [ASSIGNMENT] You now own {context.task_id} (emergency reassignment from {context.agent}: {reason}). "
            f"{handover(context)}"),
    ]
    if context.agent_id:
        asks.append(Ask(context.agent_id, PRIORITY, "status_check",
                        f"[STATUS CHECK] {context.task_id} was reassigned to {backup} ({reason}). "
                        "Please report your status."))
    return asks


def agent_entered(agent_id: str, stage: Stage, reason: str, open_tasks: Sequence[str], policy: Policy) -> list[Ask]:
    """An agent's silence reached a new level; its tasks are listed so that one message covers them all."""
    tasks = _task_list(open_tasks)
    what = f"agent {agent_id} is {level_text(stage)}: {reason}; open tasks: {tasks}"
    if stage is Stage.YELLOW:
        return [Ask(policy.pm_agent, STANDARD, "agent_escalation", f"[COORDINATION] {what}.")]
    if stage is Stage.ORANGE:
        return [Ask(policy.pm_agent, PRIORITY, "agent_escalation", f"[PRIORITY] {what}. Monitoring increased.")]
    if stage is Stage.RED:
        return [
            Ask(policy.pm_agent, URGENT, "agent_crisis", f"🚨 URGENT: {what}."),
            Ask(agent_id, URGENT, "ping", f"🚨 [CRISIS] You have been silent: {reason}. Reply with your status now."),
        ]
    if stage is Stage.EMERGENCY:
        return [Ask(policy.pm_agent, URGENT, "agent_emergency",
                    f"🚨 EMERGENCY: {what}. Its tasks go through the emergency reassignment protocol.")]
    return []


def agent_unresponsive(agent_id: str, reason: str, open_tasks: Sequence[str], policy: Policy) -> list[Ask]:
    """AGENT_UNRESPONSIVE: health-check ping, PM told, reassignment considered."""
    return [
        Ask(agent_id, PRIORITY, "health_check", f"[HEALTH CHECK] {agent_id}, please respond: {reason}."),
        Ask(policy.pm_agent, PRIORITY, "unresponsive",
            f"[COORDINATION] Agent {agent_id} is unresponsive ({reason}); open tasks: {_task_list(open_tasks)}. "
            "Consider reassigning its work."),
    ]


def deadline_warning(context: TaskContext, remaining: timedelta, policy: Policy) -> list[Ask]:
    """DEADLINE_WARNING: ⏰ to PM with a priority-boost recommendation; reminder and status request to the agent."""
    left = describe_duration(remaining)
    asks = [Ask(policy.pm_agent, PRIORITY, "deadline_warning",
                f"⏰ [COORDINATION] Deadline approaching for {context.task_id} (agent {context.agent}): {left} left. "
                "Recommend boosting its priority.")]
    if context.agent_id:
        asks.append(Ask(context.agent_id, PRIORITY, "reminder",
                        f"[REMINDER] Task {context.task_id} deadline in {left}. "
                        "Please reply with its completion status."))
    return asks


def reassigned(context: TaskContext, old_agent: str | None, new_agent: str, reason: str, policy: Policy) -> list[Ask]:
    """TASK_REASSIGNMENT: PM told, new agent gets the handover, old agent a status check."""
    asks = [
        Ask(policy.pm_agent, STANDARD, "reassignment",
            f"[COORDINATION] {context.task_id} reassigned from {old_agent or 'no agent'} to {new_agent}: {reason}."),
        Ask(new_agent, PRIORITY, "assignment",
            f"[ASSIGNMENT] You now own {context.task_id} (from {old_agent or 'no agent'}: {reason}). "
            f"{handover(context)}"),
    ]
    if old_agent and old_agent != new_agent:
        asks.append(Ask(old_agent, STANDARD, "status_check",
                        f"[STATUS CHECK] {context.task_id} was reassigned to {new_agent} ({reason}). "
                        "Please report your status."))
    return asks


def milestone_failing(milestone: str, agent_id: str | None, blocking: Sequence[str], policy: Policy) -> list[Ask]:
    """PHASE1_MILESTONE failing: the assigned agent and PM, with the blocking issues."""
    issues = "; ".join(blocking) or "none listed"
    message = f"[MILESTONE] {milestone} is failing (agent {agent_id or 'none'}). Blocking issues: {issues}."
    asks = [Ask(policy.pm_agent, PRIORITY, "milestone", message)]
    if agent_id:
        asks.append(Ask(agent_id, PRIORITY, "milestone", message))
    return asks


def still_red(context: TaskContext, stage: Stage, reason: str, since: datetime, now: datetime, policy: Policy) -> Ask:
    """The repeat notification for a task still RED and unacknowledged."""
    return Ask(policy.pm_agent, URGENT, "repeat",
               f"🚨 URGENT (repeat): {context.task_id} (agent {context.agent}) is still {level_text(stage)} after "
               f"{describe_duration(now - since)}, unacknowledged: {reason}; {context.time_text}. "
               f"Acknowledge with: coordinator ack {context.task_id}")


def _task_list(task_ids: Sequence[str]) -> str:
    if not task_ids:
        return "none"
    shown = ", ".join(task_ids[:TASKS_LISTED])
    more = len(task_ids) - TASKS_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(moment, datetime) else str(moment)
