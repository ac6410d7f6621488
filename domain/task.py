"""The Task aggregate: a unit of work with an agent, maybe a deadline, and an escalation stage."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypedDict

from eventsourcing.domain import Aggregate

from domain import rulebook, rules
from domain.alert_types.registry import kind_of
from domain.alerts import Alert
from domain.escalation import Escalating
from domain.ids import task_aggregate_id
from domain.rules import (
    AgentView,
    Demand,
    deadline_crossings,
    deadline_demand,
    higher,
    silence_crossings,
    silence_demand,
)
from domain.stages import Stage

RECENT_ALERTS_KEPT = 5
MILESTONE_FAILING_DEMAND = Demand(Stage.ORANGE, "milestone failing", rules.MILESTONE)


class TaskFacts(TypedDict, total=False):
    """The facts of a task that an alert can change; each is the `Task` attribute of the same name."""

    start: datetime | None
    deadline: datetime | None
    warned_at: datetime | None
    crisis: Stage | None
    crisis_note: str | None
    agent_since: datetime | None
    crisis_at: datetime | None
    crisis_floor: datetime | None
    milestone_failing: bool


FACTS = tuple(TaskFacts.__annotations__)
"""The names of the facts an alert can change, in the order events record them."""


class Task(Escalating):
    """A task (or Phase 1 milestone) the coordinator watches."""

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.agent_id: str | None = None
        self.start: datetime | None = None
        self.deadline: datetime | None = None
        self.warned_at: datetime | None = None
        self.crisis: Stage | None = None
        self.crisis_note: str | None = None
        self.agent_since: datetime | None = None
        self.crisis_at: datetime | None = None
        self.crisis_floor: datetime | None = None
        self.milestone_failing = False
        self.recent_alerts: list[dict[str, Any]] = []
        self.resolved_by: str | None = None
        self.resolution_note: str | None = None

    @property
    def status(self) -> str:
        """`open` or `completed`."""
        return "completed" if self.resolved else "open"

    @staticmethod
    def id_for(task_id: str) -> uuid.UUID:
        """The aggregate id of the task named `task_id`."""
        return task_aggregate_id(task_id)

    class Registered(Aggregate.Created):
        """The coordinator first heard of the task."""

        task_id: str

    @classmethod
    def register(cls, task_id: str) -> Task:
        """Start tracking the task named `task_id`."""
        return cls._create(cls.Registered, id=cls.id_for(task_id), task_id=task_id)

    class AlertReceived(Aggregate.Event):
        """An alert about the task was accepted: the alert itself, the agent in charge once it is applied, and the
        facts it changed (`changes`: only those; the rest stand as they were).

        Version 2 added `alert_at`, the alert's own time (`at` is when it was applied, never before the last
        recorded change); version 1 events take `at` for it. Version 3 records only the changed facts, where
        earlier versions recorded all of them on every alert. `fingerprint` is None when it is the digest of
        `alert` itself (events of every version written before that kept it always, and are read as they are).
        """

        class_version = 3

        at: datetime
        alert_at: datetime
        alert_type: str
        fingerprint: str | None
        alert: dict[str, Any]
        agent_id: str | None
        changes: TaskFacts

        def apply(self, task: Task) -> None:
            task.agent_id = self.agent_id
            for name, value in self.changes.items():
                setattr(task, name, value)
            task.evaluated_at = self.at
            task.recent_alerts = [*task.recent_alerts[1 - RECENT_ALERTS_KEPT :], self.alert]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["alert_at"] = state["at"]

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["changes"] = {name: state.pop(name) for name in FACTS if name in state}

    class Resolved(Aggregate.Event):
        """The task was completed (or the milestone passed) at `at`; version 2 added who and why (`by`, `note`)."""

        class_version = 2

        from_stage: Stage
        at: datetime
        reason: str
        by: str | None
        note: str | None

        def apply(self, task: Task) -> None:
            task.record_move(self.from_stage, Stage.GREEN, self.at, self.reason)
            task.resolved = True
            task.resolved_by = self.by
            task.resolution_note = self.note
            task.crisis = None
            task.crisis_note = None
            task.crisis_floor = self.at
            task.milestone_failing = False

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"] = None
            state["note"] = None

    class Reassigned(Aggregate.Event):
        """The coordinator moved the task to a backup agent (emergency reassignment protocol)."""

        at: datetime
        from_agent: str | None
        to_agent: str
        reason: str

        def apply(self, task: Task) -> None:
            task.agent_id = self.to_agent
            task.agent_since = self.at
            task.crisis = None
            task.crisis_note = None
            task.crisis_floor = self.at
            task.evaluated_at = self.at

    class Reopened(Aggregate.Event):
        """A completed task was assigned again at `at`."""

        at: datetime
        reason: str

        def apply(self, task: Task) -> None:
            task.resolved = False
            task.evaluated_at = self.at

    def receive(self, alert: Alert, agent_before: AgentView | None, agent_after: AgentView | None) -> None:
        """Apply an alert: settle crossings up to its time, record its facts, re-judge.

        `agent_before` is the current agent as it stands; `agent_after` is the agent the
        alert leaves in charge (they differ when the alert names another agent).
        """
        at = self.clamp(alert.timestamp)
        self.advance(at, agent_before)
        reopening = self.resolved and kind_of(alert).reopens(alert)
        if reopening:
            rulebook.check(rulebook.REOPEN, rulebook.RESOLVED, Stage.GREEN.value)
            self.trigger_event(self.Reopened, at=at, reason=f"{alert.type.value} on a completed task")
        self.trigger_event(self.AlertReceived, at=at, **self._received(alert, fresh=reopening))
        if kind_of(alert).completes(alert):
            self.resolve(at, f"{alert.type.value}: {alert.milestone_status or 'completed'}")
            return
        if not self.resolved:
            self.move_to(self.judge(self.judging_time(alert.timestamp, at), agent_after), at)

    def resolve(self, at: datetime, reason: str, by: str | None = None, note: str | None = None) -> None:
        """Close the task: GREEN, status completed."""
        if self.resolved:
            return
        rulebook.check(rulebook.RESOLVE, self.rulebook_state, rulebook.RESOLVED)
        self.trigger_event(self.Resolved, from_stage=self.stage, at=self.clamp(at), reason=reason, by=by, note=note)

    def reassign(self, to_agent: str, at: datetime, reason: str, agent: AgentView | None) -> None:
        """Hand the task to `to_agent` (whose view is `agent`) and re-judge it."""
        requested, at = at, self.clamp(at)
        self.trigger_event(self.Reassigned, at=at, from_agent=self.agent_id, to_agent=to_agent, reason=reason)
        if not self.resolved:
            self.move_to(self.judge(self.judging_time(requested, at), agent), at)

    def time_left(self, at: datetime) -> timedelta | None:
        """Time from `at` to the deadline (negative once passed), if a deadline is known."""
        return None if self.deadline is None else self.deadline - at

    def reconsider(self, at: datetime, agent_before: AgentView | None, agent_after: AgentView | None) -> bool:
        """Re-judge the task because its agent's status changed at `at`. Returns False if nothing could change."""
        requested, at = at, self.clamp(at)
        if self.pinned:
            return False
        self.advance(at, agent_before)
        if not self.resolved:
            self.move_to(self.judge(self.judging_time(requested, at), agent_after), at)
        return True

    @property
    def floor(self) -> Stage | None:
        """The level of the open coordination crisis, which no de-escalation may go below."""
        return None if self.resolved else self.crisis

    @property
    def pinned(self) -> bool:
        """True when recorded at EMERGENCY past its deadline: until new facts arrive, nothing can move it."""
        return (
            self.stage is Stage.EMERGENCY
            and not self.resolved
            and self.deadline is not None
            and self.evaluated_at is not None
            and self.evaluated_at >= self.deadline
        )

    def tick(self, now: datetime, agent: AgentView | None) -> None:
        """Record the crossings time alone has caused up to `now`."""
        now = self.clamp(now)
        self.advance(now, agent)

    def agent_after(self, alert: Alert) -> str | None:
        """The agent in charge once `alert` is applied: the one it names, unless older news than the current."""
        if alert.agent_id is None:
            return self.agent_id
        if self.agent_since is not None and alert.timestamp < self.agent_since:
            return self.agent_id
        return alert.agent_id

    def _received(self, alert: Alert, fresh: bool = False) -> dict[str, Any]:
        """The fields of the `AlertReceived` event recording `alert`: the facts it changes, computed so that late
        alerts never override newer facts.

        `fresh`: the alert reopens a completed task, so its old deadline no longer holds.
        """
        takes_over = self.agent_after(alert) == alert.agent_id and alert.agent_id is not None
        facts: dict[str, Any] = {
            "start": self.start,
            "deadline": None if fresh else self.deadline,
            "warned_at": None if fresh else self.warned_at,
            "crisis": self.crisis,
            "crisis_note": self.crisis_note,
            "agent_since": alert.timestamp if takes_over else self.agent_since,
            "crisis_at": self.crisis_at,
            "crisis_floor": self.crisis_floor,
            "milestone_failing": self.milestone_failing,
        }
        kind_of(alert).facts(self, alert, facts, takes_over)
        changes = {name: facts[name] for name in FACTS if facts[name] != getattr(self, name)}
        return {
            "alert_at": alert.timestamp, "alert_type": alert.type.value, "fingerprint": alert.kept_fingerprint,
            "alert": dict(alert.raw), "agent_id": self.agent_after(alert), "changes": changes,
        }

    def judge(self, now: datetime, agent: AgentView | None = None) -> Demand:
        best = deadline_demand(now, self.start, self.deadline)
        if self.warned_at is not None and best.stage is Stage.GREEN:
            quiet = best
            best = Demand(Stage.YELLOW, lambda: f"deadline warning: {quiet.reason}", rules.DEADLINE_WARNING)
        best = higher(best, silence_demand(now, agent))
        crisis = self.crisis
        if crisis is not None and crisis.rank > best.stage.rank:
            note = f" ({self.crisis_note})" if self.crisis_note else ""
            best = Demand(crisis, f"coordination crisis: {crisis.level.lower()}{note}", rules.CRISIS)
        if self.milestone_failing:
            best = higher(best, MILESTONE_FAILING_DEMAND)
        return best

    def crossings(self, agent: AgentView | None = None) -> list[datetime]:
        if self.pinned:
            return []
        return deadline_crossings(self.start, self.deadline) + silence_crossings(agent)
