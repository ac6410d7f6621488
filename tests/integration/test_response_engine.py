"""The response engine against a real SQLite store: which notifications each procedure puts in the outbox, and when.

Alerts are written as JSON Lines files and read with the real reader; notifications are read back from the
outbox table of the event store.
"""

from __future__ import annotations

from pathlib import Path

from domain.notifications import PRIORITY, STANDARD, URGENT
from domain.responses import Policy
from domain.stages import Stage
from domain.task import Task
from tests.alert_builders import assigned, crisis, heartbeat, milestone, reassignment, unresponsive, warning
from tests.integration.response_scenarios import (
    PM,
    Store,
    at,
    events_of,
    open_store,
    routes,
    stamp,
    stored,
)
from tests.integration.response_scenarios import store as store  # pytest fixture

# --- each response procedure -----------------------------------------------------------------------------------------


def test_a_task_passing_half_a_quarter_and_a_tenth_of_its_time_enters_yellow_orange_and_red_with_their_messages(
    store: Store,
) -> None:
    store.feed(assigned("task-1", "ada", stamp(10), deadline=stamp(11, 40)))
    assert store.rows() == []

    store.coordinator.tick(at(10, 49))
    assert store.rows() == []

    store.coordinator.tick(at(10, 51))
    yellow = store.rows()
    assert routes(yellow) == [(PM, STANDARD, "escalation"), ("ada", STANDARD, "reminder")]
    assert {row["requested_at"] for row in yellow} == {stored(10, 50)}
    assert yellow[0]["message"].startswith("[COORDINATION] task-1 (agent ada) is YELLOW: 50% of the time left")

    store.coordinator.tick(at(11, 16))
    orange = store.new_rows(2)
    assert routes(orange) == [(PM, PRIORITY, "escalation"), ("ada", PRIORITY, "reminder")]
    assert {row["requested_at"] for row in orange} == {stored(11, 15)}
    assert orange[0]["message"].startswith("[PRIORITY] task-1 (agent ada) is ORANGE")

    store.coordinator.tick(at(11, 31))
    red = store.new_rows(4)
    assert routes(red) == [(PM, URGENT, "crisis"), ("ada", URGENT, "ping")]
    assert {row["requested_at"] for row in red} == {stored(11, 30)}
    assert red[0]["message"].startswith("🚨 URGENT: Coordination crisis for task-1 (agent ada) is RED")
    assert "time left: 10m 00s" in red[0]["message"]
    assert {row["subject_kind"] for row in store.rows()} == {"task"}


def test_crisis_alerts_at_yellow_orange_and_red_notify_once_at_each_new_level(store: Store) -> None:
    store.feed(
        crisis("task-2", "bob", "yellow", stamp(10), "slow progress"),
        crisis("task-2", "bob", "Orange", stamp(10, 10), "blocked"),
        crisis("task-2", "bob", "RED", stamp(10, 20), "Still no response"),
    )

    rows = store.rows("task-2")
    assert routes(rows) == [
        (PM, STANDARD, "escalation"), ("bob", STANDARD, "reminder"),
        (PM, PRIORITY, "escalation"), ("bob", PRIORITY, "reminder"),
        (PM, URGENT, "crisis"), ("bob", URGENT, "ping"),
    ]
    assert [row["requested_at"] for row in rows[::2]] == [stored(10), stored(10, 10), stored(10, 20)]
    assert "coordination crisis: red (Still no response)" in rows[4]["message"]
    assert "no deadline known" in rows[4]["message"]


def test_a_second_crisis_alert_at_the_same_level_adds_no_escalation_notification(store: Store) -> None:
    store.feed(crisis("task-2", "bob", "red", stamp(10), "first"))
    before = len(store.rows())

    store.feed(crisis("task-2", "bob", "red", stamp(10, 5), "second"), crisis("task-2", "bob", "orange", stamp(10, 6)))

    assert before == 2
    assert store.new_rows(before) == []
    assert store.coordinator.get_task("task-2").stage is Stage.RED


