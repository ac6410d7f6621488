"""Sightings of an agent in a row are kept as one event, and the agent decides exactly as with one event each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.state_packing import unpack
from domain.agent import Agent
from tests.unit.test_domain_agent import replay
from tests.unit.test_event_codec import mapper

AGENT = "ada"
START = datetime(2025, 3, 1, 8, tzinfo=UTC)
BOOKKEEPING = frozenset({"_pending_events", "_modified_on", "_created_on", "_version"})


def plain_path() -> Any:
    """The plain path: one event per sighting."""
    return mock.patch.object(Agent, "MERGES_SIGHTINGS", False)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def sightings(events: list[Any]) -> list[Agent.ActivitySeen]:
    return [event for event in events if isinstance(event, Agent.ActivitySeen)]


def state(agent: Agent) -> dict[str, Any]:
    """What the agent knows and decides with (not how many events it took to know it)."""
    return {name: value for name, value in vars(agent).items() if name not in BOOKKEEPING}


def test_heartbeats_in_a_row_are_one_event_saying_how_many_from_when_and_the_last_ones_fingerprint() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(0), "d-1")
    decided = agent.pending_events[-1].timestamp
    for minute, digest in ((5, "d-2"), (10, "d-3")):
        agent.see_activity(at(minute), digest)
    [seen] = sightings(agent.collect_events())
    assert (seen.sightings, seen.first_at, seen.at, seen.fingerprint) == (3, at(0), at(10), "d-3")
    assert seen.timestamp == decided, "the run keeps the place in the log its first sighting had"
    assert agent.last_activity == at(10)


def test_a_sighting_after_anything_else_the_agent_recorded_starts_an_event_of_its_own() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(0), "d-1")
    agent.mark_unresponsive(at(40), at(0), "flag", {})
    agent.see_activity(at(50), "d-2")
    agent.see_activity(at(55), "d-3")
    events = agent.collect_events()
    kinds = [type(event).__name__ for event in events]
    assert kinds == ["Registered", "ActivitySeen", "MarkedUnresponsive", "Escalated", "ActivitySeen", "DeEscalated",
                     "ActivitySeen"]
    assert [(seen.sightings, seen.first_at) for seen in sightings(events)] == [(1, None), (1, None), (1, None)]


def test_an_agent_back_at_work_counts_its_return_from_the_first_sighting_of_the_run() -> None:
    agent = Agent.register(AGENT)
    agent.mark_unresponsive(at(40), at(0), "flag", {})
    agent.collect_events()
    agent.see_activity(at(50), "d-1")
    agent.see_activity(at(55), "d-2")  # after the de-escalation the first caused: an event of its own
    agent.see_activity(at(58), "d-3")  # ... and this one joins it
    events = agent.collect_events()
    assert [(seen.sightings, seen.first_at, seen.at) for seen in sightings(events)] == [(1, None, at(50)),
                                                                                     (2, at(55), at(58))]
    assert agent.status_since == at(50)


def test_a_sighting_after_a_save_is_an_event_of_its_own() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(0), "d-1")
    first = sightings(agent.collect_events())
    agent.see_activity(at(5), "d-2")
    second = sightings(agent.collect_events())
    assert [(seen.sightings, seen.at) for seen in first + second] == [(1, at(0)), (1, at(5))]
    assert second[0].originator_version == first[0].originator_version + 1, "saved events are never taken back"


Step = tuple[str, int, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("seen"), st.integers(0, 600), st.just(0)),
        st.tuples(st.just("flagged"), st.integers(0, 600), st.integers(0, 600)),
        st.tuples(st.just("looked"), st.integers(0, 600), st.just(0)),
        st.tuples(st.just("saved"), st.just(0), st.just(0)),
    ),
    max_size=40,
)


def take(agent: Agent, step: Step, number: int) -> None:
    action, minute, silent_since = step
    if action == "seen":
        agent.see_activity(at(minute), f"d-{number}")
    elif action == "flagged":
        agent.mark_unresponsive(at(minute), at(min(silent_since, minute)), f"f-{number}", {})
    elif action == "looked":
        agent.advance(agent.clamp(at(minute)))
    else:
        agent.collect_events()


@settings(max_examples=300, deadline=None)
@given(steps)
def test_an_agent_keeping_sightings_in_a_row_as_one_event_stands_and_replays_as_with_one_event_each(
    script: list[Step],
) -> None:
    merged, plain = Agent.register(AGENT), Agent.register(AGENT)
    recorded: list[Any] = []
    plain_recorded: list[Any] = []
    for number, step in enumerate(script):
        if step[0] == "saved":
            recorded += merged.collect_events()
            plain_recorded += plain.collect_events()
            continue
        take(merged, step, number)
        with plain_path():
            take(plain, step, number)
        assert state(merged) == state(plain), "every decision sees the agent as it stood after each alert"
    recorded += merged.collect_events()
    plain_recorded += plain.collect_events()
    rebuilt = replay(recorded)
    assert state(rebuilt) == state(merged) and rebuilt.version == merged.version
    assert sum(seen.sightings for seen in sightings(recorded)) == len(sightings(plain_recorded)), "none uncounted"
    others = [type(event).__name__ for event in recorded if not isinstance(event, Agent.ActivitySeen)]
    assert others == [type(event).__name__ for event in plain_recorded if not isinstance(event, Agent.ActivitySeen)]


def test_a_single_sighting_is_stored_without_a_count_and_a_run_with_its_count_and_start_both_reading_back() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(0), "d-1")
    [single] = sightings(agent.collect_events())
    agent.see_activity(at(5), "d-2")
    agent.see_activity(at(9), "d-3")
    [run] = sightings(agent.collect_events())
    codec = mapper()
    stored = [codec.to_stored_event(event) for event in (single, run)]
    assert json.loads(unpack(stored[0].state)).keys() == {"timestamp", "at", "fingerprint"}
    assert json.loads(unpack(stored[1].state)) | {"timestamp": None} == {
        "timestamp": None, "at": "2025-03-01T08:09:00Z", "fingerprint": "d-3", "sightings": 2,
        "first_at": "2025-03-01T08:05:00Z",
    }
    back = [codec.to_domain_event(item) for item in stored]
    assert back == [single, run]
    assert (back[0].sightings, back[0].first_at) == (1, None)
