"""The `coordinator` command as a user runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLE, Result

Run = Callable[..., Result]
AS_OF = "2025-07-16T22:30:00Z"


def ingest_example(coordinator: Run, *extra: str) -> Result:
    return coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, *extra)


def test_run_once_prints_the_summary_and_the_escalation_table(coordinator: Run) -> None:
    result = ingest_example(coordinator)
    assert result.code == 0, result.err
    assert "14 processed, 0 duplicates, 1 quarantined" in result.out
    assert "task-101" in result.out and "RED (EMERGENCY)" in result.out


def test_run_once_with_json_prints_the_counts_only(coordinator: Run) -> None:
    result = ingest_example(coordinator, "--json")
    assert result.code == 0
    assert result.json() == {"processed": 14, "observed": 0, "duplicates": 0, "quarantined": 1}


def test_running_again_on_the_same_file_reports_duplicates(coordinator: Run) -> None:
    ingest_example(coordinator)
    again = ingest_example(coordinator, "--json")
    # the line quarantined the first time is in quarantine already: a duplicate now, not quarantined again
    assert again.json() == {"processed": 0, "observed": 0, "duplicates": 15, "quarantined": 0}


def test_strict_mode_exits_1_when_input_was_quarantined(coordinator: Run) -> None:
    result = ingest_example(coordinator, "--strict")
    assert result.code == 1
    assert "quarantined" in result.err


def test_a_missing_alerts_file_is_a_clear_error_with_exit_2(coordinator: Run, tmp_path: Path) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(tmp_path / "nowhere.json"))
    assert result.code == 2
    assert "nowhere.json" in result.err


def test_the_default_alerts_file_is_read_from_the_working_directory(coordinator: Run, tmp_path: Path) -> None:
    (tmp_path / "coordination_alerts.json").write_text(EXAMPLE.read_text())
    result = coordinator("run", "--once", "--json", "--as-of", AS_OF)
    assert result.code == 0
    assert result.json()["processed"] == 14


def test_a_bad_as_of_time_is_a_usage_error(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "yesterday-ish")
    assert result.code == 2
    assert "--as-of" in result.err


def test_task_show_gives_level_deadline_and_history_with_exact_instants(coordinator: Run) -> None:
    ingest_example(coordinator)
    task = coordinator("task", "show", "task-101", "--json").json()
    assert task["task_id"] == "task-101"
    assert task["agent_id"] == "working-agent", "past its deadline, the task went to the least-loaded backup"
    assert (task["level"], task["emergency"], task["status"]) == ("RED", True, "open")
    assert task["deadline"] == "2025-07-16T22:00:00Z"
    assert [(h["at"], h["from"], h["to"], h["emergency"]) for h in task["history"]] == [
        ("2025-07-16T21:00:00Z", "GREEN", "YELLOW", False),
        ("2025-07-16T21:30:00Z", "YELLOW", "ORANGE", False),
        ("2025-07-16T21:48:00Z", "ORANGE", "RED", False),
        ("2025-07-16T22:00:00Z", "RED", "RED", True),
    ]
    assert all(h["reason"] for h in task["history"])


def test_a_completed_task_shows_green_and_completed(coordinator: Run) -> None:
    ingest_example(coordinator)
    task = coordinator("task", "show", "task-104", "--json").json()
    assert (task["level"], task["status"]) == ("GREEN", "completed")


def test_an_unknown_task_exits_1_with_a_message(coordinator: Run) -> None:
    ingest_example(coordinator)
    result = coordinator("task", "show", "no-such-task")
    assert result.code == 1
    assert "no-such-task" in result.err


def test_task_list_filters_by_level_in_any_case(coordinator: Run) -> None:
    ingest_example(coordinator)
    red = coordinator("task", "list", "--level", "red", "--json").json()
    assert {row["task_id"] for row in red} == {"task-101", "task-105", "task-106"}
    assert all(set(row) == {"task_id", "agent_id", "level", "emergency", "status", "deadline", "acknowledged_by",
                            "acknowledged_at"} for row in red)
    emergencies = coordinator("task", "list", "--level", "emergency", "--json").json()
    assert emergencies and all(row["emergency"] for row in emergencies)
    assert {row["task_id"] for row in emergencies} <= {row["task_id"] for row in red}
    assert coordinator("task", "list", "--level", "purple").code == 2


def test_agent_show_and_list_report_responsiveness_and_open_tasks(coordinator: Run) -> None:
    ingest_example(coordinator)
    silent = coordinator("agent", "show", "silent-agent", "--json").json()
    assert (silent["level"], silent["emergency"], silent["responsive"]) == ("RED", True, False)
    assert silent["last_activity"] == "2025-07-16T20:20:00Z"
    assert silent["tasks"] == []
    agents = {row["agent_id"]: row for row in coordinator("agent", "list", "--json").json()}
    assert agents["backup-agent"]["tasks"] == ["task-103"]
    assert agents["backup-agent"]["responsive"] is True
    assert agents["silent-agent"]["last_activity"] == silent["last_activity"]
    assert coordinator("agent", "show", "nobody").code == 1


def test_quarantine_lists_the_bad_line_with_file_line_and_reason(coordinator: Run) -> None:
    ingest_example(coordinator)
    rows = coordinator("quarantine", "--json").json()
    assert len(rows) == 1
    assert rows[0]["source"] == str(EXAMPLE)
    assert rows[0]["line"] == 13
    assert "timestamp" in rows[0]["reason"]
    assert "3NZ" in rows[0]["raw"]


def test_tick_records_crossings_that_time_alone_causes(coordinator: Run) -> None:
    coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "2025-07-16T22:25:00Z")
    before = coordinator("task", "show", "task-102", "--json").json()
    assert coordinator("tick", "--as-of", "2025-07-16T23:30:00Z").code == 0
    after = coordinator("task", "show", "task-102", "--json").json()
    assert before["level"] == "YELLOW"
    assert (after["level"], after["emergency"]) == ("RED", True)
    assert after["history"][-1]["at"] == "2025-07-16T23:30:00Z"


def test_home_can_be_chosen_per_command(coordinator: Run, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    ingest_example(coordinator, "--home", str(other))
    assert (other / "events.sqlite").exists()
    assert coordinator("task", "show", "task-101", "--home", str(other)).code == 0
    assert coordinator("task", "show", "task-101").code == 1


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ((), ["run", "tick", "task", "agent", "quarantine", "notifications", "ack", "resolve", "start", "stop",
              "status", "metrics", "events", "replay", "test-event", "audit", "projections", "export"]),
        (("status",), ["--json", "--home"]),
        (("metrics",), ["--json", "--prometheus", "--home"]),
        (("events",), ["N", "--type", "--json"]),
        (("audit",), ["--task", "--agent", "--since", "--until", "--json"]),
        (("export", "crisis-log"), ["--out", "--home"]),
        (("projections", "status"), ["--json", "--home"]),
        (("projections", "rebuild"), ["NAME", "--json"]),
        (("replay",), ["--verify", "--json"]),
        (("start",), ["--alerts-file", "--home"]),
        (("stop",), ["--home"]),
        (("test-event",), ["--alerts-file", "--type", "--task"]),
        (("run",), ["--once", "--alerts-file", "--as-of", "--strict", "--test-mode", "--json", "--home",
                    "[default: ./coordination_alerts.json]", "[default: ./.coordinator]", "[default: now]"]),
        (("notifications",), ["--status", "--limit", "--json", "--home", "retry"]),
        (("notifications", "retry"), ["NOTIFICATION", "--dead", "--json", "--home"]),
        (("ack",), ["TASK", "--by", "[default: your user name]", "--json", "--home"]),
        (("resolve",), ["TASK", "--by", "--note", "--json", "--home"]),
        (("tick",), ["--as-of", "--home"]),
        (("task", "show"), ["TASK_ID", "--at", "--json", "--home"]),
        (("task", "list"), ["--level", "--json"]),
        (("agent", "show"), ["AGENT_ID", "--json"]),
        (("agent", "list"), ["--json"]),
        (("quarantine",), ["--json", "--home"]),
    ],
)
def test_every_command_documents_itself(coordinator: Run, command: tuple[str, ...], expected: list[str]) -> None:
    result = coordinator(*command, "--help")
    assert result.code == 0
    for word in expected:
        assert word in result.out


def test_task_list_filters_by_agent_and_limits_the_rows_most_severe_first(coordinator: Run) -> None:
    ingest_example(coordinator)
    everything = coordinator("task", "list", "--json").json()
    held = coordinator("task", "list", "--agent", "working-agent", "--json").json()
    assert held and {row["agent_id"] for row in held} == {"working-agent"}
    assert held == [row for row in everything if row["agent_id"] == "working-agent"]
    assert coordinator("task", "list", "--limit", "2", "--json").json() == everything[:2]