def test_a_late_alert_at_the_same_level_neither_flaps_the_task_nor_notifies_again(store: Store) -> None:
    store.feed(assigned("task-1", "ada", stamp(10), deadline=stamp(12)))
    store.coordinator.tick(at(11, 5))  # records YELLOW at 11:00, the 50 % point
    before = len(store.rows())

    store.feed(crisis("task-1", "ada", "yellow", stamp(10, 59), "late news"))

    task = store.coordinator.get_task("task-1")
    assert [entry["to"] for entry in task.history] == ["YELLOW"]
    assert store.new_rows(before) == []


def test_a_deadline_warning_sends_a_clock_to_the_pm_and_a_reminder_to_the_agent_instead_of_a_yellow_note(
    store: Store,
) -> None:
    store.feed(assigned("task-5", "ada", stamp(10), deadline=stamp(12)))

    store.feed(warning("task-5", "ada", "90 minutes", stamp(10, 30)))

    rows = store.rows("task-5")
    assert routes(rows) == [(PM, PRIORITY, "deadline_warning"), ("ada", PRIORITY, "reminder")]
    assert rows[0]["message"].startswith("⏰ [COORDINATION] Deadline approaching for task-5 (agent ada): 1h 30m left.")
    assert rows[1]["message"] == "[REMINDER] Task task-5 deadline in 1h 30m. Please reply with its completion status."
    assert store.coordinator.get_task("task-5").stage is Stage.YELLOW


def test_the_newest_deadline_warning_is_answered_even_when_it_arrives_after_a_recorded_crossing(store: Store) -> None:
    store.feed(assigned("task-5", "ada", stamp(10), deadline=stamp(12)))
    store.coordinator.tick(at(11, 5))  # records YELLOW at 11:00

    store.feed(warning("task-5", "ada", "1 hour", stamp(10, 58)))

    assert store.coordinator.get_task("task-5").deadline == at(11, 58)
    assert ("pm-agent", PRIORITY, "deadline_warning") in routes(store.rows("task-5"))


def test_an_unresponsive_agent_gets_a_health_check_and_the_pm_a_note_naming_its_tasks(store: Store) -> None:
    store.feed(assigned("task-1", "ada", stamp(10)), assigned("task-2", "ada", stamp(10)))

    store.feed(unresponsive("ada", stamp(10), stamp(10, 20)))

    rows = store.rows()
    assert routes(rows) == [("ada", PRIORITY, "health_check"), (PM, PRIORITY, "unresponsive")]
    assert {(row["subject_kind"], row["subject"]) for row in rows} == {("agent", "ada")}
    assert rows[0]["message"] == "[HEALTH CHECK] ada, please respond: silent for 20m 00s."
    assert "open tasks: task-1, task-2" in rows[1]["message"]
    assert store.coordinator.get_task("task-1").stage is Stage.YELLOW


def test_a_reassignment_tells_the_pm_hands_the_history_to_the_new_agent_and_checks_on_the_old_one(
    store: Store,
) -> None:
    store.feed(
        assigned("task-3", "silent-agent", stamp(20, 10)),
        crisis("task-3", "silent-agent", "orange", stamp(21, 5), "Agent unresponsive for task"),
    )
    before = len(store.rows())

    store.feed(reassignment("task-3", "silent-agent", "backup-agent", "Agent unresponsive", stamp(22, 10)))

    rows = store.new_rows(before)
    assert routes(rows) == [
        (PM, STANDARD, "reassignment"),
        ("backup-agent", PRIORITY, "assignment"),
        ("silent-agent", STANDARD, "status_check"),
    ]
    assert rows[0]["message"] == (
        "[COORDINATION] task-3 reassigned from silent-agent to backup-agent: Agent unresponsive."
    )
    handover = rows[1]["message"]
    assert handover.startswith("[ASSIGNMENT] You now own task-3 (from silent-agent: Agent unresponsive). ")
    assert "history: 2025-07-16T21:05:00Z GREEN→ORANGE: coordination crisis: orange (Agent unresponsive for task)" \
        in handover
    assert "Last alerts: TASK_ASSIGNED at 2025-07-16T20:10:00Z; COORDINATION_CRISIS at 2025-07-16T21:05:00Z; " \
        "TASK_REASSIGNMENT at 2025-07-16T22:10:00Z." in handover
    assert store.coordinator.get_task("task-3").agent_id == "backup-agent"


