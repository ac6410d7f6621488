"""The Task aggregate driven by alerts, agent changes and the passing of time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.stages import Stage
from domain.task import Task
from tests.unit.task_scenarios import (
    MILESTONE,
    TASK,
    assigned,
    at,
    completed,
    crisis,
    feed,
    level,
    milestone,
    moves,
    new_task,
    reassigned,
    responsive,
    warning,
)

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
