"""Tasks and agents at the ends of representable time: their arithmetic saturates or never comes due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from app.responder import Responder
from domain.agent import Agent
from domain.moments import EARLIEST, LATEST
from domain.responses import Policy
from domain.stages import Stage
from domain.task import Task
from tests.unit.task_scenarios import TASK, assigned, crisis, feed, warning

NEAR_THE_END = datetime(9999, 12, 31, 23, 50, tzinfo=UTC)
NEAR_THE_START = datetime(1, 1, 1, 0, 10, tzinfo=UTC)


def test_a_warning_near_year_1_with_more_time_remaining_than_has_passed_starts_the_task_at_the_first_instant() -> None:
    task = feed(Task.register(TASK), warning(NEAR_THE_START, timedelta(hours=1)))
    assert task.start == EARLIEST
    assert task.deadline == NEAR_THE_START + timedelta(hours=1)
    assert task.stage is Stage.YELLOW


def test_a_warning_whose_deadline_would_fall_after_year_9999_sets_the_deadline_at_the_last_instant() -> None:
    task = feed(Task.register(TASK), warning(NEAR_THE_END, timedelta(days=2)))
    assert task.deadline == LATEST
    task.tick(LATEST, None)
    assert task.stage is Stage.EMERGENCY


def test_a_task_due_at_the_last_instant_has_no_crossing_after_it() -> None:
    task = feed(Task.register(TASK), assigned(NEAR_THE_END, deadline=LATEST))
    assert task.next_crossing(LATEST) is None
    task.tick(LATEST, None)
    assert task.stage is Stage.EMERGENCY
    assert task.next_crossing(LATEST) is None


def test_a_red_crisis_near_the_end_of_time_is_never_due_for_a_reminder_past_it() -> None:
    task = feed(Task.register(TASK), crisis(NEAR_THE_END, Stage.RED))
    task.request_notifications(NEAR_THE_END, [{"key": "k"}], urgent=True)
    responder = Responder(cast(Any, None), Policy())
    assert task.in_crisis and task.pm_alerted_at == NEAR_THE_END
    assert responder.repeat_due(task) is None
    responder.repeat(task, LATEST)
    assert task.requests == 1


def test_an_agent_silent_since_just_before_the_end_of_time_only_crosses_the_thresholds_that_fit() -> None:
    agent = Agent.register("ada")
    last_activity = LATEST - timedelta(minutes=45)
    agent.mark_unresponsive(LATEST - timedelta(minutes=40), last_activity, "flag", {})
    assert agent.crossings() == [last_activity + timedelta(minutes=30)]
    agent.advance(LATEST)
    assert agent.stage is Stage.ORANGE
    assert agent.next_crossing(LATEST) is None


def test_judging_a_change_at_the_last_instant_stays_at_the_last_instant() -> None:
    task = feed(Task.register(TASK), assigned(LATEST))
    assert task.judging_time(LATEST, LATEST) == LATEST
    feed(task, crisis(LATEST, Stage.ORANGE))
    assert task.stage is Stage.ORANGE
