"""The Task aggregate: its agent rule, replay, and alerts arriving out of order."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from domain import rulebook
from domain.agent import Agent
from domain.rulebook import IllegalTransition
from domain.rules import AgentView
from domain.stages import Stage
from domain.task import Task
from tests.unit.task_scenarios import (
    TASK,
    assigned,
    at,
    completed,
    crisis,
    feed,
    flag,
    heartbeat,
    instants_never_run_backwards,
    level,
    moves,
    new_task,
    reassigned,
    replay,
    responsive,
    warning,
)

# The agent rule --------------------------------------------------------------------------------


def test_a_task_escalates_when_its_agent_is_flagged_unresponsive() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    flag(agent, task, at(10, 40), at(10))
    assert level(task) == ("ORANGE", False)
    assert moves(task) == [(at(10, 40), "ORANGE", False)]


def test_a_flagged_agent_escalates_its_task_at_each_silence_threshold() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    flag(agent, task, at(10, 10), at(10))
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
    flag(agent, task, at(10, 20), at(10))
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
    flag(agent, task, at(10, 40), at(10))
    heartbeat(agent, task, at(10, 50))
    assert level(task) == ("GREEN", False)
    assert moves(task)[-1] == (at(10, 50), "GREEN", False)
    task.tick(at(15), agent.view())
    assert moves(task)[-1] == (at(10, 50), "GREEN", False)


def test_silence_crossings_reached_before_a_heartbeat_are_recorded_before_it_clears() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    flag(agent, task, at(10, 10), at(10))
    heartbeat(agent, task, at(11, 30))
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
    flag(ada, task, at(10, 40), at(10))
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
    flag(agent, task, at(11, 40), at(11))
    heartbeat(agent, task, at(11, 50))
    assert level(task) == ("RED", True)
    assert moves(task)[-1] == (at(11), "RED", True)


def test_a_task_whose_agent_is_flagged_again_without_news_still_records_every_silence_crossing() -> None:
    agent = Agent.register("ada")
    task = new_task(assigned(at(10), "ada"))
    flag(agent, task, at(10, 10), at(10), "flag-1")
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
    flag(agent, task, at(10, 30), at(10, 25))
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
    with mock.patch.object(rulebook, "allows", side_effect=refuse):
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
