"""The current class version of every event class that has been versioned; every other event is at version 1.

A reader of stored events (the event stream, the audit trail, the read models) needs only this table to know
whether an event must be upcast, so it loads an event's class (and with it the aggregates, their rulebook and
eventsourcing's domain model: most of a query command's start-up) only for an event stored at an older version.
A test checks the table against the classes' own `class_version`: a class given a new version is listed here.
"""

from __future__ import annotations

from typing import Final

CURRENT: Final[dict[str, int]] = {
    "domain.task:Task.AlertReceived": 3,
    "domain.task:Task.Escalated": 2,
    "domain.task:Task.DeEscalated": 2,
    "domain.task:Task.Resolved": 2,
    "domain.agent:Agent.Escalated": 2,
    "domain.agent:Agent.DeEscalated": 2,
    "domain.deliveries:Deliveries.Recorded": 2,
}


def current_version(topic: str) -> int:
    """The class version events of `topic` are recorded at now (1 for a class never versioned, or long gone)."""
    return CURRENT.get(topic, 1)
