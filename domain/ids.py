"""Aggregate ids: each derived from the name the alerts give a task, an agent or a hive, so a name always finds
the same stream.

Apart from the aggregates so that readers (the event stream, the read models) find a row's key without loading
the aggregates, their rulebook and eventsourcing's domain model.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

TASK_NAMESPACE = uuid.UUID("0b5d8f3e-7c1a-4f55-8e8c-5b3a9d2e6c17")
AGENT_NAMESPACE = uuid.UUID("6f0e4a52-36b5-4b8e-9a57-0a8f1f3c2d41")
HIVE_NAMESPACE = uuid.UUID("9d4c1b7e-2f63-4a88-b1e5-3c0f6a9d8e21")


@lru_cache(maxsize=65_536)
def task_aggregate_id(task_id: str) -> uuid.UUID:
    """The aggregate id of the task named `task_id`."""
    return uuid.uuid5(TASK_NAMESPACE, task_id)


@lru_cache(maxsize=65_536)
def agent_aggregate_id(agent_id: str) -> uuid.UUID:
    """The aggregate id of the agent named `agent_id`."""
    return uuid.uuid5(AGENT_NAMESPACE, agent_id)


def hive_aggregate_id(name: str) -> uuid.UUID:
    """The aggregate id of the hive named `name`."""
    return uuid.uuid5(HIVE_NAMESPACE, name)
