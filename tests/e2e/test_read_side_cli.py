"""The read side as a user meets it: health, metrics, events, audit, export, projections, replay, time travel."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import EXAMPLE, Result

Run = Callable[..., Result]
AS_OF = "2025-07-16T23:00:00Z"


def ingest_example(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF)
    assert result.code == 0, result.err


def test_status_reports_the_health_indicators_the_same_way_before_and_after_the_read_models_are_current(
    coordinator: Run, tmp_path: Path
) -> None:
    ingest_example(coordinator)
    with sqlite3.connect(tmp_path / "home" / "views.sqlite") as views:
        views.execute("UPDATE projection_positions SET position = position - 1 WHERE name = 'metrics'")
    catching_up = coordinator("status", "--json")
    current = coordinator("status", "--json")
    assert catching_up.code == current.code == 0
    assert catching_up.json() == current.json()
    health = current.json()
    assert health["coordinator_status"] == "stopped" and health["uptime"] is None
    assert health["quarantined"] == 1 and health["projection_lag"] == 0
    assert health["responses_sent"] > 0 and health["deadline_warnings"] == 2
    red_and_open = [task for task in coordinator("task", "list", "--level", "red", "--json").json()
                    if task["task_id"] in {"task-101", "task-105", "task-106"}]
    assert health["coordination_crises"] == len(red_and_open) == 3


def test_task_show_answers_the_same_from_the_read_models_as_from_the_events(coordinator: Run, tmp_path: Path) -> None:
    ingest_example(coordinator)
    fast = coordinator("task", "show", "task-101", "--json").json()
    with sqlite3.connect(tmp_path / "home" / "views.sqlite") as views:
        views.execute("UPDATE projection_positions SET position = 0 WHERE name = 'history'")
    full = coordinator("task", "show", "task-101", "--json").json()
    assert fast == full
    assert [entry["to"] for entry in fast["history"]] == ["YELLOW", "ORANGE", "RED", "RED"]
    assert coordinator("task", "show", "task-101").out == coordinator("task", "show", "task-101").out


def test_task_show_at_an_instant_shows_the_task_as_it_was_then(coordinator: Run) -> None:
    ingest_example(coordinator)
    then = coordinator("task", "show", "task-101", "--at", "2025-07-16T21:40:00Z", "--json").json()
    assert (then["level"], then["emergency"], then["agent_id"]) == ("ORANGE", False, "backend-agent")
    assert coordinator("task", "show", "task-101", "--at", "2025-07-16T19:00:00Z").code == 1


def test_metrics_come_as_json_and_in_the_prometheus_format(coordinator: Run) -> None:
    ingest_example(coordinator)
    document = coordinator("metrics", "--json").json()
    assert document["notifications"]["delivered"] == document["notifications"]["requested"] > 0
    assert any(row["rule"] == "deadline" for row in document["escalations"])
    exposition = coordinator("metrics", "--prometheus").out
    names = {family.name for family in text_string_to_metric_families(exposition)}
    assert {"coordinator_escalations", "coordinator_notifications"} <= names


def test_events_lists_the_newest_first_and_filters_by_kind_or_alert_type(coordinator: Run) -> None:
    ingest_example(coordinator)
    newest = coordinator("events", "5", "--json").json()
    assert [event["position"] for event in newest] == sorted((event["position"] for event in newest), reverse=True)
    crises = coordinator("events", "10", "--type", "COORDINATION_CRISIS", "--json").json()
    assert crises and all(event["data"]["alert_type"] == "COORDINATION_CRISIS" for event in crises)
    escalations = coordinator("events", "3", "--type", "escalated", "--json").json()
    assert escalations and all(event["event"].endswith(".Escalated") for event in escalations)
    assert coordinator("events", "--type", "NoSuchKind").code == 2


def test_audit_shows_each_crisis_with_its_steps_in_time_order(coordinator: Run) -> None:
    ingest_example(coordinator)
    episodes = coordinator("audit", "--task", "task-101", "--json").json()
    assert len(episodes) == 1
    episode = episodes[0]
    assert (episode["started_at"], episode["severity"]) == ("2025-07-16T21:48:00Z", "EMERGENCY")
    steps = [step["step"] for step in episode["steps"]]
    assert steps[0] == "escalation" and "notification" in steps and "delivery" in steps
    assert any(response["recipient"] == "pm-agent" and response["status"] == "delivered"
               for response in episode["responses"])
    assert coordinator("audit", "--since", "2025-07-16T23:30:00Z", "--json").json() == []


def test_export_crisis_log_writes_the_seeds_json_lines_shape(coordinator: Run, tmp_path: Path) -> None:
    ingest_example(coordinator)
    out = tmp_path / "coordination_crisis_log.json"
    assert coordinator("export", "crisis-log", "--out", str(out)).code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines
    for line in lines:
        assert {"timestamp", "severity", "original_event", "coordinator_response", "resolution_time"} <= set(line)


def test_projections_status_and_rebuild_and_replay_verify(coordinator: Run) -> None:
    ingest_example(coordinator)
    status = coordinator("projections", "status", "--json").json()
    assert {row["name"] for row in status} == {"status", "metrics", "history", "crisis"}
    assert all(row["lag"] == 0 for row in status)
    rebuilt = coordinator("projections", "rebuild", "crisis", "--json")
    assert rebuilt.code == 0 and rebuilt.json()["rebuilt"] == ["crisis"]
    assert coordinator("projections", "rebuild", "nonsense").code == 1
    verified = coordinator("replay", "--verify", "--json")
    assert verified.code == 0 and verified.json()["differences"] == []


def test_replay_verify_reports_a_tampered_read_model_and_exits_1(coordinator: Run, tmp_path: Path) -> None:
    ingest_example(coordinator)
    with sqlite3.connect(tmp_path / "home" / "views.sqlite") as views:
        views.execute("UPDATE task_status SET level = 'GREEN', emergency = 0 WHERE task_id = 'task-101'")
    result = coordinator("replay", "--verify")
    assert result.code == 1
    assert "task task-101" in result.out and "level" in result.out


def test_events_show_heartbeats_read_together_as_one_sighting_saying_how_many_and_since_when(
    coordinator: Run, tmp_path: Path,
) -> None:
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("".join(json.dumps({"type": "AGENT_HEARTBEAT", "agent_id": "ada",
                                          "timestamp": f"2025-07-16T10:0{minute}:00Z"}) + "\n"
                              for minute in (1, 4, 7)), encoding="utf-8")
    assert coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", AS_OF).code == 0

    [seen] = coordinator("events", "10", "--type", "ActivitySeen", "--json").json()
    assert (seen["subject"], seen["at"], seen["summary"]) == ("agent ada", "2025-07-16T10:07:00Z",
                                                              "seen 3 times from 2025-07-16T10:01:00Z")
    assert (seen["data"]["sightings"], seen["data"]["first_at"]) == (3, "2025-07-16T10:01:00Z")
    table = coordinator("events", "10", "--type", "ActivitySeen").out
    assert "seen 3 times from 2025-07-16T10:01:00Z" in table


def test_events_show_each_alert_with_the_fingerprint_of_its_line(coordinator: Run, tmp_path: Path) -> None:
    records = [
        {"type": "AGENT_HEARTBEAT", "agent_id": "ada", "timestamp": "2025-07-16T10:00:00Z"},
        {"type": "AGENT_HEARTBEAT", "agent_id": "bob", "timestamp": "2025-07-16T10:05:00Z", "note": "busy"},
        {"type": "COORDINATION_CRISIS", "task_id": "task-1", "agent_id": "ada", "escalation_level": "red",
         "description": "stuck", "timestamp": "2025-07-16T10:10:00Z"},
    ]
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", AS_OF)
    assert result.code == 0, result.err

    seen = coordinator("events", "10", "--type", "ActivitySeen", "--json").json()
    received = coordinator("events", "10", "--type", "AlertReceived", "--json").json()

    written = {hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
               for record in records}
    assert {event["data"]["fingerprint"] for event in seen + received} == written
    assert len(seen + received) == 3
