"""The delivery stream: the outcomes of delivery attempts, recorded together as they come back.

Whether a message reached its channel is not a decision of the task or agent that asked for it, so it is not
one of their events: each batch of attempts recorded at once is one event of a stream of its own (a new stream
per batch, so writers never contend for one). Nothing is decided from it and nothing ever loads it; readers
(the read models, the event stream) find each attempt's task or agent in its notification key.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from domain.moments import iso_text
from domain.notifications import ATTEMPT_FIELDS, DeliveryOutcome


class Deliveries(Aggregate):
    """Delivery attempts whose outcomes were recorded together."""

    class Recorded(Aggregate.Created):
        """The outcomes of these attempts came back; each as `attempt_row` writes it."""

        attempts: list[list[Any]]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 wrote each attempt as an object (`attempt_fields`); now it is a row of their values."""
            state["attempts"] = [[fields[name] for name in ATTEMPT_FIELDS if name in fields]
                                 for fields in state["attempts"]]

    @classmethod
    def record(cls, outcomes: list[DeliveryOutcome]) -> Deliveries:
        """A new batch recording `outcomes`, in this order."""
        return cls._create(cls.Recorded, id=uuid.uuid4(), attempts=[attempt_row(outcome) for outcome in outcomes])


def attempt_row(outcome: DeliveryOutcome) -> list[Any]:
    """One attempt as the stream records it: the values of `attempt_fields`, in the order of `ATTEMPT_FIELDS` (a batch
    of thousands need not repeat their names)."""
    return list(attempt_fields(outcome).values())


def attempt_fields(outcome: DeliveryOutcome) -> dict[str, Any]:
    """One attempt as the stream records it: what a `NotificationDelivered` event recorded (key, channel, attempt,
    at) and, for a failure, what a `DeliveryFailed` one added (error, dead, retry_at); instants as `iso_text`."""
    fields: dict[str, Any] = {
        "key": outcome.key, "channel": outcome.channel, "attempt": outcome.attempt, "at": iso_text(outcome.at),
    }
    if outcome.error is not None:
        fields.update(error=outcome.error, dead=outcome.dead,
                      retry_at=None if outcome.retry_at is None else iso_text(outcome.retry_at))
    return fields
