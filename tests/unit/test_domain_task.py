"""The Task aggregate driven by alerts, agent changes and the passing of time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from domain import rulebook
from domain.agent import Agent
from domain.alerts import Alert, AlertType
from domain.rulebook import IllegalTransition
from domain.rules import AgentView
from domain.stages import Stage
from domain.task import Task

TASK = "task-42"
MILESTONE = "milestone:phase-1"


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 3, 1, hour, minute, second, micro, tzinfo=UTC)


def alert(kind: AlertType, when: datetime, task_id: str = TASK, **fields: Any) -> Alert:
    return Alert(kind, when, f"{kind.value}@{when.isoformat()}", {}, task_id=task_id, **fields)


def assigned(when: datetime, agent: str = "ada", deadline: datetime | None = None) -> Alert:
    return alert(AlertType.TASK_ASSIGNED, when, agent_id=agent, deadline=deadline)


def crisis(when: datetime, level: Stage, agent: str = "ada") -> Alert:
    return alert(AlertType.COORDINATION_CRISIS, when, agent_id=agent, crisis_stage=level)


def warning(when: datetime, remaining: timedelta, agent: str = "ada") -> Alert:
    return alert(AlertType.DEADLINE_WARNING, when, agent_id=agent, time_remaining=remaining)


def reassigned(when: datetime, new: str, old: str = "ada") -> Alert:
    return alert(AlertType.TASK_REASSIGNMENT, when, agent_id=new, old_agent=old)


def completed(when: datetime) -> Alert:
    return alert(AlertType.TASK_COMPLETED, when)


def milestone(when: datetime, status: str, agent: str = "ada") -> Alert:
    return alert(AlertType.PHASE1_MILESTONE, when, task_id=MILESTONE, agent_id=agent, milestone_status=status)


def responsive(agent: str = "ada") -> AgentView:
    return AgentView(agent, False, None)


def feed(task: Task, *alerts: Alert, agent: AgentView | None = None) -> Task:
    """Apply alerts whose agent (if any) is responsive, or as `agent` says."""
    for item in alerts:
        view = agent if agent is not None else (responsive(item.agent_id) if item.agent_id else None)
        before = agent if agent is not None else (responsive(task.agent_id) if task.agent_id else None)
        task.receive(item, before, view)
    return task


def new_task(*alerts: Alert, task_id: str = TASK) -> Task:
    return feed(Task.register(task_id), *alerts)


def moves(task: Task) -> list[tuple[datetime, str, bool]]:
    """The history as (instant, level moved to, emergency)."""
    return [(entry["at"], entry["to"], entry["emergency"]) for entry in task.history]


def level(task: Task) -> tuple[str, bool]:
    return task.stage.level, task.stage.emergency


def replay(events: list[Any]) -> Any:
    copy = None
    for event in events:
        copy = event.mutate(copy)
    return copy


def instants_never_run_backwards(task: Task) -> bool:
    instants = [entry["at"] for entry in task.history]
    return instants == sorted(instants)


# A new task ------------------------------------------------------------------------------------


def test_a_newly_registered_task_is_green_open_and_has_no_history() -> None:
    task = Task.register(TASK)
    assert task.task_id == TASK
    assert level(task) == ("GREEN", False)
    assert task.status == "open"
    assert task.history == []
    assert task.deadline is None


def test_a_task_name_always_maps_to_the_same_aggregate() -> None:
    assert Task.id_for(TASK) == Task.id_for(TASK)
    assert Task.id_for(TASK) != Task.id_for("task-43")
    assert Task.register(TASK).id == Task.id_for(TASK)


def test_an_assignment_records_the_agent_the_start_and_the_deadline() -> None:
    task = new_task(assigned(at(10), "ada", deadline=at(11)))
    assert task.agent_id == "ada"
    assert task.start == at(10)
    assert task.deadline == at(11)
    assert level(task) == ("GREEN", False)
    assert task.history == []


def test_an_assignment_whose_deadline_has_already_passed_is_an_emergency_at_once() -> None:
    task = new_task(assigned(at(12), deadline=at(11)))
    assert level(task) == ("RED", True)
    assert moves(task) == [(at(12), "RED", True)]


# Deadline over time ----------------------------------------------------------------------------


def test_a_task_ticked_long_after_its_deadline_records_each_crossing_at_its_exact_instant() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(12), responsive())
    assert moves(task) == [
        (at(10, 30), "YELLOW", False),
        (at(10, 45), "ORANGE", False),
        (at(10, 54), "RED", False),
        (at(11), "RED", True),
    ]
    assert [(entry["from"], entry["to"]) for entry in task.history] == [
        ("GREEN", "YELLOW"),
        ("YELLOW", "ORANGE"),
        ("ORANGE", "RED"),
        ("RED", "RED"),
    ]
    assert level(task) == ("RED", True)


def test_history_entries_carry_the_instant_both_levels_the_emergency_flag_and_a_reason() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(10, 40), responsive())
    [entry] = task.history
    assert set(entry) == {"at", "from", "to", "emergency", "reason"}
    assert entry["at"] == at(10, 30)
    assert entry["from"] == "GREEN"
    assert entry["to"] == "YELLOW"
    assert entry["emergency"] is False
    assert isinstance(entry["reason"], str)
    assert entry["reason"]


def test_a_task_with_exactly_half_its_time_left_is_still_green() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(10, 30), responsive())
    assert level(task) == ("GREEN", False)
    assert task.history == []


def test_a_task_a_microsecond_past_half_its_time_is_yellow_from_the_half_way_instant() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(10, 30, 0, 1), responsive())
    assert moves(task) == [(at(10, 30), "YELLOW", False)]


def test_a_task_ticked_exactly_at_its_deadline_is_an_emergency_from_the_deadline() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(11), responsive())
    assert moves(task)[-1] == (at(11), "RED", True)
    assert len(task.history) == 4


def test_ticking_often_records_the_same_history_as_ticking_once() -> None:
    once = new_task(assigned(at(10), deadline=at(11)))
    once.tick(at(12), responsive())
    often = new_task(assigned(at(10), deadline=at(11)))
    now = at(10)
    while now <= at(12):
        often.tick(now, responsive())
        now += timedelta(minutes=7)
    often.tick(at(12), responsive())
    assert moves(often) == moves(once)


def test_ticking_again_at_the_same_time_changes_nothing() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(12), responsive())
    task.collect_events()
    task.tick(at(12), responsive())
    task.tick(at(13), responsive())
    assert task.collect_events() == []
    assert len(task.history) == 4


def test_an_alert_arriving_between_crossings_first_records_the_crossings_it_missed() -> None:
    task = new_task(assigned(at(10), deadline=at(11)), crisis(at(10, 50), Stage.YELLOW))
    assert moves(task) == [(at(10, 30), "YELLOW", False), (at(10, 45), "ORANGE", False)]
    assert level(task) == ("ORANGE", False)


# Coordination crisis ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crisis_level", "expected"),
    [(Stage.YELLOW, "YELLOW"), (Stage.ORANGE, "ORANGE"), (Stage.RED, "RED")],
)
def test_a_crisis_raises_the_task_to_its_level(crisis_level: Stage, expected: str) -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 10), crisis_level))
    assert level(task) == (expected, False)
    assert moves(task) == [(at(10, 10), expected, False)]


def test_a_milder_crisis_does_not_lower_a_more_severe_one() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 10), Stage.RED), crisis(at(10, 20), Stage.YELLOW))
    assert level(task) == ("RED", False)


def test_a_more_severe_crisis_raises_a_milder_one() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 10), Stage.YELLOW), crisis(at(10, 20), Stage.ORANGE))
    assert moves(task) == [(at(10, 10), "YELLOW", False), (at(10, 20), "ORANGE", False)]


def test_a_later_green_crisis_alert_clears_the_crisis() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 10), Stage.RED), crisis(at(10, 20), Stage.GREEN))
    assert level(task) == ("GREEN", False)
    assert moves(task) == [(at(10, 10), "RED", False), (at(10, 20), "GREEN", False)]


def test_a_green_crisis_alert_leaves_the_deadline_rule_in_force() -> None:
    task = new_task(assigned(at(10), deadline=at(11)), crisis(at(10, 10), Stage.RED), crisis(at(10, 50), Stage.GREEN))
    assert level(task) == ("ORANGE", False)


def test_a_new_crisis_after_a_green_one_counts_again() -> None:
    task = new_task(
        assigned(at(10)),
        crisis(at(10, 10), Stage.RED),
        crisis(at(10, 20), Stage.GREEN),
        crisis(at(10, 30), Stage.YELLOW),
    )
    assert level(task) == ("YELLOW", False)


def test_a_reassignment_moves_the_task_to_the_new_agent_and_clears_the_crisis() -> None:
    task = new_task(assigned(at(10), "ada"), crisis(at(10, 10), Stage.RED), reassigned(at(10, 20), "bob"))
    assert task.agent_id == "bob"
    assert level(task) == ("GREEN", False)
    assert moves(task)[-1] == (at(10, 20), "GREEN", False)


def test_only_crises_since_the_last_reassignment_count() -> None:
    task = new_task(
        assigned(at(10), "ada"),
        crisis(at(10, 10), Stage.RED),
        reassigned(at(10, 20), "bob"),
        crisis(at(10, 30), Stage.YELLOW, agent="bob"),
    )
    assert level(task) == ("YELLOW", False)


def test_a_reassignment_does_not_clear_the_deadline() -> None:
    task = new_task(assigned(at(10), "ada", deadline=at(11)), reassigned(at(10, 50), "bob"))
    assert task.deadline == at(11)
    assert level(task) == ("ORANGE", False)


# Out-of-order crisis alerts (each alert counts at its own timestamp) ----------------------------


def test_a_late_arriving_green_crisis_older_than_a_red_one_does_not_clear_it() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 20), Stage.RED), crisis(at(10, 10), Stage.GREEN))
    assert level(task) == ("RED", False)


def test_a_late_arriving_red_crisis_older_than_a_green_one_stays_cleared() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 20), Stage.GREEN), crisis(at(10, 10), Stage.RED))
    assert level(task) == ("GREEN", False)


def test_a_late_arriving_crisis_from_before_the_last_reassignment_does_not_count() -> None:
    task = new_task(assigned(at(10), "ada"), reassigned(at(10, 30), "bob"))
    feed(task, crisis(at(10, 10), Stage.RED, agent="ada"))
    assert level(task) == ("GREEN", False)


def test_a_late_arriving_alert_from_before_a_reassignment_leaves_the_task_with_its_new_agent() -> None:
    task = new_task(assigned(at(10), "ada"), reassigned(at(10, 30), "bob"))
    feed(task, crisis(at(10, 10), Stage.GREEN, agent="ada"))
    assert task.agent_id == "bob"


# Completion and milestones ---------------------------------------------------------------------


def test_completing_a_task_makes_it_green_and_completed() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 10), Stage.RED), completed(at(10, 30)))
    assert task.status == "completed"
    assert level(task) == ("GREEN", False)
    assert moves(task)[-1] == (at(10, 30), "GREEN", False)
    assert task.history[-1]["from"] == "RED"


def test_a_completed_task_no_longer_escalates_when_its_deadline_passes() -> None:
    task = new_task(assigned(at(10), deadline=at(11)), completed(at(10, 20)))
    recorded = moves(task)
    task.tick(at(15), responsive())
    assert moves(task) == recorded
    assert level(task) == ("GREEN", False)
    assert task.status == "completed"


def test_a_crisis_on_a_completed_task_neither_reopens_nor_escalates_it() -> None:
    task = new_task(assigned(at(10)), completed(at(10, 20)), crisis(at(10, 30), Stage.RED))
    assert task.status == "completed"
    assert level(task) == ("GREEN", False)


def test_completing_a_completed_task_again_changes_nothing() -> None:
    task = new_task(assigned(at(10)), completed(at(10, 20)))
    recorded = moves(task)
    feed(task, completed(at(10, 30)))
    assert moves(task) == recorded
    assert task.status == "completed"


def test_a_new_assignment_reopens_a_completed_task() -> None:
    task = new_task(assigned(at(10)), completed(at(10, 20)), assigned(at(12), "bob", deadline=at(13)))
    assert task.status == "open"
    assert task.agent_id == "bob"
    assert task.start == at(12)
    assert task.deadline == at(13)
    assert level(task) == ("GREEN", False)
    task.tick(at(12, 40), responsive("bob"))
    assert moves(task)[-1] == (at(12, 30), "YELLOW", False)


def test_a_failing_milestone_is_orange() -> None:
    task = new_task(milestone(at(10), "failing"), task_id=MILESTONE)
    assert level(task) == ("ORANGE", False)
    assert task.status == "open"
    assert moves(task) == [(at(10), "ORANGE", False)]


@pytest.mark.parametrize("status", ["passing", "complete"])
def test_a_passing_or_complete_milestone_is_resolved(status: str) -> None:
    task = new_task(milestone(at(10), "failing"), milestone(at(11), status), task_id=MILESTONE)
    assert task.status == "completed"
    assert level(task) == ("GREEN", False)
    assert moves(task)[-1] == (at(11), "GREEN", False)


def test_a_milestone_that_fails_again_after_passing_is_reopened_at_orange() -> None:
    task = new_task(milestone(at(10), "passing"), milestone(at(11), "failing"), task_id=MILESTONE)
    assert task.status == "open"
    assert level(task) == ("ORANGE", False)
    assert moves(task)[-1] == (at(11), "ORANGE", False)


# Deadline warnings -----------------------------------------------------------------------------


def test_a_first_warning_with_an_unknown_start_marks_the_half_way_point() -> None:
    task = new_task(warning(at(10), timedelta(minutes=30)))
    assert task.start == at(9, 30)
    assert task.deadline == at(10, 30)
    assert level(task) == ("YELLOW", False)
    task.tick(at(11), responsive())
    assert moves(task) == [
        (at(10), "YELLOW", False),
        (at(10, 15), "ORANGE", False),
        (at(10, 24), "RED", False),
        (at(10, 30), "RED", True),
    ]


def test_a_warning_on_an_assigned_task_keeps_the_assignment_start() -> None:
    task = new_task(assigned(at(10)), warning(at(10, 40), timedelta(minutes=20)))
    assert task.start == at(10)
    assert task.deadline == at(11)
    assert level(task) == ("YELLOW", False)
    task.tick(at(11, 30), responsive())
    assert moves(task)[1:] == [
        (at(10, 45), "ORANGE", False),
        (at(10, 54), "RED", False),
        (at(11), "RED", True),
    ]


def test_a_warned_task_is_at_least_yellow_even_with_most_of_its_time_left() -> None:
    task = new_task(assigned(at(10), deadline=at(12)), warning(at(10, 10), timedelta(minutes=110)))
    assert task.deadline == at(12)
    assert level(task) == ("YELLOW", False)


def test_a_warning_replaces_the_assigned_deadline() -> None:
    task = new_task(assigned(at(10), deadline=at(12)), warning(at(11), timedelta(minutes=10)))
    assert task.deadline == at(11, 10)
    assert level(task) == ("ORANGE", False)


def test_the_latest_warning_sets_the_deadline_but_not_the_start() -> None:
    task = new_task(warning(at(10), timedelta(minutes=30)), warning(at(10, 10), timedelta(minutes=30)))
    assert task.start == at(9, 30)
    assert task.deadline == at(10, 40)
    assert level(task) == ("YELLOW", False)


def test_an_older_warning_arriving_late_does_not_move_the_deadline() -> None:
    task = new_task(warning(at(10, 10), timedelta(minutes=30)), warning(at(10), timedelta(hours=1)))
    assert task.deadline == at(10, 40)


# The agent rule --------------------------------------------------------------------------------


def test_a_task_escalates_when_its_agent_is_flagged_unresponsive() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    before = agent.view()
    agent.mark_unresponsive(at(10, 40), at(10), "flag", {})
    task.reconsider(at(10, 40), before, agent.view())
    assert level(task) == ("ORANGE", False)
    assert moves(task) == [(at(10, 40), "ORANGE", False)]


def test_a_flagged_agent_escalates_its_task_at_each_silence_threshold() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    before = agent.view()
    agent.mark_unresponsive(at(10, 10), at(10), "flag", {})
    task.reconsider(at(10, 10), before, agent.view())
    task.tick(at(12, 30), agent.view())
    assert moves(task) == [
        (at(10, 10), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(11), "RED", False),
        (at(12), "RED", True),
    ]


def test_a_task_takes_the_higher_of_its_deadline_and_its_agents_silence() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada", deadline=at(11)))
    before = agent.view()
    agent.mark_unresponsive(at(10, 20), at(10), "flag", {})
    task.reconsider(at(10, 20), before, agent.view())
    task.tick(at(12), agent.view())
    assert moves(task) == [
        (at(10, 20), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(10, 54), "RED", False),
        (at(11), "RED", True),
    ]


def test_a_heartbeat_clears_the_agent_and_brings_its_task_back_to_green() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    before = agent.view()
    agent.mark_unresponsive(at(10, 40), at(10), "flag", {})
    task.reconsider(at(10, 40), before, agent.view())
    before = agent.view()
    agent.see_activity(at(10, 50), "heartbeat")
    task.reconsider(at(10, 50), before, agent.view())
    assert level(task) == ("GREEN", False)
    assert moves(task)[-1] == (at(10, 50), "GREEN", False)
    task.tick(at(15), agent.view())
    assert moves(task)[-1] == (at(10, 50), "GREEN", False)


def test_silence_crossings_reached_before_a_heartbeat_are_recorded_before_it_clears() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    before = agent.view()
    agent.mark_unresponsive(at(10, 10), at(10), "flag", {})
    task.reconsider(at(10, 10), before, agent.view())
    before = agent.view()
    agent.see_activity(at(11, 30), "heartbeat")
    task.reconsider(at(11, 30), before, agent.view())
    assert moves(task) == [
        (at(10, 10), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(11), "RED", False),
        (at(11, 30), "GREEN", False),
    ]


def test_reassigning_a_task_away_from_a_silent_agent_brings_it_back_to_green() -> None:
    ada = Agent.register("ada")
    bob = Agent.register("bob")
    task = new_task(assigned(at(10), "ada"))
    before = ada.view()
    ada.mark_unresponsive(at(10, 40), at(10), "flag", {})
    task.reconsider(at(10, 40), before, ada.view())
    task.receive(reassigned(at(10, 50), "bob"), ada.view(), bob.view())
    assert task.agent_id == "bob"
    assert level(task) == ("GREEN", False)
    task.tick(at(15), bob.view())
    assert moves(task) == [(at(10, 40), "ORANGE", False), (at(10, 50), "GREEN", False)]


def test_reassigning_a_task_to_a_silent_agent_escalates_it() -> None:
    bob = AgentView("bob", True, at(9))
    task = new_task(assigned(at(10), "ada"))
    task.receive(reassigned(at(10, 15), "bob"), responsive("ada"), bob)
    assert level(task) == ("RED", False)


def test_an_overdue_task_stays_an_emergency_whatever_its_agent_does() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada", deadline=at(11)))
    task.tick(at(11, 30), agent.view())
    before = agent.view()
    agent.mark_unresponsive(at(11, 40), at(11), "flag", {})
    task.reconsider(at(11, 40), before, agent.view())
    before = agent.view()
    agent.see_activity(at(11, 50), "heartbeat")
    task.reconsider(at(11, 50), before, agent.view())
    assert level(task) == ("RED", True)
    assert moves(task)[-1] == (at(11), "RED", True)


def test_a_task_whose_agent_is_flagged_again_without_news_still_records_every_silence_crossing() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    before = agent.view()
    agent.mark_unresponsive(at(10, 10), at(10), "flag-1", {})
    task.reconsider(at(10, 10), before, agent.view())
    # A second flag with the same last activity tells the task nothing new about its agent.
    agent.mark_unresponsive(at(10, 50), at(10), "flag-2", {})
    task.tick(at(12, 30), agent.view())
    assert moves(task) == [
        (at(10, 10), "YELLOW", False),
        (at(10, 30), "ORANGE", False),
        (at(11), "RED", False),
        (at(12), "RED", True),
    ]


# Replay ----------------------------------------------------------------------------------------


def eventful_task() -> tuple[Task, list[Any]]:
    agent = Agent.register("ada")
    task = new_task(
        assigned(at(10), "ada", deadline=at(12)),
        crisis(at(10, 5), Stage.YELLOW),
        warning(at(10, 20), timedelta(minutes=100)),
    )
    before = agent.view()
    agent.mark_unresponsive(at(10, 30), at(10, 25), "flag", {})
    task.reconsider(at(10, 30), before, agent.view())
    task.tick(at(11, 30), agent.view())
    task.receive(reassigned(at(11, 35), "bob"), agent.view(), responsive("bob"))
    feed(task, crisis(at(11, 40), Stage.ORANGE, agent="bob"), completed(at(11, 45)))
    feed(task, assigned(at(13), "cy", deadline=at(14)))
    task.tick(at(15), responsive("cy"))
    return task, task.collect_events()


def test_replaying_a_tasks_events_rebuilds_an_equal_task() -> None:
    task, events = eventful_task()
    copy = replay(events)
    assert copy == task
    assert copy.history == task.history
    assert (copy.stage, copy.status, copy.agent_id, copy.deadline) == (
        task.stage,
        task.status,
        task.agent_id,
        task.deadline,
    )
    assert len(task.history) >= 8


def test_replaying_a_task_never_consults_the_rulebook() -> None:
    task, events = eventful_task()
    refuse = IllegalTransition("the rulebook was consulted during replay")
    with mock.patch.object(rulebook.RULEBOOK, "get_transitions", side_effect=refuse):
        copy = replay(events)
        with pytest.raises(IllegalTransition):
            feed(copy, completed(at(16)))
    assert replay(events) == task


def test_replaying_part_of_the_events_gives_the_task_as_it_was_then() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(10, 50), responsive())
    events = task.collect_events()
    task.tick(at(12), responsive())
    copy = replay(events)
    assert level(copy) == ("ORANGE", False)
    assert moves(copy) == moves(task)[:2]


# Out-of-order alerts ---------------------------------------------------------------------------


def test_an_older_alert_never_records_history_earlier_than_what_is_recorded() -> None:
    task = new_task(assigned(at(10)), crisis(at(10, 50), Stage.ORANGE), crisis(at(10, 20), Stage.RED))
    assert moves(task) == [(at(10, 50), "ORANGE", False), (at(10, 50), "RED", False)]


def test_an_older_completion_is_recorded_no_earlier_than_the_last_crossing() -> None:
    task = new_task(assigned(at(10), deadline=at(11)))
    task.tick(at(12), responsive())
    feed(task, completed(at(10, 40)))
    assert task.status == "completed"
    assert moves(task)[-1] == (at(11), "GREEN", False)
    assert instants_never_run_backwards(task)


def test_ticking_with_an_older_time_records_nothing_earlier() -> None:
    task = new_task(assigned(at(10), deadline=at(11)), crisis(at(10, 50), Stage.YELLOW))
    task.tick(at(10, 35), responsive())
    assert instants_never_run_backwards(task)
    assert all(entry["at"] >= at(10, 30) for entry in task.history)


@pytest.mark.parametrize("seed", range(12))
def test_history_never_runs_backwards_whatever_order_alerts_arrive_in(seed: int) -> None:
    alerts = [
        assigned(at(10), "ada", deadline=at(12)),
        crisis(at(10, 15), Stage.ORANGE),
        crisis(at(10, 25), Stage.GREEN),
        warning(at(10, 40), timedelta(minutes=80)),
        reassigned(at(10, 55), "bob"),
        crisis(at(11, 5), Stage.RED, agent="bob"),
        warning(at(11, 20), timedelta(minutes=15)),
        completed(at(11, 50)),
    ]
    random.Random(seed).shuffle(alerts)
    task = Task.register(TASK)
    for item in alerts:
        feed(task, item)
        task.tick(item.timestamp + timedelta(minutes=3), responsive(task.agent_id or "ada"))
    assert instants_never_run_backwards(task)
