"""The escalation rules as pure functions: thresholds, crossing instants, and the highest demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from domain.rules import (
    AgentView,
    Demand,
    deadline_crossings,
    deadline_demand,
    higher,
    silence_crossings,
    silence_demand,
)
from domain.stages import Stage

MICRO = timedelta(microseconds=1)
START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
LAST_SEEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 3, 1, hour, minute, second, micro, tzinfo=UTC)


def deadline_stage(now: datetime, start: datetime | None = START, deadline: datetime | None = DEADLINE) -> Stage:
    return deadline_demand(now, start, deadline).stage


def silent(since: datetime | None = LAST_SEEN, unresponsive: bool = True) -> AgentView:
    return AgentView("agent-7", unresponsive, since)


def silence_stage(silence: timedelta) -> Stage:
    return silence_demand(LAST_SEEN + silence, silent()).stage


# Stages ---------------------------------------------------------------------------------------


def test_stages_rank_from_green_up_to_emergency() -> None:
    ranks = [stage.rank for stage in (Stage.GREEN, Stage.YELLOW, Stage.ORANGE, Stage.RED, Stage.EMERGENCY)]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 5


def test_emergency_is_reported_as_level_red_with_the_emergency_flag() -> None:
    assert Stage.EMERGENCY.level == "RED"
    assert Stage.EMERGENCY.emergency is True
    assert Stage.RED.level == "RED"
    assert Stage.RED.emergency is False


@pytest.mark.parametrize("stage", [Stage.GREEN, Stage.YELLOW, Stage.ORANGE, Stage.RED])
def test_every_stage_below_emergency_reports_its_own_name_without_the_emergency_flag(stage: Stage) -> None:
    assert stage.level == stage.value
    assert stage.emergency is False


def test_level_names_are_read_in_any_case() -> None:
    assert Stage.from_level("red") is Stage.RED
    assert Stage.from_level(" Orange ") is Stage.ORANGE
    assert Stage.from_level("YELLOW") is Stage.YELLOW
    assert Stage.from_level("green") is Stage.GREEN


def test_only_red_with_the_emergency_flag_reads_as_emergency() -> None:
    assert Stage.from_level("red", emergency=True) is Stage.EMERGENCY
    assert Stage.from_level("orange", emergency=True) is Stage.ORANGE


# Deadline rule: boundaries --------------------------------------------------------------------


def test_a_task_with_more_than_half_its_time_left_is_green() -> None:
    assert deadline_stage(at(10, 10)) is Stage.GREEN


def test_a_task_at_the_very_start_of_its_window_is_green() -> None:
    assert deadline_stage(START) is Stage.GREEN


def test_a_task_with_exactly_half_its_time_left_is_green() -> None:
    assert deadline_stage(at(10, 30)) is Stage.GREEN


def test_a_task_with_just_under_half_its_time_left_is_yellow() -> None:
    assert deadline_stage(at(10, 30) + MICRO) is Stage.YELLOW


def test_a_task_with_exactly_a_quarter_of_its_time_left_is_yellow() -> None:
    assert deadline_stage(at(10, 45)) is Stage.YELLOW


def test_a_task_with_just_under_a_quarter_of_its_time_left_is_orange() -> None:
    assert deadline_stage(at(10, 45) + MICRO) is Stage.ORANGE


def test_a_task_with_exactly_a_tenth_of_its_time_left_is_orange() -> None:
    assert deadline_stage(at(10, 54)) is Stage.ORANGE


def test_a_task_with_just_under_a_tenth_of_its_time_left_is_red() -> None:
    assert deadline_stage(at(10, 54) + MICRO) is Stage.RED


def test_a_task_one_microsecond_before_its_deadline_is_red_but_not_an_emergency() -> None:
    demand = deadline_demand(DEADLINE - MICRO, START, DEADLINE)
    assert demand.stage is Stage.RED
    assert demand.stage.emergency is False


def test_a_task_exactly_at_its_deadline_is_an_emergency() -> None:
    demand = deadline_demand(DEADLINE, START, DEADLINE)
    assert demand.stage is Stage.EMERGENCY
    assert (demand.stage.level, demand.stage.emergency) == ("RED", True)


def test_a_task_past_its_deadline_is_an_emergency() -> None:
    assert deadline_stage(DEADLINE + MICRO) is Stage.EMERGENCY
    assert deadline_stage(DEADLINE + timedelta(days=3)) is Stage.EMERGENCY


@pytest.mark.parametrize(
    ("fraction_left", "expected"),
    [
        (1.0, Stage.GREEN),
        (0.75, Stage.GREEN),
        (0.5, Stage.GREEN),
        (0.4, Stage.YELLOW),
        (0.25, Stage.YELLOW),
        (0.2, Stage.ORANGE),
        (0.1, Stage.ORANGE),
        (0.05, Stage.RED),
        (0.0, Stage.EMERGENCY),
    ],
)
def test_the_deadline_stage_follows_the_share_of_a_ten_hour_window_still_left(
    fraction_left: float, expected: Stage
) -> None:
    start = at(0)
    deadline = at(10)
    now = deadline - (deadline - start) * fraction_left
    assert deadline_demand(now, start, deadline).stage is expected


def test_the_deadline_boundaries_are_exact_for_a_window_that_is_not_a_round_number() -> None:
    start = at(10)
    deadline = at(10, 0, 7)  # a seven-second window
    window = deadline - start
    for share, on_boundary, beyond in (
        (0.5, Stage.GREEN, Stage.YELLOW),
        (0.25, Stage.YELLOW, Stage.ORANGE),
        (0.1, Stage.ORANGE, Stage.RED),
    ):
        boundary = deadline - window * share
        assert deadline_demand(boundary, start, deadline).stage is on_boundary
        assert deadline_demand(boundary + MICRO, start, deadline).stage is beyond


def test_a_task_without_a_deadline_is_green_whatever_the_time() -> None:
    assert deadline_stage(at(23), START, None) is Stage.GREEN
    assert deadline_stage(at(23), None, None) is Stage.GREEN


def test_with_an_unknown_start_a_task_stays_green_until_its_deadline() -> None:
    assert deadline_stage(DEADLINE - MICRO, None, DEADLINE) is Stage.GREEN
    assert deadline_stage(DEADLINE, None, DEADLINE) is Stage.EMERGENCY


def test_a_deadline_set_before_the_start_is_an_emergency_once_reached() -> None:
    assert deadline_stage(at(12), at(12), at(11)) is Stage.EMERGENCY


def test_the_deadline_reason_is_given_in_words() -> None:
    assert deadline_demand(at(10, 50), START, DEADLINE).reason
    assert deadline_demand(at(11, 5), START, DEADLINE).reason


# Deadline rule: crossing instants -------------------------------------------------------------


def test_a_window_from_ten_to_eleven_crosses_at_ten_thirty_ten_forty_five_ten_fifty_four_and_eleven() -> None:
    assert sorted(deadline_crossings(START, DEADLINE)) == [at(10, 30), at(10, 45), at(10, 54), at(11)]


def test_each_deadline_crossing_is_the_last_instant_before_the_stage_changes() -> None:
    crossings = sorted(deadline_crossings(START, DEADLINE))
    stages = [Stage.GREEN, Stage.YELLOW, Stage.ORANGE, Stage.RED, Stage.EMERGENCY]
    for instant, before, after in zip(crossings[:-1], stages, stages[1:], strict=False):
        assert deadline_demand(instant, START, DEADLINE).stage is before
        assert deadline_demand(instant + MICRO, START, DEADLINE).stage is after


def test_the_stage_does_not_change_between_deadline_crossings() -> None:
    points = [START, *sorted(deadline_crossings(START, DEADLINE))]
    for earlier, later in pairwise(points):
        assert deadline_stage(earlier + MICRO) is deadline_stage(later - MICRO)


def test_without_a_known_start_the_only_deadline_crossing_is_the_deadline() -> None:
    assert deadline_crossings(None, DEADLINE) == [DEADLINE]


def test_without_a_deadline_there_are_no_deadline_crossings() -> None:
    assert deadline_crossings(START, None) == []
    assert deadline_crossings(None, None) == []


# Silence rule: boundaries ---------------------------------------------------------------------


def test_a_responsive_agent_demands_nothing() -> None:
    assert silence_demand(at(23), silent(unresponsive=False)).stage is Stage.GREEN


def test_no_agent_demands_nothing() -> None:
    assert silence_demand(at(23), None).stage is Stage.GREEN


def test_a_freshly_flagged_agent_is_yellow() -> None:
    assert silence_stage(timedelta(0)) is Stage.YELLOW
    assert silence_stage(timedelta(minutes=10)) is Stage.YELLOW


def test_an_agent_silent_for_exactly_thirty_minutes_is_yellow() -> None:
    assert silence_stage(timedelta(minutes=30)) is Stage.YELLOW


def test_an_agent_silent_for_thirty_minutes_and_a_microsecond_is_orange() -> None:
    assert silence_stage(timedelta(minutes=30) + MICRO) is Stage.ORANGE


def test_an_agent_silent_for_exactly_one_hour_is_orange() -> None:
    assert silence_stage(timedelta(hours=1)) is Stage.ORANGE


def test_an_agent_silent_for_one_hour_and_a_microsecond_is_red() -> None:
    assert silence_stage(timedelta(hours=1) + MICRO) is Stage.RED


def test_an_agent_silent_for_exactly_two_hours_is_red_but_not_an_emergency() -> None:
    assert silence_stage(timedelta(hours=2)) is Stage.RED


def test_an_agent_silent_for_two_hours_and_a_microsecond_is_an_emergency() -> None:
    stage = silence_stage(timedelta(hours=2) + MICRO)
    assert stage is Stage.EMERGENCY
    assert (stage.level, stage.emergency) == ("RED", True)


def test_an_agent_silent_for_a_day_is_an_emergency() -> None:
    assert silence_stage(timedelta(days=1)) is Stage.EMERGENCY


def test_a_flagged_agent_with_an_unknown_last_activity_is_yellow_forever() -> None:
    agent = silent(since=None)
    assert silence_demand(at(0), agent).stage is Stage.YELLOW
    assert silence_demand(at(23), agent).stage is Stage.YELLOW
    assert silence_crossings(agent) == []


def test_the_silence_reason_names_the_agent() -> None:
    assert "agent-7" in silence_demand(LAST_SEEN + timedelta(hours=3), silent()).reason


# Silence rule: crossing instants --------------------------------------------------------------


def test_silence_crosses_thirty_minutes_one_hour_and_two_hours_after_the_last_activity() -> None:
    assert sorted(silence_crossings(silent())) == [at(9, 30), at(10), at(11)]


def test_each_silence_crossing_is_the_last_instant_before_the_stage_changes() -> None:
    stages = [Stage.YELLOW, Stage.ORANGE, Stage.RED, Stage.EMERGENCY]
    for instant, before, after in zip(sorted(silence_crossings(silent())), stages[:-1], stages[1:], strict=True):
        assert silence_demand(instant, silent()).stage is before
        assert silence_demand(instant + MICRO, silent()).stage is after


def test_a_responsive_agent_has_no_silence_crossings() -> None:
    assert silence_crossings(silent(unresponsive=False)) == []
    assert silence_crossings(None) == []


# Higher demand --------------------------------------------------------------------------------


def test_the_higher_demand_wins() -> None:
    assert higher(Demand(Stage.YELLOW, "deadline"), Demand(Stage.RED, "silence")) == Demand(Stage.RED, "silence")
    assert higher(Demand(Stage.RED, "silence"), Demand(Stage.ORANGE, "crisis")) == Demand(Stage.RED, "silence")


def test_an_emergency_outranks_red() -> None:
    assert higher(Demand(Stage.RED, "crisis"), Demand(Stage.EMERGENCY, "deadline")).stage is Stage.EMERGENCY


def test_on_a_tie_the_earlier_rule_gives_the_reason() -> None:
    assert higher(Demand(Stage.ORANGE, "first"), Demand(Stage.ORANGE, "second")).reason == "first"


def test_a_reason_given_as_a_function_is_put_in_words_when_asked() -> None:
    assert Demand(Stage.RED, lambda: "late").reason == "late"
    assert Demand(Stage.RED, lambda: "late") == Demand(Stage.RED, "late")


def test_an_agent_s_change_sways_its_tasks_only_when_it_is_or_was_silent_and_its_silence_changed() -> None:
    from domain.rules import AgentView, silence_changed

    working = AgentView("ada", False, datetime(2025, 3, 1, 9, tzinfo=UTC), None)
    later_beat = AgentView("ada", False, datetime(2025, 3, 1, 10, tzinfo=UTC), None)
    silent = AgentView("ada", True, datetime(2025, 3, 1, 9, tzinfo=UTC), datetime(2025, 3, 1, 11, tzinfo=UTC))
    silent_again = AgentView("ada", True, datetime(2025, 3, 1, 9, tzinfo=UTC), datetime(2025, 3, 1, 12, tzinfo=UTC))
    assert not silence_changed(working, later_beat)
    assert silence_changed(working, silent) and silence_changed(silent, later_beat)
    assert not silence_changed(silent, silent_again)
