"""The Hive aggregate: what the hive itself recorded besides alerts, one observation after another.

A hive's stream grows with every record it writes that is none of the alert types, so its state stays tiny
(a name and a count); what each observation said is in its event, and in the read models.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.alerts import Observation
from domain.ids import hive_aggregate_id

DEFAULT_HIVE = "default"


class Hive(Aggregate):
    """The hive whose records the coordinator reads."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.observations = 0

    @staticmethod
    def id_for(name: str) -> uuid.UUID:
        """The aggregate id of the hive named `name`."""
        return hive_aggregate_id(name)

    class Registered(Aggregate.Created):
        """The coordinator first observed a record of the hive."""

        name: str

    @classmethod
    def register(cls, name: str = DEFAULT_HIVE) -> Hive:
        """Start recording what the hive named `name` observes."""
        return cls._create(cls.Registered, id=cls.id_for(name), name=name)

    class Observed(Aggregate.Event):
        """A well-formed record that is none of the alert types was read: the record as written, where it was read
        (`source`, `line`), its fingerprint and own time (`at`, None when it has none), and the task and agent it
        names. When a mapping rule turned it into an alert, `mapping` is the rule's identity and `alert_type` the
        type of the alert it became (recorded on its task or agent), so a later change of the rules rewrites
        nothing."""

        at: datetime | None
        fingerprint: str
        source: str
        line: int | None
        record: dict[str, Any]
        task_id: str | None
        agent_id: str | None
        mapping: str | None
        alert_type: str | None

        def apply(self, hive: Hive) -> None:
            hive.observations += 1

    def observe(self, observation: Observation) -> None:
        """Record the observation (with the alert its mapping rule made of it, if any)."""
        alert = observation.alert
        self.trigger_event(
            self.Observed, at=observation.at, fingerprint=observation.fingerprint, source=observation.source,
            line=observation.line, record=dict(observation.raw), task_id=observation.task_id,
            agent_id=observation.agent_id, mapping=observation.rule,
            alert_type=alert.type.value if alert is not None else None,
        )
