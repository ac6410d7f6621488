"""The Agent aggregate: flagged unresponsive, seen at work, and escalating with its silence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from domain import rulebook
from domain.agent import Agent
from domain.alert_types.registry import names_agent_active
from domain.alerts import Alert, AlertType
from domain.rulebook import IllegalTransition
from domain.stages import Stage

AGENT = "ada"


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 3, 1, hour, minute, second, micro, tzinfo=UTC)


def flagged(when: datetime, last_activity: datetime | None) -> Agent:
    agent = Agent.register(AGENT)
    agent.mark_unresponsive(when, last_activity, f"flag@{when.isoformat()}", {})
    return agent


def moves(agent: Agent) -> list[tuple[datetime, str, bool]]:
    return [(entry["at"], entry["to"], entry["emergency"]) for entry in agent.history]


def level(agent: Agent) -> tuple[str, bool]:
    return agent.stage.level, agent.stage.emergency


def replay(events: list[Any]) -> Any:
    copy = None
    for event in events:
        copy = event.mutate(copy)
    return copy


# A new agent -----------------------------------------------------------------------------------


def test_a_newly_registered_agent_is_green_responsive_and_has_no_history() -> None:
    agent = Agent.register(AGENT)
    assert agent.agent_id == AGENT
    assert level(agent) == ("GREEN", False)
    assert agent.unresponsive is False
    assert agent.history == []


def test_an_agent_name_always_maps_to_the_same_aggregate() -> None:
    assert Agent.id_for(AGENT) == Agent.id_for(AGENT)
    assert Agent.id_for(AGENT) != Agent.id_for("bob")
    assert Agent.register(AGENT).id == Agent.id_for(AGENT)


def test_a_responsive_agent_never_escalates_with_time() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(9), "heartbeat")
    agent.advance(agent.clamp(at(23)))
    assert level(agent) == ("GREEN", False)
    assert agent.history == []
    assert agent.next_crossing(at(9)) is None


# Flagging --------------------------------------------------------------------------------------


def test_an_agent_flagged_soon_after_its_last_activity_is_yellow() -> None:
    agent = flagged(at(10, 10), at(10))
    assert agent.unresponsive is True
    assert agent.last_activity == at(10)
    assert level(agent) == ("YELLOW", False)
    assert moves(agent) == [(at(10, 10), "YELLOW", False)]


def test_an_agent_flagged_exactly_thirty_minutes_after_its_last_activity_is_yellow() -> None:
    assert level(flagged(at(10, 30), at(10))) == ("YELLOW", False)


def test_an_agent_flagged_thirty_minutes_and_a_microsecond_after_its_last_activity_is_orange() -> None:
    assert level(flagged(at(10, 30, 0, 1), at(10))) == ("ORANGE", False)


def test_an_agent_flagged_exactly_an_hour_after_its_last_activity_is_orange() -> None:
    assert level(flagged(at(11), at(10))) == ("ORANGE", False)


def test_an_agent_flagged_just_over_an_hour_after_its_last_activity_is_red() -> None:
    assert level(flagged(at(11, 0, 0, 1), at(10))) == ("RED", False)


def test_an_agent_flagged_exactly_two_hours_after_its_last_activity_is_red_but_not_an_emergency() -> None:
    assert level(flagged(at(12), at(10))) == ("RED", False)


def test_an_agent_flagged_just_over_two_hours_after_its_last_activity_is_an_emergency() -> None:
    assert level(flagged(at(12, 0, 0, 1), at(10))) == ("RED", True)


def test_an_agent_flagged_long_after_its_last_activity_escalates_at_the_flag_not_before() -> None:
    agent = flagged(at(13), at(10))
    assert moves(agent) == [(at(13), "RED", True)]


def test_an_agent_flagged_with_no_known_last_activity_stays_yellow() -> None:
    agent = flagged(at(10), None)
    agent.advance(agent.clamp(at(23)))
    assert level(agent) == ("YELLOW", False)
    assert moves(agent) == [(at(10), "YELLOW", False)]


# Silence over time -----------------------------------------------------------------------------


def test_a_silent_agent_escalates_at_each_threshold_at_its_exact_instant() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.advance(agent.clamp(at(12, 30)))
    assert moves(agent) == [
        (at(10, 10), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(11), "RED", False),
        (at(12), "RED", True),
    ]
    assert [(entry["from"], entry["to"]) for entry in agent.history] == [
        ("GREEN", "YELLOW"),
        ("YELLOW", "ORANGE"),
        ("ORANGE", "RED"),
        ("RED", "RED"),
    ]


def test_a_silent_agent_looked_at_exactly_two_hours_on_is_red_but_not_yet_an_emergency() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.advance(agent.clamp(at(12)))
    assert level(agent) == ("RED", False)


def test_a_silent_agent_looked_at_a_microsecond_after_two_hours_is_an_emergency_from_two_hours() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.advance(agent.clamp(at(12, 0, 0, 1)))
    assert moves(agent)[-1] == (at(12), "RED", True)


def test_looking_at_a_silent_agent_often_records_the_same_history_as_looking_once() -> None:
    once = flagged(at(10, 10), at(10))
    once.advance(at(13))
    often = flagged(at(10, 10), at(10))
    now = at(10, 10)
    while now < at(13):
        often.advance(now)
        now += timedelta(minutes=11)
    often.advance(at(13))
    assert moves(often) == moves(once)


def test_a_silent_agent_is_next_due_just_after_its_next_threshold() -> None:
    agent = flagged(at(10, 10), at(10))
    assert agent.next_crossing(at(10, 10)) == at(10, 30, 0, 1)
    assert agent.next_crossing(at(10, 31)) == at(11, 0, 0, 1)


def test_a_second_flag_settles_the_crossings_since_the_first() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.mark_unresponsive(at(11, 30), at(10), "flag-2", {})
    assert moves(agent) == [(at(10, 10), "YELLOW", False), (at(10, 30), "ORANGE", False), (at(11), "RED", False)]


def test_a_second_flag_with_a_later_last_activity_lowers_the_level() -> None:
    agent = flagged(at(11, 30), at(10))
    agent.mark_unresponsive(at(11, 40), at(11, 35), "flag-2", {})
    assert level(agent) == ("YELLOW", False)
    assert moves(agent)[-1] == (at(11, 40), "YELLOW", False)


def test_a_second_flag_reporting_older_activity_keeps_counting_from_the_newer_one() -> None:
    agent = flagged(at(11, 30), at(11, 10))
    agent.mark_unresponsive(at(11, 40), at(9), "flag-2", {})
    assert agent.last_activity == at(11, 10)
    assert level(agent) == ("YELLOW", False)
    assert moves(agent) == [(at(11, 30), "YELLOW", False)]


def test_a_flag_reporting_activity_older_than_a_heartbeat_counts_from_the_heartbeat() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(10), "heartbeat")
    agent.mark_unresponsive(at(10, 45), at(8), "flag", {})
    assert agent.last_activity == at(10)
    assert level(agent) == ("ORANGE", False)


def test_a_flag_with_no_known_last_activity_keeps_the_activity_already_known() -> None:
    agent = flagged(at(11, 30), at(11, 10))
    agent.mark_unresponsive(at(11, 40), None, "flag-2", {})
    assert agent.last_activity == at(11, 10)
    assert level(agent) == ("YELLOW", False)


# Activity --------------------------------------------------------------------------------------


def test_a_heartbeat_clears_the_flag_and_brings_the_agent_back_to_green() -> None:
    agent = flagged(at(11, 30), at(10))
    agent.see_activity(at(11, 45), "heartbeat")
    assert agent.unresponsive is False
    assert agent.last_activity == at(11, 45)
    assert level(agent) == ("GREEN", False)
    assert moves(agent) == [(at(11, 30), "RED", False), (at(11, 45), "GREEN", False)]


def test_a_cleared_agent_no_longer_escalates_with_time() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.see_activity(at(10, 20), "heartbeat")
    agent.advance(agent.clamp(at(23)))
    assert moves(agent) == [(at(10, 10), "YELLOW", False), (at(10, 20), "GREEN", False)]


def test_crossings_reached_before_a_heartbeat_are_recorded_before_it_clears_the_flag() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.see_activity(at(11, 15), "heartbeat")
    assert moves(agent) == [
        (at(10, 10), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(11), "RED", False),
        (at(11, 15), "GREEN", False),
    ]


def test_a_heartbeat_from_a_responsive_agent_changes_its_level_not_at_all() -> None:
    agent = Agent.register(AGENT)
    agent.see_activity(at(10), "heartbeat-1")
    agent.see_activity(at(10, 5), "heartbeat-2")
    assert level(agent) == ("GREEN", False)
    assert agent.history == []
    assert agent.last_activity == at(10, 5)


def test_an_agent_flagged_again_after_a_heartbeat_escalates_from_the_new_silence() -> None:
    agent = flagged(at(10, 10), at(10))
    agent.see_activity(at(10, 20), "heartbeat")
    agent.mark_unresponsive(at(11), at(10, 20), "flag-2", {})
    agent.advance(agent.clamp(at(13)))
    assert moves(agent)[2:] == [
        (at(11), "ORANGE", False),
        (at(11, 20), "RED", False),
        (at(12, 20), "RED", True),
    ]


@pytest.mark.parametrize("kind", [AlertType.AGENT_HEARTBEAT, AlertType.TASK_ASSIGNED, AlertType.TASK_REASSIGNMENT])
def test_heartbeats_and_alerts_handing_an_agent_work_show_that_agent_is_active(kind: AlertType) -> None:
    assert names_agent_active(Alert(kind, at(10), "fp", {}, task_id="task-1", agent_id=AGENT)) is True


@pytest.mark.parametrize(
    "kind",
    [
        AlertType.AGENT_UNRESPONSIVE,
        AlertType.COORDINATION_CRISIS,
        AlertType.DEADLINE_WARNING,
        AlertType.PHASE1_MILESTONE,
        AlertType.TASK_COMPLETED,
    ],
)
def test_other_alerts_do_not_show_their_agent_is_active(kind: AlertType) -> None:
    assert names_agent_active(Alert(kind, at(10), "fp", {}, task_id="task-1", agent_id=AGENT)) is False


def test_an_alert_naming_no_agent_shows_no_agent_active() -> None:
    assert names_agent_active(Alert(AlertType.AGENT_HEARTBEAT, at(10), "fp", {})) is False


# What tasks see --------------------------------------------------------------------------------


def test_tasks_see_whether_the_agent_is_silent_and_since_when() -> None:
    agent = flagged(at(10, 10), at(10))
    view = agent.view()
    assert view.agent_id == AGENT
    assert view.unresponsive is True
    assert view.last_activity == at(10)
    agent.see_activity(at(10, 20), "heartbeat")
    view = agent.view()
    assert view.unresponsive is False
    assert view.last_activity == at(10, 20)


# Replay ----------------------------------------------------------------------------------------


def eventful_agent() -> tuple[Agent, list[Any]]:
    agent = flagged(at(10, 10), at(10))
    agent.advance(agent.clamp(at(11, 10)))
    agent.see_activity(at(11, 20), "heartbeat")
    agent.mark_unresponsive(at(12), at(11, 40), "flag-2", {"note": "quiet again"})
    agent.advance(agent.clamp(at(15)))
    return agent, agent.collect_events()


def test_replaying_an_agents_events_rebuilds_an_equal_agent() -> None:
    agent, events = eventful_agent()
    copy = replay(events)
    assert copy == agent
    assert copy.history == agent.history
    assert level(copy) == level(agent) == ("RED", True)
    assert len(agent.history) == 8


def test_replaying_an_agent_never_consults_the_rulebook() -> None:
    agent, events = eventful_agent()
    refuse = IllegalTransition("the rulebook was consulted during replay")
    with mock.patch.object(rulebook, "allows", side_effect=refuse):
        copy = replay(events)
        with pytest.raises(IllegalTransition):
            copy.see_activity(at(16), "heartbeat")
    assert replay(events) == agent


def test_replayed_agent_keeps_escalating_like_the_original() -> None:
    agent = flagged(at(10, 10), at(10))
    copy = replay(agent.collect_events())
    agent.advance(agent.clamp(at(13)))
    copy.advance(at(13))
    assert moves(copy) == moves(agent)
    assert copy.stage is Stage.EMERGENCY


# Out-of-order alerts ---------------------------------------------------------------------------


def test_an_older_flag_never_records_history_earlier_than_what_is_recorded() -> None:
    agent = flagged(at(11, 30), at(10))
    agent.see_activity(at(11, 40), "heartbeat")
    agent.mark_unresponsive(at(11, 0), at(10), "stale-flag", {})
    assert all(entry["at"] >= at(11, 40) for entry in agent.history[1:])
    assert [entry["at"] for entry in agent.history] == sorted(entry["at"] for entry in agent.history)


def test_an_older_heartbeat_never_records_history_earlier_than_what_is_recorded() -> None:
    agent = flagged(at(12, 30), at(10))
    agent.see_activity(at(11), "stale-heartbeat")
    assert moves(agent) == [(at(12, 30), "RED", True), (at(12, 30), "GREEN", False)]


def test_looking_at_an_agent_with_an_older_time_records_nothing_earlier() -> None:
    agent = flagged(at(11, 30), at(10))
    agent.advance(agent.clamp(at(10, 45)))
    assert moves(agent) == [(at(11, 30), "RED", False)]


@pytest.mark.parametrize("seed", range(12))
def test_agent_history_never_runs_backwards_whatever_order_alerts_arrive_in(seed: int) -> None:
    steps: list[tuple[str, datetime, datetime | None]] = [
        ("flag", at(10, 10), at(10)),
        ("beat", at(10, 50), None),
        ("flag", at(11, 30), at(10, 50)),
        ("flag", at(12, 40), at(10, 50)),
        ("beat", at(13), None),
        ("flag", at(14), at(13)),
    ]
    random.Random(seed).shuffle(steps)
    agent = Agent.register(AGENT)
    for kind, when, last in steps:
        if kind == "flag":
            agent.mark_unresponsive(when, last, f"flag@{when.isoformat()}", {})
        else:
            agent.see_activity(when, f"beat@{when.isoformat()}")
        agent.advance(agent.clamp(when + timedelta(minutes=20)))
    instants = [entry["at"] for entry in agent.history]
    assert instants == sorted(instants)


def test_an_agent_keeps_only_its_newest_stage_changes_in_memory_however_long_its_history() -> None:
    from domain.escalation import HISTORY_KEPT

    agent = Agent.register(AGENT)
    for hour in range(HISTORY_KEPT):
        agent.mark_unresponsive(at(0) + timedelta(hours=hour, minutes=10), at(0) + timedelta(hours=hour - 1), "f", {})
        agent.see_activity(at(0) + timedelta(hours=hour, minutes=20), "h")
    assert len(agent.history) == HISTORY_KEPT
    assert moves(agent)[-1] == (at(0) + timedelta(hours=HISTORY_KEPT - 1, minutes=20), "GREEN", False)
    assert replay(agent.collect_events()) == agent


def test_an_agent_flagged_exactly_on_a_threshold_records_one_move_per_instant() -> None:
    agent = flagged(at(11), at(10))  # silent exactly an hour: ORANGE then, RED from just after
    agent.advance(at(13))
    recorded = moves(agent)
    assert recorded[:2] == [(at(11), "ORANGE", False), (at(11, micro=1), "RED", False)]
    assert len({moment for moment, _, _ in recorded}) == len(recorded), "never two moves at one instant"


def test_the_activity_of_a_plain_heartbeat_keeps_no_fingerprint_but_any_other_alert_keeps_its_own() -> None:
    plain = {"type": "AGENT_HEARTBEAT", "agent_id": AGENT, "timestamp": "2025-03-01T10:00:00Z"}
    agent = Agent.register(AGENT)
    seen: list[Agent.ActivitySeen] = []
    for when, digest, record in [
        (at(10), "digest-1", plain),
        (at(10, 5), "digest-2", {**plain, "timestamp": "2025-03-01T10:05:00+00:00"}),
        (at(10, 6), "digest-3", {**plain, "timestamp": "2025-03-01T10:06:00Z", "note": "busy"}),
        (at(10, 1), "digest-4", {**plain, "timestamp": "2025-03-01T10:01:00Z"}),
        (at(10, 7), "digest-5", None),
    ]:
        agent.see_activity(when, digest, record)
        seen += [event for event in agent.collect_events() if isinstance(event, Agent.ActivitySeen)]  # saved apart
    assert [event.fingerprint for event in seen] == [None, "digest-2", "digest-3", "digest-4", "digest-5"]
    assert seen[3].at == at(10, 6), "a late heartbeat is recorded at the agent's latest time, not as written"