def test_a_failing_milestone_tells_the_pm_and_its_agent_with_the_blocking_issues(store: Store) -> None:
    name = "PR #70 XP Quality Gate"

    store.feed(milestone(name, "failing", ["import errors", "test failures"], "performance-agent", stamp(21, 30)))

    rows = store.rows(f"milestone:{name}")
    assert routes(rows) == [(PM, PRIORITY, "milestone"), ("performance-agent", PRIORITY, "milestone")]
    assert {row["message"] for row in rows} == {
        "[MILESTONE] PR #70 XP Quality Gate is failing (agent performance-agent). "
        "Blocking issues: import errors; test failures."
    }
    assert store.coordinator.get_task(f"milestone:{name}").stage is Stage.ORANGE

    store.feed(milestone(name, "passing", [], "performance-agent", stamp(22, 25)))

    assert len(store.rows()) == 2
    assert store.coordinator.get_task(f"milestone:{name}").status == "completed"


# --- an agent going silent -------------------------------------------------------------------------------------------


def test_an_agent_going_silent_with_many_tasks_gives_agent_messages_not_one_pm_message_per_task(
    store: Store,
) -> None:
    tasks = [f"task-{number:02d}" for number in range(1, 13)]
    store.feed(*(assigned(task, "ada", stamp(10)) for task in tasks))

    store.feed(unresponsive("ada", stamp(10), stamp(10, 40)))
    store.coordinator.tick(at(11, 30))

    rows = store.rows()
    assert {(row["subject_kind"], row["subject"]) for row in rows} == {("agent", "ada")}
    assert routes(rows) == [
        ("ada", PRIORITY, "health_check"), (PM, PRIORITY, "unresponsive"),
        (PM, URGENT, "agent_crisis"), ("ada", URGENT, "ping"),
    ]
    assert rows[2]["requested_at"] == stored(11)
    assert rows[2]["message"].startswith("🚨 URGENT: agent ada is RED: agent ada unresponsive for 1h 00m; open tasks: "
                                         "task-01, task-02,")
    assert rows[2]["message"].endswith("task-10 and 2 more.")
    assert {store.coordinator.get_task(task).stage for task in tasks} == {Stage.RED}


def test_an_agents_crisis_message_lists_the_tasks_it_held_when_it_crossed_the_threshold(store: Store) -> None:
    store.feed(
        assigned("task-1", "ada", stamp(10)),
        unresponsive("ada", stamp(10), stamp(10, 20)),
        reassignment("task-1", "ada", "bob", "ada is silent", stamp(11, 10)),
    )
    store.coordinator.tick(at(11, 15))

    history = store.coordinator.get_task("task-1").history
    assert (history[2]["at"], history[2]["to"]) == (at(11), "RED")  # task-1 was RED at 11:00 because ada was silent
    crisis_rows = [row for row in store.rows("ada") if row["kind"] == "agent_crisis"]
    assert [row["requested_at"] for row in crisis_rows] == [stored(11)]
    assert "open tasks: task-1" in crisis_rows[0]["message"]


# --- emergency -------------------------------------------------------------------------------------------------------


def emergency_setting(store: Store) -> None:
    """zed's task-1 is due at 11:00; bob holds one task, cat and dan none, amy none but she is silent."""
    store.feed(
        assigned("task-b", "bob", stamp(9)),
        heartbeat("dan", stamp(9)),
        heartbeat("cat", stamp(9)),
        heartbeat("amy", stamp(9)),
        unresponsive("amy", stamp(9), stamp(9, 30)),
        assigned("task-1", "zed", stamp(10), deadline=stamp(11)),
    )


