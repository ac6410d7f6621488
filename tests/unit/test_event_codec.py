"""Events are stored as plain JSON and read back exactly as they were recorded."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex

from adapters.event_codec import EventMapper, codec_for
from adapters.state_packing import unpack
from app.transcodings import StageAsName
from domain.agent import Agent
from domain.alerts import Alert, AlertType
from domain.rules import AgentView
from domain.stages import Stage
from domain.task import Task

WHEN = datetime(2025, 3, 1, 10, tzinfo=UTC)


def domain_event_classes() -> list[type]:
    found = []
    for aggregate in (Task, Agent):
        for name in dir(aggregate):
            value = getattr(aggregate, name)
            is_event = isinstance(value, type) and issubclass(value, Aggregate.Event)
            if is_event and value.__module__.startswith("domain."):
                found.append(value)
    return found


def mapper() -> EventMapper:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), StageAsName()):
        transcoder.register(transcoding)
    return EventMapper(transcoder=transcoder)


def busy_task() -> Task:
    task = Task.register("task-1")
    silent = AgentView("ada", True, datetime(2025, 3, 1, 8, tzinfo=UTC), WHEN)
    assigned = Alert(AlertType.TASK_ASSIGNED, WHEN, "fp-1", {"note": "ünïcode ✓"}, task_id="task-1", agent_id="ada",
                     deadline=datetime(2025, 3, 1, 12, tzinfo=UTC))
    task.receive(assigned, None, silent)
    task.resolve(datetime(2025, 3, 1, 11, tzinfo=UTC), "done")
    return task


def busy_agent() -> Agent:
    agent = Agent.register("ada")
    agent.mark_unresponsive(WHEN, datetime(2025, 3, 1, 7, tzinfo=UTC), "fp-2", {"type": "AGENT_UNRESPONSIVE"})
    agent.see_activity(datetime(2025, 3, 1, 11, tzinfo=UTC), "fp-3")
    return agent


@pytest.mark.parametrize("event_class", domain_event_classes(), ids=lambda cls: cls.__qualname__)
def test_every_domain_event_is_stored_as_plain_json(event_class: type) -> None:
    assert codec_for(event_class) is not None


def test_events_read_back_equal_to_what_was_recorded() -> None:
    events = busy_task().collect_events() + busy_agent().collect_events()
    assert {type(event).__name__ for event in events} >= {
        "Registered", "AlertReceived", "Escalated", "Resolved", "MarkedUnresponsive", "ActivitySeen", "DeEscalated"
    }
    codec = mapper()
    for event in events:
        assert codec.to_domain_event(codec.to_stored_event(event)) == event


def test_stored_state_holds_instants_as_iso_text_utc_as_z_and_stages_by_name() -> None:
    escalated = next(event for event in busy_task().collect_events() if type(event).__name__ == "Escalated")
    state = json.loads(unpack(mapper().to_stored_event(escalated).state))
    assert state["at"] == "2025-03-01T10:00:00Z"
    assert state["to_stage"] == Stage.RED.value
    assert "_type_" not in json.dumps(state)


def test_an_event_stored_with_utc_as_plus_zero_reads_back_as_the_same_event() -> None:
    codec = mapper()
    for event in busy_task().collect_events() + busy_agent().collect_events():
        stored = codec.to_stored_event(event)
        older = dataclasses.replace(stored, state=unpack(stored.state).replace(b'Z"', b'+00:00"'))
        assert codec.to_domain_event(older) == event


def test_snapshots_still_round_trip_through_the_standard_transcoder() -> None:
    task = busy_task()
    task.collect_events()
    snapshot = Snapshot.take(task)
    codec = mapper()
    restored = codec.to_domain_event(codec.to_stored_event(snapshot))
    assert restored.mutate(None) == task  # type: ignore[attr-defined]
