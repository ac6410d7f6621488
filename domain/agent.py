"""The Agent aggregate: whether an agent is responsive, and how worried to be if not."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.alerts import heartbeat_record
from domain.escalation import Escalating
from domain.ids import agent_aggregate_id
from domain.rules import AgentView, Demand, silence_crossings, silence_demand


class Agent(Escalating):
    """An agent known to the coordinator."""

    def __init__(self, agent_id: str) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.unresponsive = False
        self.last_activity: datetime | None = None
        self.status_since: datetime | None = None

    @staticmethod
    def id_for(agent_id: str) -> uuid.UUID:
        """The aggregate id of the agent named `agent_id`."""
        return agent_aggregate_id(agent_id)

    class Registered(Aggregate.Created):
        """The coordinator first heard of the agent."""

        agent_id: str

    @classmethod
    def register(cls, agent_id: str) -> Agent:
        """Start tracking the agent named `agent_id`."""
        return cls._create(cls.Registered, id=cls.id_for(agent_id), agent_id=agent_id)

    class MarkedUnresponsive(Aggregate.Event):
        """An alert said the agent has been silent since `last_activity`. `fingerprint` is the alert's, or None
        when it is the digest of `alert` itself."""

        at: datetime
        last_activity: datetime | None
        fingerprint: str | None
        alert: Mapping[str, Any]

        def apply(self, agent: Agent) -> None:
            if not agent.unresponsive or agent.last_activity != self.last_activity:
                agent.status_since = self.at
            agent.unresponsive = True
            agent.last_activity = self.last_activity
            agent.evaluated_at = self.at

    class ActivitySeen(Aggregate.Event):
        """The agent was seen at work at `at`. `fingerprint` is that of the alert that showed it, or None when the
        alert was the plain heartbeat `heartbeat_record` writes (its digest is that record's).

        One event may stand for a run of `sightings` in a row, from `first_at` to `at`, with nothing else recorded
        on the agent between them (see `see_activity`); `fingerprint` is then the last one's."""

        at: datetime
        fingerprint: str | None
        sightings: int = 1
        first_at: datetime | None = None
        """The first sighting of the run (None when the event stands for one, at `at`)."""

        def apply(self, agent: Agent) -> None:
            if agent.unresponsive:
                agent.status_since = self.first_at or self.at
            agent.unresponsive = False
            agent.last_activity = self.at
            agent.evaluated_at = self.at

    def mark_unresponsive(
        self, at: datetime, last_activity: datetime | None, fingerprint: str | None, alert: Mapping[str, Any]
    ) -> None:
        """Flag the agent as silent since `last_activity` and re-judge it at `at` (`fingerprint`: as the event
        keeps it).

        Silence counts from the latest activity known: a report of older activity cannot undo a newer sighting.
        """
        requested, at = at, self.clamp(at)
        self.advance(at)
        if last_activity is None or (self.last_activity is not None and self.last_activity > last_activity):
            last_activity = self.last_activity
        self.trigger_event(
            self.MarkedUnresponsive, at=at, last_activity=last_activity, fingerprint=fingerprint, alert=alert
        )
        self.move_to(self.judge(self.judging_time(requested, at)), at)

    def see_activity(self, at: datetime, fingerprint: str, record: Mapping[str, Any] | None = None) -> None:
        """Record that the agent was active at `at`, clearing any unresponsive flag.

        `record`: the alert as written, when `fingerprint` is its digest; if it is the plain heartbeat of this agent
        at the time recorded, the event leaves the fingerprint out (a reader computes it again).
        """
        requested, at = at, self.clamp(at)
        self.advance(at)
        kept = None if record is not None and record == heartbeat_record(self.agent_id, at) else fingerprint
        run = self._sightings_run()
        if run is None:
            self.trigger_event(self.ActivitySeen, at=at, fingerprint=kept)
        else:
            self.trigger_event(self.ActivitySeen, at=at, fingerprint=kept, sightings=run.sightings + 1,
                               first_at=run.first_at or run.at, timestamp=run.timestamp)
        self.move_to(self.judge(self.judging_time(requested, at)), at)

    MERGES_SIGHTINGS: ClassVar[bool] = True
    """Whether sightings in a row are recorded as one event (`_sightings_run`)."""

    def _sightings_run(self) -> ActivitySeen | None:
        """The sighting that ends the events not yet saved, taken back so that one event stands for it and the next
        (None when the last unsaved event is not one).

        Recording less, deciding the same: a sighting of an agent at work changes nothing but when it was last seen,
        so the state after a run of them with nothing else recorded between is the state after the last. A batch of
        alerts (a file read at once) holds many heartbeats of each agent, and one event per agent and run takes the
        place of one per heartbeat; every decision is still taken on the agent as it stood after each sighting,
        and nothing saved is ever changed. The event keeps the first sighting's place in the order events were
        decided (its `timestamp`), and the last one's fingerprint: every fingerprint stays in the ledger of alerts
        seen, which is what refuses a repeated alert.
        """
        pending = self.pending_events
        run = pending[-1] if self.MERGES_SIGHTINGS and pending else None
        if not isinstance(run, Agent.ActivitySeen):
            return None
        pending.pop()
        self.version = run.originator_version - 1  # the next event takes its place in the sequence
        return run

    def view(self) -> AgentView:
        """What tasks need to know about this agent."""
        return AgentView(self.agent_id, self.unresponsive, self.last_activity, self.status_since)

    def judge(self, now: datetime, agent: AgentView | None = None) -> Demand:
        return silence_demand(now, self.view())

    def crossings(self, agent: AgentView | None = None) -> list[datetime]:
        return silence_crossings(self.view())
