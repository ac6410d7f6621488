"""The response engine as a user meets it: notifications delivered, listed, acknowledged, re-delivered."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import EXAMPLE, Result

Run = Callable[..., Result]
AS_OF = "2025-07-16T23:00:00Z"


def ingest_example(coordinator: Run, *extra: str, env_extra: dict[str, str] | None = None) -> Result:
    return coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, *extra, env_extra=env_extra)


def sink(tmp_path: Path) -> list[dict[str, str]]:
    lines = (tmp_path / "home" / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_run_once_delivers_notifications_to_the_file_channel_by_default(coordinator: Run, tmp_path: Path) -> None:
    result = ingest_example(coordinator)
    assert result.code == 0, result.err
    assert "delivered" in result.out
    delivered = sink(tmp_path)
    assert any(n["message"].startswith("🚨 URGENT: Coordination crisis for task-106") for n in delivered)
    assert any(n["recipient"] == "pm-agent" and "⏰" in n["message"] for n in delivered)
    assert len({n["key"] for n in delivered}) == len(delivered)


def test_running_again_on_the_same_file_sends_nothing_twice(coordinator: Run, tmp_path: Path) -> None:
    ingest_example(coordinator)
    first = sink(tmp_path)
    again = ingest_example(coordinator)
    assert again.code == 0, again.err
    assert sink(tmp_path) == first


def test_notifications_lists_what_was_sent_as_json(coordinator: Run) -> None:
    ingest_example(coordinator)
    listed = coordinator("notifications", "--status", "delivered", "--limit", "500", "--json")
    assert listed.code == 0, listed.err
    rows = listed.json()
    assert rows and all(row["status"] == "delivered" and row["attempts"] == 1 for row in rows)
    assert {"id", "key", "recipient", "priority", "kind", "message", "channel", "delivered_at"} <= set(rows[0])


def test_notifications_rejects_an_unknown_status_with_exit_2(coordinator: Run) -> None:
    result = coordinator("notifications", "--status", "lost")
    assert result.code == 2
    assert "lost" in result.err and "pending" in result.err


def test_acknowledging_a_task_records_who_and_stops_repeats(coordinator: Run) -> None:
    ingest_example(coordinator)
    ack = coordinator("ack", "task-106", "--by", "alice", "--json")
    assert ack.code == 0, ack.err
    assert ack.json()["acknowledged_by"] == "alice"
    before = len(coordinator("notifications", "--limit", "1000", "--json").json())
    coordinator("tick", "--as-of", "2025-07-17T03:00:00Z")
    after = coordinator("notifications", "--limit", "1000", "--json").json()
    assert not [row for row in after[: len(after) - before] if row["subject"] == "task-106"]


def test_an_unacknowledged_red_task_is_repeated_to_the_pm(coordinator: Run) -> None:
    ingest_example(coordinator)
    coordinator("tick", "--as-of", "2025-07-17T00:00:00Z")
    rows = coordinator("notifications", "--limit", "1000", "--json").json()
    repeats = [row for row in rows if row["subject"] == "task-106" and row["kind"] == "repeat"]
    assert len(repeats) == 2
    assert all(row["recipient"] == "pm-agent" and row["priority"] == "urgent" for row in repeats)


def test_resolving_a_task_by_hand_closes_it_with_the_note(coordinator: Run) -> None:
    ingest_example(coordinator)
    result = coordinator("resolve", "task-106", "--by", "bob", "--note", "agent replaced", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert (document["status"], document["level"], document["resolved_by"]) == ("completed", "GREEN", "bob")
    assert document["note"] == "agent replaced"
    shown = coordinator("task", "show", "task-106", "--json").json()
    assert shown["history"][-1]["reason"] == "resolved by bob: agent replaced"


def test_ack_and_resolve_of_an_unknown_task_exit_1(coordinator: Run) -> None:
    ingest_example(coordinator)
    assert coordinator("ack", "no-such-task").code == 1
    assert coordinator("resolve", "no-such-task").code == 1


def test_test_mode_prints_every_decision_and_delivery_on_the_console(coordinator: Run, tmp_path: Path) -> None:
    result = ingest_example(coordinator, "--test-mode")
    assert result.code == 0, result.err
    assert "decided  task:task-106" in result.out
    assert "delivery task:task-106" in result.out and "via console" in result.out
    assert "🚨 URGENT" in result.out
    assert not (tmp_path / "home" / "notifications.jsonl").exists()


def test_a_command_channel_gets_alert_text_as_one_literal_argument(coordinator: Run, tmp_path: Path) -> None:
    recorder = tmp_path / "record.py"
    recorder.write_text(
        "import json, sys\n"
        "with open(sys.argv[1], 'a', encoding='utf-8') as out:\n"
        "    out.write(json.dumps(sys.argv[2:]) + '\\n')\n",
        encoding="utf-8",
    )
    received = tmp_path / "received.jsonl"
    home = tmp_path / "home"
    home.mkdir()
    argv = [sys.executable, str(recorder), str(received), "--agent", "{agent}", "--message", "{message}"]
    (home / "coordinator.toml").write_text(
        f'default_channel = "command"\n[channels.command]\nargv = {json.dumps(argv)}\n', encoding="utf-8"
    )
    alert = {"type": "COORDINATION_CRISIS", "task_id": "task-9", "agent_id": "a; rm -rf / $(touch PWNED) | cat &",
             "escalation_level": "red", "timestamp": "2025-07-16T21:00:00Z", "description": "`id` && echo hi"}
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(json.dumps(alert) + "\n", encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", "2025-07-16T21:00:00Z")
    assert result.code == 0, result.err
    calls = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    assert ["--agent", "a; rm -rf / $(touch PWNED) | cat &"] in [call[:2] for call in calls]  # sent concurrently
    assert any("`id` && echo hi" in call[3] for call in calls)
    assert not (tmp_path / "PWNED").exists()


def test_a_bad_configuration_is_a_clear_error_naming_the_key(coordinator: Run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "coordinator.toml").write_text('repeat_interval = "every so often"\n', encoding="utf-8")
    result = ingest_example(coordinator)
    assert result.code == 2
    assert "repeat_interval" in result.err and "coordinator.toml" in result.err


def test_dead_letters_can_be_retried_once_the_channel_works(coordinator: Run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    broken = tmp_path / "missing-dir" / "program-that-does-not-exist"
    (home / "coordinator.toml").write_text(
        f"default_channel = \"command\"\n[channels.command]\nargv = {json.dumps([str(broken), '{message}'])}\n",
        encoding="utf-8",
    )
    ingest_example(coordinator)
    dead = coordinator("notifications", "--status", "dead", "--limit", "1000", "--json").json()
    assert dead and all("not found" in (row["last_error"] or "").lower() for row in dead)
    (home / "coordinator.toml").write_text('default_channel = "file"\n', encoding="utf-8")
    retried = coordinator("notifications", "retry", "--dead", "--json")
    assert retried.code == 0, retried.err
    assert retried.json()["requeued"] == len(dead) == retried.json()["delivered"]
    assert coordinator("notifications", "--status", "dead", "--json").json() == []


def test_a_second_ack_says_who_already_acknowledged_and_records_nothing(coordinator: Run) -> None:
    ingest_example(coordinator)
    assert coordinator("ack", "task-106", "--by", "alice").code == 0
    again = coordinator("ack", "task-106", "--by", "bob")
    assert again.code == 0, again.err
    assert "already acknowledged by alice" in again.out and "nothing recorded" in again.out
    acknowledged = coordinator("events", "100", "--type", "Acknowledged", "--json").json()
    assert [event["data"]["by"] for event in acknowledged] == ["alice"]
    shown = coordinator("task", "show", "task-106", "--json").json()
    assert shown["acknowledged_by"] == "alice" and shown["acknowledged_at"].endswith("Z")


def test_an_ack_of_a_task_with_no_open_crisis_says_so_and_records_nothing(coordinator: Run) -> None:
    ingest_example(coordinator)
    calm = next(row for row in coordinator("task", "list", "--json").json() if row["level"] != "RED")
    result = coordinator("ack", calm["task_id"], "--by", "alice")
    assert result.code == 0, result.err
    assert "has no open crisis" in result.out
    assert coordinator("events", "100", "--type", "Acknowledged", "--json").json() == []


def test_an_unknown_home_is_never_created_by_a_query_or_an_ack(coordinator: Run, tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    for command in (["status"], ["task", "list"], ["ack", "task-1"]):
        result = coordinator(*command, "--home", str(missing))
        assert result.code == 1, result.err
        assert f"no coordinator home at {missing}" in result.err
    assert not missing.exists()
