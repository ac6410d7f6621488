"""Property: tasks and agents fed any representable instants and durations never overflow, whatever the edge let in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from app.responder import Responder
from domain.agent import Agent
from domain.alerts import Alert
from domain.moments import EARLIEST, LATEST
from domain.responses import Policy
from domain.rules import AgentView
from domain.stages import Stage
from domain.task import Task
from tests.unit.task_scenarios import TASK, assigned, completed, crisis, milestone, reassigned, warning

INSTANTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)),
    st.sampled_from([EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None), datetime(9999, 12, 31, 23, 50),
                     datetime(1, 1, 1, 0, 10)]),
).map(lambda moment: moment.replace(tzinfo=UTC))
DURATIONS = st.one_of(st.timedeltas(min_value=timedelta(0)), st.sampled_from([timedelta.max, timedelta(minutes=15)]))
STAGES = st.sampled_from(list(Stage))


def alerts() -> st.SearchStrategy[Alert]:
    return st.one_of(
        st.builds(assigned, INSTANTS, st.sampled_from(["ada", "bob"]), st.one_of(st.none(), INSTANTS)),
        st.builds(warning, INSTANTS, DURATIONS),
        st.builds(crisis, INSTANTS, STAGES),
        st.builds(reassigned, INSTANTS, st.sampled_from(["ada", "bob"])),
        st.builds(completed, INSTANTS),
        st.builds(milestone, INSTANTS, st.sampled_from(["failing", "passing"])),
    )


VIEWS = st.one_of(st.none(), st.builds(AgentView, st.just("ada"), st.booleans(), st.one_of(st.none(), INSTANTS)))


@settings(max_examples=1_000, derandomize=True, database=None, deadline=None)
@given(st.lists(alerts(), min_size=1, max_size=6), VIEWS, INSTANTS, DURATIONS)
def test_a_task_fed_alerts_anywhere_in_time_records_them_without_overflowing(
    received: list[Alert], agent: AgentView | None, now: datetime, repeat: timedelta
) -> None:
    task = Task.register(TASK)
    for alert in received:
        task.receive(alert, agent, agent)
        task.next_crossing(alert.timestamp, agent)
    task.tick(now, agent)
    task.request_notifications(task.evaluated_at or now, [{"key": "k"}], urgent=True)
    responder = Responder(cast(Any, None), Policy(repeat_interval=repeat))  # repeat_due needs no workspace
    responder.repeat_due(task)
    instants = [entry["at"] for entry in task.history]
    assert instants == sorted(instants)


@settings(max_examples=1_000, derandomize=True, database=None, deadline=None)
@given(st.lists(st.tuples(st.booleans(), INSTANTS, st.one_of(st.none(), INSTANTS)), min_size=1, max_size=6), INSTANTS)
def test_an_agent_seen_or_silent_anywhere_in_time_is_judged_without_overflowing(
    changes: list[tuple[bool, datetime, datetime | None]], now: datetime
) -> None:
    agent = Agent.register("ada")
    for silent, at, last_activity in changes:
        if silent:
            agent.mark_unresponsive(at, last_activity, "flag", {})
        else:
            agent.see_activity(at, "seen")
        agent.next_crossing(at)
    agent.advance(agent.clamp(now))
    assert agent.next_crossing(LATEST) is None or agent.next_crossing(LATEST) == LATEST