def test_an_emergency_reassigns_the_task_to_the_least_loaded_responsive_agent_and_tells_pm_new_and_old_agent(
    store: Store,
) -> None:
    emergency_setting(store)

    store.coordinator.tick(at(11, 5))

    task = store.coordinator.get_task("task-1")
    assert task.agent_id == "cat"
    assert task.agent_id == "cat"
    assert (task.stage, task.status) == (Stage.EMERGENCY, "open")
    moved = [event for event in events_of(store.coordinator, "task-1") if isinstance(event, Task.Reassigned)]
    assert [(event.from_agent, event.to_agent, event.at) for event in moved] == [("zed", "cat", at(11))]
    assert moved[0].reason == "emergency reassignment: deadline reached"
    emergency = [row for row in store.rows("task-1") if row["requested_at"] == stored(11)]
    assert routes(emergency) == [
        (PM, URGENT, "emergency"), ("cat", URGENT, "assignment"), ("zed", PRIORITY, "status_check"),
    ]
    assert emergency[0]["message"] == (
        "🚨 EMERGENCY: task-1 (agent zed) is RED (EMERGENCY): deadline reached. Reassigned to cat."
    )
    assert emergency[1]["message"].startswith(
        "🚨 [ASSIGNMENT] You now own task-1 (emergency reassignment from zed: deadline reached). Handover for task-1: "
        "history: 2025-07-16T10:30:00Z GREEN→YELLOW"
    )
    assert "Last alerts: TASK_ASSIGNED at 2025-07-16T10:00:00Z." in emergency[1]["message"]
    assert emergency[2]["message"].startswith("[STATUS CHECK] task-1 was reassigned to cat (deadline reached).")


def test_an_emergency_under_a_no_auto_reassign_policy_keeps_the_agent_and_recommends_the_backup(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "home", Policy(auto_reassign=False))
    try:
        emergency_setting(store)
        store.coordinator.tick(at(11, 5))

        task = store.coordinator.get_task("task-1")
        emergency = [row for row in store.rows("task-1") if row["requested_at"] == stored(11)]
        events = events_of(store.coordinator, "task-1")
    finally:
        store.close()

    assert task.agent_id == "zed"
    assert task.stage is Stage.EMERGENCY
    assert not any(isinstance(event, Task.Reassigned) for event in events)
    assert routes(emergency) == [(PM, URGENT, "emergency")]
    assert emergency[0]["message"].endswith("Recommended backup agent: cat.")


def test_an_emergency_with_no_agent_to_spare_asks_the_pm_to_reassign_by_hand(store: Store) -> None:
    store.feed(assigned("task-1", "zed", stamp(10), deadline=stamp(11)))

    store.coordinator.tick(at(11, 5))

    emergency = [row for row in store.rows("task-1") if row["kind"] == "emergency"]
    assert routes(emergency) == [(PM, URGENT, "emergency")]
    assert emergency[0]["message"].endswith("No responsive backup agent is available: reassign it by hand.")
    assert store.coordinator.get_task("task-1").agent_id == "zed"


def test_an_emergency_can_hand_the_task_to_an_agent_from_the_backup_pool(tmp_path: Path) -> None:
    store = open_store(tmp_path / "home", Policy(backup_pool=("reserve-1",), pm_agent="lead"))
    try:
        store.feed(assigned("task-1", "zed", stamp(10), deadline=stamp(11)))
        store.coordinator.tick(at(11, 5))
        task = store.coordinator.get_task("task-1")
        emergency = [row for row in store.rows("task-1") if row["requested_at"] == stored(11)]
    finally:
        store.close()

    assert task.agent_id == "reserve-1"
    assert routes(emergency) == [("lead", URGENT, "emergency"), ("reserve-1", URGENT, "assignment"),
                                 ("zed", PRIORITY, "status_check")]


def test_an_agent_holding_no_task_is_not_announced_as_it_escalates_though_its_silence_is(store: Store) -> None:
    store.feed({"type": "AGENT_UNRESPONSIVE", "agent_id": "idle", "last_activity": stamp(7),
                "unresponsive_duration": "3 hours", "timestamp": stamp(10)})
    store.coordinator.tick(at(12))
    kinds = sorted(row["kind"] for row in store.rows("idle"))
    assert kinds == ["health_check", "unresponsive"], "the alert's own notices, no level notices for idle work"
    assert store.coordinator.get_agent("idle").stage.emergency, "the level itself still follows the silence rule"
