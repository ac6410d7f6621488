"""The response engine against a real SQLite store: which notifications reach the outbox, and when.

Alerts are written as JSON Lines files and read with the real reader; notifications are read back from the
outbox table of the event store.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from adapters.sqlite_store import LedgerRecorder
from cli.bootstrap import build, event_store_env
from cli.render import task_document
from cli.settings import Settings
from domain.coordinator import Coordinator, IngestReport
from domain.escalation import Escalating
from domain.notifications import PRIORITY, STANDARD, URGENT
from domain.responses import Policy
from domain.stages import Stage
from domain.task import Task
from tests.alert_builders import assigned, crisis, heartbeat, milestone, reassignment, unresponsive, warning

Row = dict[str, Any]
Route = tuple[str, str, str]
PM = "pm-agent"
KEY = re.compile(r"^(task|agent):.+#\d+\.\d+$")


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, second, tzinfo=UTC)


def stamp(hour: int, minute: int = 0, second: int = 0) -> str:
    return at(hour, minute, second).isoformat().replace("+00:00", "Z")


def stored(hour: int, minute: int = 0, second: int = 0) -> str:
    """An instant as the outbox stores it."""
    return at(hour, minute, second).isoformat(timespec="microseconds")


# --- alerts as the accountability system writes them -----------------------------------------------------------------
















# --- a coordinator on a real store -----------------------------------------------------------------------------------


@dataclass
class Store:
    """A coordinator on the SQLite store in `home`, fed from JSON Lines files written beside it."""

    home: Path
    coordinator: Coordinator
    closer: Callable[[], None]
    files: list[Path] = field(default_factory=list)

    @property
    def ledger(self) -> LedgerRecorder:
        recorder = self.coordinator.recorder
        assert isinstance(recorder, LedgerRecorder)
        return recorder

    def write(self, *alerts: dict[str, Any]) -> Path:
        path = self.home.parent / f"alerts-{len(self.files)}.jsonl"
        path.write_text("".join(json.dumps(alert, ensure_ascii=False) + "\n" for alert in alerts), encoding="utf-8")
        self.files.append(path)
        return path

    def feed(self, *alerts: dict[str, Any]) -> IngestReport:
        return self.ingest(self.write(*alerts))

    def ingest(self, path: Path) -> IngestReport:
        return self.coordinator.ingest(read_alerts(path))

    def rows(self, subject: str | None = None) -> list[Row]:
        """Outbox rows, oldest first (optionally only those about `subject`)."""
        rows = list(reversed(self.ledger.notifications()))
        return [row for row in rows if subject is None or row["subject"] == subject]

    def new_rows(self, before: int) -> list[Row]:
        return self.rows()[before:]

    def close(self) -> None:
        self.closer()


def open_store(home: Path, policy: Policy | None = None) -> Store:
    settings = Settings(home=home)
    if policy is None:
        services = build(settings)
        return Store(home, services.coordinator, services.close)
    home.mkdir(parents=True, exist_ok=True)
    coordinator = Coordinator(env=event_store_env(settings), policy=policy)
    return Store(home, coordinator, coordinator.close)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "home")
    yield opened
    opened.close()


def routes(rows: list[Row]) -> list[Route]:
    return [(row["recipient"], row["priority"], row["kind"]) for row in rows]


def events_of(coordinator: Coordinator, task_id: str) -> list[Any]:
    return list(coordinator.events.get(Task.id_for(task_id)))


def requested_keys(coordinator: Coordinator, aggregate_id: Any) -> list[str]:
    return [
        notification["key"]
        for event in coordinator.events.get(aggregate_id)
        if isinstance(event, Escalating.NotificationsRequested)
        for notification in event.notifications
    ]


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
    assert task_document(task)["agent_id"] == "cat"
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


# --- repeats ---------------------------------------------------------------------------------------------------------


def red_task(store: Store) -> None:
    store.feed(assigned("task-1", "ada", stamp(9)), crisis("task-1", "ada", "red", stamp(10), "Still no response"))


def repeats(store: Store) -> list[Row]:
    return [row for row in store.rows("task-1") if row["kind"] == "repeat"]


def test_a_red_unacknowledged_task_is_repeated_to_the_pm_every_15_minutes_and_not_before(store: Store) -> None:
    red_task(store)

    store.coordinator.tick(at(10, 14, 59))
    assert repeats(store) == []

    store.coordinator.tick(at(10, 15))
    first = repeats(store)
    assert routes(first) == [(PM, URGENT, "repeat")]
    assert first[0]["requested_at"] == stored(10, 15)
    assert first[0]["message"] == (
        "🚨 URGENT (repeat): task-1 (agent ada) is still RED after 15m 00s, unacknowledged: "
        "coordination crisis: red (Still no response); no deadline known. Acknowledge with: coordinator ack task-1"
    )

    store.coordinator.tick(at(10, 29))
    assert len(repeats(store)) == 1
    store.coordinator.tick(at(10, 30))
    assert [row["requested_at"] for row in repeats(store)] == [stored(10, 15), stored(10, 30)]


def test_repeats_survive_a_restart_of_the_coordinator(tmp_path: Path) -> None:
    first = open_store(tmp_path / "home")
    red_task(first)
    first.close()

    second = open_store(tmp_path / "home")
    try:
        second.coordinator.tick(at(10, 15))
        assert routes(repeats(second)) == [(PM, URGENT, "repeat")]
    finally:
        second.close()


def test_an_acknowledged_task_is_not_repeated(store: Store) -> None:
    red_task(store)
    store.coordinator.tick(at(10, 15))

    store.coordinator.acknowledge("task-1", by="lead", at=at(10, 20))
    store.coordinator.tick(at(10, 30))
    store.coordinator.tick(at(12))

    assert [row["requested_at"] for row in repeats(store)] == [stored(10, 15)]


def test_a_task_that_leaves_red_stops_repeating(store: Store) -> None:
    red_task(store)
    store.coordinator.tick(at(10, 15))

    store.feed(crisis("task-1", "ada", "green", stamp(10, 20), "back on track"))
    store.coordinator.tick(at(10, 35))
    store.coordinator.tick(at(12))

    assert store.coordinator.get_task("task-1").stage is Stage.GREEN
    assert [row["requested_at"] for row in repeats(store)] == [stored(10, 15)]


# --- no duplicates ---------------------------------------------------------------------------------------------------


def busy_day() -> list[dict[str, Any]]:
    return [
        assigned("task-101", "backend-agent", stamp(20), deadline=stamp(22)),
        assigned("task-102", "frontend-agent", stamp(20, 5), deadline=stamp(23, 30)),
        assigned("task-103", "silent-agent", stamp(20, 10)),
        heartbeat("silent-agent", stamp(20, 20)),
        warning("task-105", "working-agent", "30 minutes", stamp(21)),
        crisis("task-106", "unresponsive-agent", "orange", stamp(21, 5), "Agent unresponsive for task"),
        unresponsive("silent-agent", stamp(20, 20), stamp(21, 20)),
        milestone("PR #70 XP Quality Gate", "failing", ["import errors"], "performance-agent", stamp(21, 30)),
        warning("task-101", "backend-agent", "15 minutes", stamp(21, 45)),
        crisis("task-106", "unresponsive-agent", "red", stamp(21, 50), "Still no response"),
        reassignment("task-103", "silent-agent", "backup-agent", "Agent unresponsive", stamp(22, 10)),
    ]


def test_reingesting_the_same_file_and_replaying_the_store_add_no_notifications(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = open_store(home)
    path = first.write(*busy_day())
    first.ingest(path)
    first.coordinator.tick(at(22, 30))
    rows = first.rows()
    again = first.ingest(path)
    first.coordinator.tick(at(22, 30))
    after_reingest = first.rows()
    first.close()

    replayed = open_store(home)
    try:
        replay_report = replayed.ingest(path)
        replayed.coordinator.tick(at(22, 30))
        after_replay = replayed.rows()
        recorded = [
            key
            for row in after_replay
            for key in requested_keys(
                replayed.coordinator,
                Task.id_for(row["subject"]) if row["subject_kind"] == "task"
                else replayed.coordinator.get_agent(row["subject"]).id,
            )
        ]
    finally:
        replayed.close()

    assert len(rows) > 20
    assert (again.processed, again.duplicates) == (0, len(busy_day()))
    assert (replay_report.processed, replay_report.duplicates) == (0, len(busy_day()))
    assert after_reingest == rows
    assert after_replay == rows
    keys = [row["key"] for row in rows]
    assert len(set(keys)) == len(keys)
    assert all(KEY.match(key) for key in keys), keys
    assert {row["key"] for row in rows} == set(recorded), "every outbox row is recorded on its aggregate, and back"
    assert all(row["key"].startswith(f"{row['subject_kind']}:{row['subject']}#") for row in rows)


# --- acknowledgement and resolution ----------------------------------------------------------------------------------


def test_acknowledgement_and_resolution_are_recorded_as_events_with_who_and_when(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = open_store(home)
    red_task(store)
    store.coordinator.acknowledge("task-1", by="lead", at=at(10, 7))
    store.coordinator.resolve("task-1", by="lead", at=at(10, 30), note="fixed by hand")
    store.close()

    reopened = open_store(home)
    try:
        task = reopened.coordinator.get_task("task-1")
        events = events_of(reopened.coordinator, "task-1")
    finally:
        reopened.close()

    assert (task.acknowledged_by, task.acknowledged_at) == ("lead", at(10, 7))
    assert (task.resolved_by, task.resolution_note) == ("lead", "fixed by hand")
    assert (task.status, task.stage) == ("completed", Stage.GREEN)
    assert task.history[-1]["reason"] == "resolved by lead: fixed by hand"
    assert task.history[-1]["at"] == at(10, 30)
    acknowledged = [event for event in events if isinstance(event, Task.Acknowledged)]
    resolved = [event for event in events if isinstance(event, Task.Resolved)]
    assert [(event.by, event.at) for event in acknowledged] == [("lead", at(10, 7))]
    assert [(event.by, event.note, event.at, event.from_stage) for event in resolved] == [
        ("lead", "fixed by hand", at(10, 30), Stage.RED)
    ]


# --- encoding --------------------------------------------------------------------------------------------------------


def test_messages_are_stored_as_valid_utf8_with_their_emoji_intact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = open_store(home)
    store.feed(*busy_day())
    store.coordinator.tick(at(22, 30))
    via_ledger = {row["key"]: row["message"] for row in store.rows()}
    store.close()

    with sqlite3.connect(home / "events.sqlite") as db:
        raw = {key: bytes(blob) for key, blob in db.execute("SELECT key, CAST(message AS BLOB) FROM outbox")}

    decoded = {key: blob.decode("utf-8") for key, blob in raw.items()}
    assert decoded == via_ledger
    assert any("🚨" in message for message in decoded.values())
    assert any("⏰" in message for message in decoded.values())
    assert any("→" in message for message in decoded.values())
    assert all("\\u" not in message and "?" * 2 not in message for message in decoded.values())
    assert any("🚨".encode() in blob for blob in raw.values())
