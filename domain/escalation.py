"""State and events shared by every aggregate that moves on the escalation ladder."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from domain import rulebook
from domain.moments import later, shift
from domain.rules import AgentView, Demand
from domain.stages import Stage

TICK = timedelta(microseconds=1)
HISTORY_KEPT = 50
"""Stage changes an aggregate keeps in memory (the full history is in its events and the history read model)."""
UNKNOWN_RULE = "unknown"
"""The rule of stage changes recorded before events named it."""


class Escalating(Aggregate):
    """An aggregate with a stage, a history of stage changes and the time it was last judged.

    Commands decide with the rulebook; events only assign what was decided.
    """

    def __init__(self) -> None:
        self.stage = Stage.GREEN
        self.resolved = False
        self.evaluated_at: datetime | None = None
        self.history: list[dict[str, Any]] = []
        self.escalations = 0
        self.requests = 0
        self.pm_alerted_at: datetime | None = None
        self.acknowledged_by: str | None = None
        self.acknowledged_at: datetime | None = None

    class Escalated(Aggregate.Event):
        """The stage went up at `at` because of `reason`; version 2 added which `rule` decided it."""

        class_version = 2
        from_stage: Stage
        to_stage: Stage
        at: datetime
        reason: str
        rule: str

        def apply(self, aggregate: Escalating) -> None:
            aggregate.record_move(self.from_stage, self.to_stage, self.at, self.reason)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["rule"] = UNKNOWN_RULE

    class DeEscalated(Escalated):
        """The stage went down at `at` because of `reason`."""

    class NotificationsRequested(Aggregate.Event):
        """The coordinator decided, at `at`, to tell these people (each with its idempotency key).

        `urgent`: the PM was told urgently, so repeats are counted from `at`.
        """

        at: datetime
        notifications: list[dict[str, Any]]
        urgent: bool

        def apply(self, aggregate: Escalating) -> None:
            aggregate.requests += 1
            if self.urgent:
                aggregate.pm_alerted_at = self.at

    class Acknowledged(Aggregate.Event):
        """Someone took charge of the crisis: repeats stop."""

        at: datetime
        by: str

        def apply(self, aggregate: Escalating) -> None:
            aggregate.acknowledged_by = self.by
            aggregate.acknowledged_at = self.at

    class NotificationDelivered(Aggregate.Event):
        """A requested notification reached its channel (recorded by stores written before delivery attempts had a
        stream of their own, `domain.deliveries`; read, never recorded)."""

        key: str
        channel: str
        attempt: int
        at: datetime

    class DeliveryFailed(Aggregate.Event):
        """A delivery attempt failed; `dead` when no more attempts will be made (like `NotificationDelivered`, found
        only in older stores)."""

        key: str
        channel: str
        attempt: int
        at: datetime
        error: str
        dead: bool
        retry_at: datetime | None

    @property
    def floor(self) -> Stage | None:
        """The lowest stage an open crisis holds this at (None: nothing holds it)."""
        return None

    @property
    def rulebook_state(self) -> str:
        """The state name the rulebook knows this aggregate by."""
        return rulebook.RESOLVED if self.resolved else self.stage.value

    def record_move(self, from_stage: Stage, to_stage: Stage, at: datetime, reason: str) -> None:
        """Assign a decided stage change (called from event handlers only)."""
        if to_stage.rank >= Stage.RED.rank > from_stage.rank:
            self.escalations += 1
            self.acknowledged_by = None
            self.acknowledged_at = None
        if to_stage.rank < Stage.RED.rank:
            self.pm_alerted_at = None
        self.stage = to_stage
        self.evaluated_at = at
        if len(self.history) >= HISTORY_KEPT:
            del self.history[: len(self.history) - HISTORY_KEPT + 1]
        self.history.append(
            {
                "at": at,
                "from": from_stage.level,
                "to": to_stage.level,
                "emergency": to_stage.emergency,
                "reason": reason,
            }
        )

    @property
    def in_crisis(self) -> bool:
        """RED (or EMERGENCY) and open."""
        return not self.resolved and self.stage.rank >= Stage.RED.rank

    def request_notifications(self, at: datetime, notifications: list[dict[str, Any]], urgent: bool) -> None:
        """Record the notifications the coordinator decided to send."""
        if notifications:
            self.trigger_event(self.NotificationsRequested, at=at, notifications=notifications, urgent=urgent)

    def acknowledge(self, by: str, at: datetime) -> None:
        """Someone takes charge of the crisis; repeats stop until the aggregate next enters RED."""
        self.trigger_event(self.Acknowledged, at=self.clamp(at), by=by)

    def clamp(self, at: datetime) -> datetime:
        """`at`, or the last time this aggregate was judged if that is later (history never runs backwards)."""
        if self.evaluated_at is not None and at < self.evaluated_at:
            return self.evaluated_at
        return at

    def judging_time(self, requested: datetime, at: datetime) -> datetime:
        """When to judge a command recorded at `at` (asked for `requested`).

        Just after `at` when the command came late (clamped) or lands on the very instant of a recorded
        change: a crossing recorded at its instant holds from just after it, and must not be undone.
        """
        if requested < at or (self.history and self.history[-1]["at"] == at):
            return shift(at, TICK)
        return at

    def move_to(self, demand: Demand, at: datetime) -> None:
        """Record a stage change to what `demand` asks for, if it differs."""
        trigger = rulebook.trigger_for(self.stage, demand.stage, self.floor, self.resolved)
        if trigger is None:
            return
        event_class = self.Escalated if trigger == rulebook.ESCALATE else self.DeEscalated
        self.trigger_event(
            event_class, from_stage=self.stage, to_stage=demand.stage, at=at, reason=demand.reason, rule=demand.rule
        )

    def judge(self, now: datetime, agent: AgentView | None = None) -> Demand:
        """The stage the rules demand at `now`, given the agent in charge (if any)."""
        raise NotImplementedError

    def crossings(self, agent: AgentView | None = None) -> list[datetime]:
        """Instants at which the rules' answer may change by time alone."""
        return []

    def advance(self, to: datetime, agent: AgentView | None = None) -> None:
        """Record every threshold crossed up to `to` at the exact instant it was crossed.

        Crossings before the agent's last status change were settled when it was applied. One move per instant:
        a threshold whose instant is that of the last recorded change (e.g. an agent flagged exactly an hour after
        its last activity is ORANGE then, and RED just after) is recorded a microsecond later, when it took effect.
        """
        if self.resolved:
            return
        floor = self.evaluated_at
        since = agent.status_since if agent is not None else None
        if since is not None and (floor is None or since > floor):
            floor = since
        for instant in sorted(self.crossings(agent)):
            if instant < to and (floor is None or instant >= floor):
                when = shift(instant, TICK) if self.history and self.history[-1]["at"] == instant else instant
                self.move_to(self.judge(shift(instant, TICK), agent), when)
        self.move_to(self.judge(self.judging_time(to, to), agent), to)

    def next_crossing(self, after: datetime, agent: AgentView | None = None) -> datetime | None:
        """The first instant after `after` at which the stage may change by time alone."""
        if self.resolved:
            return None
        upcoming = [instant for instant in self.crossings(agent) if instant >= after]
        return later(min(upcoming), TICK) if upcoming else None
