"""The rough edges a new user met walking the README, each smoothed: clear errors with their exit codes, times
as people type them, and output that says what it means."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.conftest import EXAMPLE
from tests.e2e.service_support import Run

AS_OF = "2025-07-16T22:30:00Z"
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def ingest(coordinator: Run, *extra: str) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, *extra)
    assert result.code == 0, result.err


def test_a_bad_channel_in_the_configuration_is_refused_before_anything_is_written(coordinator: Run,
                                                                                   tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "coordinator.toml").write_text('default_channel = "carrier-pigeon"\n', encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE))
    assert result.code == 2 and "default_channel: 'carrier-pigeon'" in result.err and "Traceback" not in result.err
    assert not (home / "events.sqlite").exists(), "nothing written"


def test_a_home_that_is_a_file_or_an_alerts_file_that_is_a_directory_is_said_plainly(coordinator: Run,
                                                                                     tmp_path: Path) -> None:
    plain = tmp_path / "plain-file"
    plain.write_text("", encoding="utf-8")
    for command in (["status"], ["run", "--once", "--alerts-file", str(EXAMPLE)], ["ack", "task-1"]):
        result = coordinator(*command, "--home", str(plain))
        assert result.code == 2 and "is a file, not a coordinator home directory" in result.err, command
    result = coordinator("run", "--once", "--alerts-file", str(tmp_path))
    assert result.code == 2 and "is a directory, not an alerts file" in result.err


def test_export_to_a_path_that_cannot_be_written_is_a_usage_error(coordinator: Run, tmp_path: Path) -> None:
    ingest(coordinator)
    for out in (tmp_path / "missing" / "log.jsonl", tmp_path):
        result = coordinator("export", "crisis-log", "--out", str(out))
        assert result.code == 2 and "Traceback" not in result.err and "--out" in result.err


def test_test_mode_under_json_keeps_standard_output_for_the_json(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, "--test-mode", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["processed"] > 0
    assert "decided  " in result.err and "delivery " in result.err


def test_instants_may_be_dates_or_relative_and_every_instant_in_json_ends_in_z(coordinator: Run) -> None:
    ingest(coordinator)
    by_date = coordinator("audit", "--since", "2025-07-16", "--until", "now", "--json")
    assert by_date.code == 0, by_date.err
    assert by_date.json(), "the episodes of that day"
    assert coordinator("audit", "--since", "2h", "--json").json() == [], "nothing started in the last two hours"
    events = coordinator("events", "200", "--json").json()
    instants = [value for event in events for value in _strings(event) if value[:4].isdigit() and "T" in value]
    assert instants and all(ISO_Z.fullmatch(value) for value in instants), [v for v in instants if "+" in v][:3]
    assert {event["clock"] for event in events} == {"alert", "wall"}


def test_status_shows_durations_for_people_and_numbers_for_programs(coordinator: Run) -> None:
    ingest(coordinator)
    assert re.search(r"avg_response_time\s+\d+(ms|\.\ds)\s", coordinator("status").out)
    assert isinstance(coordinator("status", "--json").json()["avg_response_time"], float)
    assert "hour (business time)" in coordinator("metrics").out


def test_rebuilding_counts_the_events_once(coordinator: Run) -> None:
    ingest(coordinator)
    events = coordinator("status", "--json").json()["events_processed"]
    rebuilt = coordinator("projections", "rebuild", "--json").json()
    assert rebuilt["events"] == events


def test_a_run_on_an_empty_file_says_there_is_nothing_yet(coordinator: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(empty))
    assert result.code == 0 and "no tasks yet" in result.out
    assert coordinator("notifications", "--status", "dead").out.startswith("no dead notifications")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def test_the_event_list_shows_each_delivery_attempt_of_its_task_or_agent_newest_first(coordinator: Run) -> None:
    ingest(coordinator)
    notifications = coordinator("notifications", "--limit", "1000", "--json").json()
    delivered = coordinator("events", "1000", "--type", "NotificationDelivered", "--json").json()
    assert sorted(event["data"]["key"] for event in delivered) == sorted(row["key"] for row in notifications)
    assert {event["event"].partition(".")[0].lower() + ":" + event["subject"].removeprefix("agent ")
            for event in delivered} == {row["key"].rpartition("#")[0] for row in notifications}
    assert [event["at"] for event in delivered] == sorted((event["at"] for event in delivered), reverse=True)
    newest = coordinator("events", "3", "--json").json()
    assert len(newest) == 3 and {event["clock"] for event in newest} == {"wall"}, "the deliveries came last"
