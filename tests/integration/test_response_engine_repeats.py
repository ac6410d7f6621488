"""Repeats of unacknowledged RED tasks, acknowledgement and resolution, no duplicates on replay, UTF-8 messages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from adapters.state_packing import unpack
from domain.notifications import URGENT
from domain.stages import Stage
from domain.task import Task
from tests.alert_builders import assigned, crisis, heartbeat, milestone, reassignment, unresponsive, warning
from tests.integration.response_scenarios import (
    KEY,
    PM,
    Row,
    Store,
    at,
    events_of,
    open_store,
    requested_keys,
    routes,
    stamp,
    stored,
)
from tests.integration.response_scenarios import store as store  # pytest fixture

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

    with sqlite3.connect(home / "events.sqlite") as db:  # each text is stored once: in its requesting event
        raw = [unpack(bytes(blob)) for (blob,) in db.execute(
            "SELECT state FROM stored_events WHERE topic LIKE '%.NotificationsRequested'")]

    decoded = {told["key"]: told["message"]
               for blob in raw for told in json.loads(blob.decode("utf-8"))["notifications"]}
    assert decoded == via_ledger
    assert any("🚨" in message for message in decoded.values())
    assert any("⏰" in message for message in decoded.values())
    assert any("→" in message for message in decoded.values())
    assert all("\\u" not in message and "?" * 2 not in message for message in decoded.values())
    assert any("🚨".encode() in blob for blob in raw)
