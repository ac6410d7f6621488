"""The response procedures of `domain.responses`: who is told what, how urgently, and in which words (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import responses
from domain.notifications import PRIORITY, STANDARD, URGENT
from domain.responses import Ask, Policy, TaskContext
from domain.stages import Stage

POLICY = Policy()
TASK = "task-123"
AGENT = "backend-agent"
REASON = "10% of the time left (6m 00s before the deadline)"


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, second, tzinfo=UTC)


def move(when: datetime, to: str, reason: str, emergency: bool = False, source: str = "GREEN") -> dict[str, Any]:
    return {"at": when, "from": source, "to": to, "emergency": emergency, "reason": reason}


def context(
    agent_id: str | None = AGENT,
    time_left: timedelta | None = timedelta(minutes=6),
    history: list[dict[str, Any]] | None = None,
    recent_alerts: list[dict[str, Any]] | None = None,
) -> TaskContext:
    return TaskContext(TASK, agent_id, time_left, tuple(history or ()), tuple(recent_alerts or ()))


def routing(asks: list[Ask]) -> list[tuple[str, str, str]]:
    """Each ask as (recipient, priority, kind)."""
    return [(ask.recipient, ask.priority, ask.kind) for ask in asks]


# --- Policy ----------------------------------------------------------------------------------------------------------


def test_the_default_policy_tells_pm_agent_repeats_every_15_minutes_and_reassigns_automatically() -> None:
    assert Policy() == Policy("pm-agent", timedelta(minutes=15), True, ())


# --- time text -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_left", "text"),
    [
        (timedelta(minutes=12, seconds=30), "time left: 12m 30s"),
        (timedelta(hours=1, minutes=5), "time left: 1h 05m"),
        (timedelta(0), "deadline reached"),
        (-timedelta(milliseconds=500), "deadline reached"),
        (-timedelta(seconds=1), "deadline passed 1s ago"),
        (-timedelta(minutes=5), "deadline passed 5m 00s ago"),
        (-timedelta(hours=2, minutes=3), "deadline passed 2h 03m ago"),
        (None, "no deadline known"),
    ],
)
def test_the_time_text_says_how_long_is_left_that_the_deadline_is_reached_or_passed_or_unknown(
    time_left: timedelta | None, text: str
) -> None:
    assert context(time_left=time_left).time_text == text


def test_a_task_without_an_agent_is_described_as_having_no_agent() -> None:
    assert context(agent_id=None).agent == "no agent"
    assert context().agent == AGENT


def test_the_level_text_names_red_emergency_and_every_other_stage_by_its_level() -> None:
    assert [responses.level_text(stage) for stage in Stage] == [
        "GREEN", "YELLOW", "ORANGE", "RED", "RED (EMERGENCY)",
    ]


# --- a task entering a level -----------------------------------------------------------------------------------------


def test_a_task_entering_yellow_gets_a_standard_coordination_note_to_the_pm_and_a_gentle_reminder_to_its_agent(
) -> None:
    asks = responses.task_entered(context(time_left=timedelta(hours=1)), Stage.YELLOW, "50% of the time left", POLICY)

    assert routing(asks) == [("pm-agent", STANDARD, "escalation"), (AGENT, STANDARD, "reminder")]
    pm, agent = asks
    assert pm.message.startswith(f"[COORDINATION] {TASK} (agent {AGENT}) is YELLOW")
    assert "50% of the time left" in pm.message
    assert "time left: 1h 00m" in pm.message
    assert agent.message.startswith("[REMINDER] A gentle reminder about task-123")
    assert "50% of the time left" in agent.message
    assert "time left: 1h 00m" in agent.message


def test_a_task_entering_orange_gets_priority_messages_saying_monitoring_is_increased() -> None:
    asks = responses.task_entered(context(time_left=timedelta(minutes=20)), Stage.ORANGE, "20% left", POLICY)

    assert routing(asks) == [("pm-agent", PRIORITY, "escalation"), (AGENT, PRIORITY, "reminder")]
    pm, agent = asks
    assert pm.message.startswith(f"[PRIORITY] {TASK} (agent {AGENT}) is ORANGE: 20% left; time left: 20m 00s")
    assert pm.message.endswith("Monitoring increased.")
    assert agent.message.startswith("⏰ [REMINDER] task-123 is ORANGE, time left: 20m 00s")
    assert "make it your priority (20% left)" in agent.message


def test_a_task_entering_red_is_an_urgent_coordination_crisis_for_the_pm_and_an_urgent_ping_to_its_agent() -> None:
    asks = responses.task_entered(context(), Stage.RED, REASON, POLICY)

    assert routing(asks) == [("pm-agent", URGENT, "crisis"), (AGENT, URGENT, "ping")]
    pm, agent = asks
    assert pm.message.startswith("🚨 URGENT: Coordination crisis for task-123")
    assert pm.message == (
        f"🚨 URGENT: Coordination crisis for {TASK} (agent {AGENT}) is RED: {REASON}; time left: 6m 00s."
    )
    assert agent.message.startswith("🚨 [CRISIS] task-123 is RED")
    assert REASON in agent.message
    assert agent.message.endswith("Reply with your status now.")


@pytest.mark.parametrize("stage", [Stage.YELLOW, Stage.ORANGE, Stage.RED])
def test_a_task_without_an_agent_entering_a_level_only_tells_the_pm(stage: Stage) -> None:
    asks = responses.task_entered(context(agent_id=None), stage, REASON, POLICY)

    assert [ask.recipient for ask in asks] == ["pm-agent"]
    assert "(agent no agent)" in asks[0].message


@pytest.mark.parametrize("stage", [Stage.GREEN, Stage.EMERGENCY])
def test_green_and_emergency_are_not_handled_as_a_task_entering_a_level(stage: Stage) -> None:
    assert responses.task_entered(context(), stage, REASON, POLICY) == []


def test_the_pm_named_by_the_policy_is_the_one_told() -> None:
    asks = responses.task_entered(context(), Stage.RED, REASON, Policy(pm_agent="lead"))

    assert asks[0].recipient == "lead"


# --- emergency reassignment protocol ---------------------------------------------------------------------------------


def emergency_context() -> TaskContext:
    return context(
        time_left=-timedelta(minutes=5),
        history=[move(at(21), "RED", "10% of the time left"), move(at(21, 30), "RED", "deadline reached", True, "RED")],
        recent_alerts=[{"type": "TASK_ASSIGNED", "timestamp": "2025-07-16T20:00:00Z"}],
    )


def test_the_emergency_protocol_with_a_backup_reassigns_and_tells_the_pm_the_backup_with_handover_and_the_old_agent(
) -> None:
    asks = responses.emergency_protocol(emergency_context(), "deadline passed 5m 00s ago", "docs-agent", True, POLICY)

    assert routing(asks) == [
        ("pm-agent", URGENT, "emergency"),
        ("docs-agent", URGENT, "assignment"),
        (AGENT, PRIORITY, "status_check"),
    ]
    pm, backup, old = asks
    assert pm.message.startswith(f"🚨 EMERGENCY: {TASK} (agent {AGENT}) is RED (EMERGENCY): deadline passed 5m 00s ago")
    assert "deadline passed 5m 00s ago" in pm.message
    assert pm.message.endswith("Reassigned to docs-agent.")
    assert backup.message.startswith(f"🚨 [ASSIGNMENT] You now own {TASK} (emergency reassignment from {AGENT}")
    assert "Handover for task-123: history: 2025-07-16T21:00:00Z GREEN→RED: 10% of the time left" in backup.message
    assert "2025-07-16T21:30:00Z RED→RED EMERGENCY: deadline reached" in backup.message
    assert "Last alerts: TASK_ASSIGNED at 2025-07-16T20:00:00Z." in backup.message
    assert old.message.startswith(f"[STATUS CHECK] {TASK} was reassigned to docs-agent")
    assert old.message.endswith("Please report your status.")


def test_the_emergency_protocol_with_a_backup_but_no_auto_reassignment_only_recommends_the_backup_to_the_pm() -> None:
    asks = responses.emergency_protocol(
        emergency_context(), "deadline passed 5m 00s ago", "docs-agent", False, Policy(auto_reassign=False)
    )

    assert routing(asks) == [("pm-agent", URGENT, "emergency")]
    assert asks[0].message.startswith("🚨 EMERGENCY: task-123")
    assert asks[0].message.endswith("Recommended backup agent: docs-agent.")
    assert "Reassigned" not in asks[0].message


def test_the_emergency_protocol_without_a_backup_asks_the_pm_to_reassign_by_hand() -> None:
    asks = responses.emergency_protocol(emergency_context(), "agent silent for 2h 05m", None, True, POLICY)

    assert routing(asks) == [("pm-agent", URGENT, "emergency")]
    assert "agent silent for 2h 05m" in asks[0].message
    assert asks[0].message.endswith("No responsive backup agent is available: reassign it by hand.")


def test_the_emergency_protocol_for_a_task_without_an_agent_sends_no_status_check() -> None:
    asks = responses.emergency_protocol(context(agent_id=None), "deadline reached", "docs-agent", True, POLICY)

    assert routing(asks) == [("pm-agent", URGENT, "emergency"), ("docs-agent", URGENT, "assignment")]
    assert "emergency reassignment from no agent" in asks[1].message


# --- handover --------------------------------------------------------------------------------------------------------


def test_the_handover_lists_the_last_five_moves_and_the_last_five_alerts() -> None:
    history = [move(at(10, minute), "YELLOW", f"reason {minute}") for minute in range(7)]
    alerts = [{"type": "COORDINATION_CRISIS", "timestamp": f"2025-07-16T10:0{minute}:00Z"} for minute in range(7)]

    text = responses.handover(context(history=history, recent_alerts=alerts))

    assert text.startswith("Handover for task-123: history: 2025-07-16T10:02:00Z GREEN→YELLOW: reason 2; ")
    assert "reason 1" not in text
    assert "reason 6" in text
    assert "10:01:00Z" not in text
    assert text.endswith(
        "Last alerts: COORDINATION_CRISIS at 2025-07-16T10:02:00Z; COORDINATION_CRISIS at 2025-07-16T10:03:00Z; "
        "COORDINATION_CRISIS at 2025-07-16T10:04:00Z; COORDINATION_CRISIS at 2025-07-16T10:05:00Z; "
        "COORDINATION_CRISIS at 2025-07-16T10:06:00Z."
    )


def test_a_handover_with_no_history_and_no_alerts_says_none() -> None:
    assert responses.handover(context()) == "Handover for task-123: history: none. Last alerts: none."


def test_a_handover_shows_alerts_missing_a_type_or_time_with_a_question_mark() -> None:
    assert "Last alerts: ? at ?." in responses.handover(context(recent_alerts=[{}]))


# --- an agent entering a level ---------------------------------------------------------------------------------------


def test_an_agent_entering_yellow_or_orange_tells_only_the_pm_and_lists_its_open_tasks() -> None:
    yellow = responses.agent_entered("ada", Stage.YELLOW, "silent for 10m", ["task-1", "task-2"], POLICY)
    orange = responses.agent_entered("ada", Stage.ORANGE, "silent for 40m", ["task-1"], POLICY)

    assert routing(yellow) == [("pm-agent", STANDARD, "agent_escalation")]
    assert yellow[0].message == "[COORDINATION] agent ada is YELLOW: silent for 10m; open tasks: task-1, task-2."
    assert routing(orange) == [("pm-agent", PRIORITY, "agent_escalation")]
    assert orange[0].message.startswith("[PRIORITY] agent ada is ORANGE: silent for 40m; open tasks: task-1")
    assert orange[0].message.endswith("Monitoring increased.")


def test_an_agent_entering_red_is_an_urgent_crisis_for_the_pm_and_an_urgent_ping_to_the_agent() -> None:
    asks = responses.agent_entered("ada", Stage.RED, "silent for 1h 10m", [], POLICY)

    assert routing(asks) == [("pm-agent", URGENT, "agent_crisis"), ("ada", URGENT, "ping")]
    assert asks[0].message == "🚨 URGENT: agent ada is RED: silent for 1h 10m; open tasks: none."
    assert asks[1].message.startswith("🚨 [CRISIS] You have been silent: silent for 1h 10m.")


def test_an_agent_entering_emergency_tells_the_pm_its_tasks_go_through_the_emergency_protocol() -> None:
    asks = responses.agent_entered("ada", Stage.EMERGENCY, "silent for 2h 01m", ["task-1"], POLICY)

    assert routing(asks) == [("pm-agent", URGENT, "agent_emergency")]
    assert asks[0].message.startswith(
        "🚨 EMERGENCY: agent ada is RED (EMERGENCY): silent for 2h 01m; open tasks: task-1"
    )
    assert asks[0].message.endswith("Its tasks go through the emergency reassignment protocol.")


def test_an_agent_back_at_green_needs_no_notification() -> None:
    assert responses.agent_entered("ada", Stage.GREEN, "active", ["task-1"], POLICY) == []


def test_an_agents_task_list_shows_ten_tasks_and_says_how_many_more_there_are() -> None:
    tasks = [f"task-{number:02d}" for number in range(1, 14)]

    message = responses.agent_entered("ada", Stage.RED, "silent", tasks, POLICY)[0].message

    assert "open tasks: task-01, task-02, task-03, task-04, task-05, task-06, task-07, task-08, task-09, task-10 " \
        "and 3 more." in message
    assert "task-11" not in message


def test_an_agents_task_list_of_exactly_ten_tasks_has_no_and_more() -> None:
    tasks = [f"task-{number:02d}" for number in range(1, 11)]

    message = responses.agent_entered("ada", Stage.YELLOW, "silent", tasks, POLICY)[0].message

    assert message.endswith("task-10.")
    assert "more" not in message


# --- AGENT_UNRESPONSIVE ----------------------------------------------------------------------------------------------


def test_an_unresponsive_agent_gets_a_health_check_and_the_pm_is_asked_to_consider_reassigning_its_work() -> None:
    tasks = [f"task-{number}" for number in range(12)]

    asks = responses.agent_unresponsive("silent-agent", "silent for 1h 00m", tasks, POLICY)

    assert routing(asks) == [("silent-agent", PRIORITY, "health_check"), ("pm-agent", PRIORITY, "unresponsive")]
    assert asks[0].message == "[HEALTH CHECK] silent-agent, please respond: silent for 1h 00m."
    assert asks[1].message.startswith("[COORDINATION] Agent silent-agent is unresponsive (silent for 1h 00m)")
    assert "task-9 and 2 more" in asks[1].message
    assert asks[1].message.endswith("Consider reassigning its work.")


# --- DEADLINE_WARNING ------------------------------------------------------------------------------------------------


def test_a_deadline_warning_tells_the_pm_with_a_clock_and_asks_the_agent_for_its_completion_status() -> None:
    asks = responses.deadline_warning(context(), timedelta(minutes=15), POLICY)

    assert routing(asks) == [("pm-agent", PRIORITY, "deadline_warning"), (AGENT, PRIORITY, "reminder")]
    assert "⏰" in asks[0].message
    assert asks[0].message == (
        f"⏰ [COORDINATION] Deadline approaching for {TASK} (agent {AGENT}): 15m 00s left. "
        "Recommend boosting its priority."
    )
    assert asks[1].message == (
        f"[REMINDER] Task {TASK} deadline in 15m 00s. Please reply with its completion status."
    )


def test_a_deadline_warning_for_a_task_without_an_agent_only_tells_the_pm() -> None:
    asks = responses.deadline_warning(context(agent_id=None), timedelta(minutes=30), POLICY)

    assert routing(asks) == [("pm-agent", PRIORITY, "deadline_warning")]


# --- TASK_REASSIGNMENT -----------------------------------------------------------------------------------------------


def test_a_reassignment_tells_the_pm_hands_over_to_the_new_agent_and_checks_on_the_old_one() -> None:
    handed = context(
        agent_id="backup-agent",
        history=[move(at(21, 20), "ORANGE", "agent silent-agent unresponsive for 1h 00m")],
        recent_alerts=[{"type": "AGENT_UNRESPONSIVE", "timestamp": "2025-07-16T21:20:00Z"},
                       {"type": "TASK_REASSIGNMENT", "timestamp": "2025-07-16T22:10:00Z"}],
    )

    asks = responses.reassigned(handed, "silent-agent", "backup-agent", "Agent unresponsive", POLICY)

    assert routing(asks) == [
        ("pm-agent", STANDARD, "reassignment"),
        ("backup-agent", PRIORITY, "assignment"),
        ("silent-agent", STANDARD, "status_check"),
    ]
    pm, new, old = asks
    assert pm.message == f"[COORDINATION] {TASK} reassigned from silent-agent to backup-agent: Agent unresponsive."
    assert new.message.startswith(f"[ASSIGNMENT] You now own {TASK} (from silent-agent: Agent unresponsive). ")
    assert "history: 2025-07-16T21:20:00Z GREEN→ORANGE: agent silent-agent unresponsive for 1h 00m." in new.message
    assert "Last alerts: AGENT_UNRESPONSIVE at 2025-07-16T21:20:00Z; TASK_REASSIGNMENT at 2025-07-16T22:10:00Z." \
        in new.message
    assert old.message.startswith(f"[STATUS CHECK] {TASK} was reassigned to backup-agent (Agent unresponsive).")


def test_a_reassignment_from_no_agent_or_to_the_same_agent_sends_no_status_check() -> None:
    from_nobody = responses.reassigned(context(), None, "backup-agent", "load", POLICY)
    to_same = responses.reassigned(context(), "backup-agent", "backup-agent", "load", POLICY)

    assert [ask.recipient for ask in from_nobody] == ["pm-agent", "backup-agent"]
    assert "from no agent to backup-agent" in from_nobody[0].message
    assert [ask.recipient for ask in to_same] == ["pm-agent", "backup-agent"]


# --- PHASE1_MILESTONE ------------------------------------------------------------------------------------------------


def test_a_failing_milestone_tells_the_pm_and_the_assigned_agent_with_its_blocking_issues() -> None:
    asks = responses.milestone_failing(
        "PR #70 XP Quality Gate", "performance-agent", ["import errors", "test failures"], POLICY
    )

    assert routing(asks) == [("pm-agent", PRIORITY, "milestone"), ("performance-agent", PRIORITY, "milestone")]
    expected = (
        "[MILESTONE] PR #70 XP Quality Gate is failing (agent performance-agent). "
        "Blocking issues: import errors; test failures."
    )
    assert [ask.message for ask in asks] == [expected, expected]


def test_a_failing_milestone_without_issues_or_agent_says_so_and_only_tells_the_pm() -> None:
    asks = responses.milestone_failing("Gate", None, [], POLICY)

    assert routing(asks) == [("pm-agent", PRIORITY, "milestone")]
    assert asks[0].message == "[MILESTONE] Gate is failing (agent none). Blocking issues: none listed."


# --- repeats ---------------------------------------------------------------------------------------------------------


def test_a_repeat_reminds_the_pm_urgently_how_long_the_task_has_been_red_and_how_to_acknowledge() -> None:
    ask = responses.still_red(context(time_left=None), Stage.RED, "coordination crisis: red", at(21, 50), at(22, 5),
                              POLICY)

    assert (ask.recipient, ask.priority, ask.kind) == ("pm-agent", URGENT, "repeat")
    assert ask.message == (
        f"🚨 URGENT (repeat): {TASK} (agent {AGENT}) is still RED after 15m 00s, unacknowledged: "
        "coordination crisis: red; no deadline known. Acknowledge with: coordinator ack task-123"
    )


def test_a_repeat_for_an_emergency_says_red_emergency_and_how_late_the_task_is() -> None:
    ask = responses.still_red(context(time_left=-timedelta(hours=1)), Stage.EMERGENCY, "deadline reached",
                              at(21, 30), at(22, 30), POLICY)

    assert "is still RED (EMERGENCY) after 1h 00m" in ask.message
    assert "deadline passed 1h 00m ago" in ask.message
