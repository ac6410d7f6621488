import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from adapters.input_limits import Limits
from domain.alerts import Alert, AlertType, Observation, Quarantined

T = "2025-07-16T19:03:54Z"
SHARED = Path(__file__).resolve().parents[3] / "shared"
GENERATOR = SHARED / "bench" / "gen_alerts.py"


def corpus_dir() -> Path:
    local = SHARED / "corpus" / "real"
    if local.is_dir():
        return local
    configured = os.environ.get("COORDINATOR_CORPUS")
    if configured and Path(configured).is_dir():
        return Path(configured)
    pytest.skip(f"upstream corpus not found at {local} and COORDINATOR_CORPUS is not set to a directory")


def crisis(task: str = "task-1", **changes: Any) -> dict[str, Any]:
    item = {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": "agent-1", "escalation_level": "red",
            "timestamp": T}
    item.update(changes)
    return item


def write(tmp_path: Path, content: str | bytes, name: str = "coordination_alerts.json") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read(path: Path) -> tuple[list[Alert], list[Quarantined]]:
    alerts, observations, quarantined = read_all(path)
    assert observations == []
    return alerts, quarantined


def read_all(path: Path) -> tuple[list[Alert], list[Observation], list[Quarantined]]:
    items = list(read_alerts(path))
    alerts = [item for item in items if isinstance(item, Alert)]
    observations = [item for item in items if isinstance(item, Observation)]
    quarantined = [item for item in items if isinstance(item, Quarantined)]
    assert len(alerts) + len(observations) + len(quarantined) == len(items)
    return alerts, observations, quarantined


def test_json_lines_are_read_in_order_with_their_line_numbers(tmp_path: Path) -> None:
    lines = [json.dumps(crisis("task-1")), "", json.dumps(crisis("task-2")), "   ", json.dumps(crisis("task-3"))]
    alerts, quarantined = read(write(tmp_path, "\n".join(lines) + "\n"))
    assert [alert.task_id for alert in alerts] == ["task-1", "task-2", "task-3"]
    assert [alert.line for alert in alerts] == [1, 3, 5]
    assert quarantined == []


def test_bad_json_lines_are_quarantined_with_their_line_number_and_the_rest_still_count(tmp_path: Path) -> None:
    lines = [json.dumps(crisis("task-1")), '{"type": "COORDINATION_CRISIS", "task_id": ', "[1, 2, 3]",
             json.dumps(crisis("task-4", escalation_level="purple")), "not json at all", json.dumps(crisis("task-6"))]
    path = write(tmp_path, "\n".join(lines) + "\n")
    alerts, quarantined = read(path)
    assert [alert.line for alert in alerts] == [1, 6]
    assert [(q.line, q.index) for q in quarantined] == [(2, None), (3, None), (4, None), (5, None)]
    assert quarantined[0].reason.startswith("not valid JSON: Expecting value at column")
    assert quarantined[0].raw == '{"type": "COORDINATION_CRISIS", "task_id":'
    assert quarantined[1].reason == "expected a JSON object, got array"
    assert quarantined[2].reason == "field 'escalation_level': 'purple' is not one of red, orange, yellow, green"
    assert all(q.source == str(path) for q in quarantined)


def test_a_json_lines_file_starting_with_a_broken_line_is_still_read_line_by_line(tmp_path: Path) -> None:
    content = '{"type": "COORDINATION_CRISIS", "task_id": \n' + json.dumps(crisis("task-2")) + "\n"
    alerts, quarantined = read(write(tmp_path, content))
    assert [alert.task_id for alert in alerts] == ["task-2"]
    assert [q.line for q in quarantined] == [1]


def test_garbage_lines_around_valid_lines_are_quarantined_one_by_one(tmp_path: Path) -> None:
    content = "garbage\n\x00\x01 more garbage\n" + json.dumps(crisis("task-3")) + "\n}{\n"
    alerts, quarantined = read(write(tmp_path, content))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-3", 3)]
    assert [q.line for q in quarantined] == [1, 2, 4]


def test_a_json_array_gives_each_item_its_line_and_index(tmp_path: Path) -> None:
    items = [crisis("task-1"), {"type": "NO_SUCH_TYPE", "timestamp": T}, crisis("task-3")]
    alerts, quarantined = read(write(tmp_path, json.dumps(items, indent=2)))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 2), ("task-3", 13)]
    assert [(q.line, q.index, q.reason) for q in quarantined] == [(9, 1, "unknown alert type 'NO_SUCH_TYPE'")]
    assert json.loads(quarantined[0].raw) == items[1]


def test_an_array_of_non_objects_quarantines_each_item(tmp_path: Path) -> None:
    alerts, quarantined = read(write(tmp_path, "[1, 2, 3]\n"))
    assert alerts == []
    assert [(q.line, q.index, q.raw, q.reason) for q in quarantined] == [
        (1, index, str(index + 1), "expected a JSON object, got number") for index in range(3)
    ]


def test_a_broken_item_in_an_array_is_quarantined_and_the_following_items_still_count(tmp_path: Path) -> None:
    content = "[\n" + ",\n".join([json.dumps(crisis("task-1")), '{"type": "COORDINATION_CRISIS", "task_id": ',
                                  "[1, 2, 3]", json.dumps(crisis("task-4"))]) + "\n]\n"
    alerts, quarantined = read(write(tmp_path, content))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 2), ("task-4", 5)]
    assert [(q.line, q.index) for q in quarantined] == [(3, 1), (4, 2)]
    assert quarantined[0].reason == "not valid JSON: Expecting value at line 3 column 44"


def test_a_broken_item_in_a_pretty_printed_array_is_skipped_up_to_the_next_item(tmp_path: Path) -> None:
    pretty = json.dumps([crisis("task-1"), crisis("task-2"), crisis("task-3")], indent=2)
    broken = pretty.replace('"task_id": "task-2"', '"task_id": task-2', 1)
    alerts, quarantined = read(write(tmp_path, broken))
    assert [alert.task_id for alert in alerts] == ["task-1", "task-3"]
    assert [(q.index, q.line) for q in quarantined] == [(1, 9)]
    assert '"task_id": task-2' in quarantined[0].raw


def test_a_truncated_array_keeps_its_complete_items_and_reports_the_rest(tmp_path: Path) -> None:
    content = "[\n" + json.dumps(crisis("task-1")) + ",\n" + json.dumps(crisis("task-2"))[:30]
    alerts, quarantined = read(write(tmp_path, content))
    assert [alert.task_id for alert in alerts] == ["task-1"]
    assert [(q.line, q.index) for q in quarantined] == [(3, 1)]


def test_items_far_larger_than_usual_are_read_whole_in_an_array(tmp_path: Path) -> None:
    big = crisis("task-1", description="x" * 60_000)
    broken = json.dumps(crisis("task-2", description="y" * 50_000)).replace('"task_id"', '"task_id" "oops"')
    content = "[\n" + ",\n".join([json.dumps(big), broken, json.dumps(crisis("task-3"))]) + "\n]\n"
    alerts, quarantined = read(write(tmp_path, content))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 2), ("task-3", 4)]
    assert alerts[0].note == "x" * 60_000
    assert [(q.line, q.index) for q in quarantined] == [(3, 1)]
    assert quarantined[0].reason.startswith("not valid JSON: Expecting ':' delimiter at line 3 column ")


def test_an_array_that_is_never_closed_is_reported(tmp_path: Path) -> None:
    alerts, quarantined = read(write(tmp_path, "[\n" + json.dumps(crisis("task-1")) + ",\n"))
    assert [alert.task_id for alert in alerts] == ["task-1"]
    assert [(q.line, q.reason) for q in quarantined] == [(1, "the JSON array starting on this line is never closed")]


def test_a_single_alert_object_is_read_as_one_alert(tmp_path: Path) -> None:
    alerts, quarantined = read(write(tmp_path, "\n" + json.dumps(crisis("task-1"), indent=2)))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 2)]
    assert quarantined == []


@pytest.mark.parametrize("key", ["alerts", "events"])
def test_an_envelope_list_is_read_item_by_item(tmp_path: Path, key: str) -> None:
    document = {"generated_at": T, key: [crisis("task-1"), {"event_type": "completion"}, crisis("task-3"), {"x": 1}]}
    alerts, observations, quarantined = read_all(write(tmp_path, json.dumps(document, indent=2)))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 4), ("task-3", 14)]
    assert [(o.line, o.index, o.raw) for o in observations] == [(11, 1, {"event_type": "completion"})]
    assert [(q.line, q.index, q.reason) for q in quarantined] == [(21, 3, "missing field 'type'")]


def test_an_envelope_with_both_lists_reads_both(tmp_path: Path) -> None:
    document = {"alerts": [crisis("task-1")], "events": [crisis("task-2")]}
    alerts, _ = read(write(tmp_path, json.dumps(document)))
    assert [(alert.task_id, alert.line) for alert in alerts] == [("task-1", 1), ("task-2", 1)]


def test_a_crisis_log_entry_is_read_as_its_original_event(tmp_path: Path) -> None:
    entry = {"timestamp": "2025-07-17T00:48:03Z", "severity": "CRITICAL", "original_event": crisis("task-7")}
    content = json.dumps(entry) + "\n" + json.dumps(entry | {"original_event": crisis("task-8")}) + "\n"
    alerts, quarantined = read(write(tmp_path, content))
    assert quarantined == []
    assert [(alert.task_id, alert.timestamp.hour, alert.line) for alert in alerts] == [("task-7", 19, 1),
                                                                                         ("task-8", 19, 2)]
    assert alerts[0].fingerprint == read(write(tmp_path, json.dumps(crisis("task-7")), "plain.json"))[0][0].fingerprint
    single, _ = read(write(tmp_path, json.dumps(entry, indent=2), "single.json"))
    assert [alert.task_id for alert in single] == ["task-7"]


def test_a_broken_document_that_cannot_be_split_into_lines_is_one_quarantined_entry(tmp_path: Path) -> None:
    content = '{\n  "alerts": [\n    {\n      "type": \n  \n}\n'
    alerts, quarantined = read(write(tmp_path, content))
    assert alerts == []
    assert [(q.line, q.reason) for q in quarantined] == [(1, "not valid JSON: Expecting value at line 6 column 1")]
    assert quarantined[0].raw == content.strip()


def test_the_only_item_of_an_envelope_broken_is_quarantined_as_that_item(tmp_path: Path) -> None:
    content = '{\n  "alerts": [\n    {\n      "type": \n    }\n  ]\n}\n'
    alerts, quarantined = read(write(tmp_path, content))
    assert alerts == []
    assert [(q.line, q.index, q.reason) for q in quarantined] == [
        (3, 0, "not valid JSON: Expecting value at line 5 column 5")]
    assert quarantined[0].raw == '{\n      "type": \n    }'


def test_empty_and_blank_files_yield_nothing(tmp_path: Path) -> None:
    assert list(read_alerts(write(tmp_path, ""))) == []
    assert list(read_alerts(write(tmp_path, "\n  \n\n", "blank.json"))) == []


def test_a_byte_order_mark_and_windows_line_endings_are_tolerated(tmp_path: Path) -> None:
    content = ("\ufeff" + json.dumps(crisis("task-1")) + "\r\n" + json.dumps(crisis("task-2")) + "\r\n").encode()
    alerts, quarantined = read(write(tmp_path, content))
    assert [alert.task_id for alert in alerts] == ["task-1", "task-2"]
    assert quarantined == []


def test_a_line_that_is_not_utf8_is_quarantined_and_the_others_are_read(tmp_path: Path) -> None:
    content = (json.dumps(crisis("task-1")) + "\n").encode() + b'{"type": "caf\xe9"}\n' + (
        json.dumps(crisis("task-3")) + "\n").encode()
    alerts, quarantined = read(write(tmp_path, content))
    assert [alert.task_id for alert in alerts] == ["task-1", "task-3"]
    assert [(q.line, q.reason) for q in quarantined] == [(2, "not valid UTF-8: byte 0xe9 at column 14")]


def test_a_file_that_is_not_utf8_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    content = json.dumps([crisis("task-1")], indent=2).encode("utf-16")
    alerts, quarantined = read(write(tmp_path, content))
    assert alerts == []
    assert [q.reason for q in quarantined] == ["not UTF-8 text: the file is UTF-16 encoded"]


def test_a_missing_file_raises_file_not_found_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_alerts(tmp_path / "absent.json")


def test_absurd_nesting_and_huge_numbers_are_quarantined_not_a_crash(tmp_path: Path) -> None:
    lines = [json.dumps(crisis("task-1")), "[" * 100_000, "1" * 5000, json.dumps(crisis("task-4"))]
    alerts, quarantined = read(write(tmp_path, "\n".join(lines)))
    assert [alert.task_id for alert in alerts] == ["task-1", "task-4"]
    assert [q.line for q in quarantined] == [2, 3]
    assert quarantined[0].reason == "not valid JSON: nested too deeply"
    assert quarantined[1].reason.startswith("not valid JSON: Exceeds the limit")


def test_every_file_of_the_upstream_corpus_reads_without_error() -> None:
    files = sorted(corpus_dir().glob("*.json"))
    assert files
    for path in files:
        items = list(read_alerts(path))
        assert items, path.name
        assert all(isinstance(item, Alert | Observation | Quarantined) for item in items)


def test_the_corrupt_timestamp_in_the_upstream_stream_is_quarantined_with_its_line() -> None:
    alerts, quarantined = read(corpus_dir() / "jsonl-crisis-stream.json")
    assert len(alerts) == 6
    assert [(q.line, q.reason) for q in quarantined] == [
        (6, "field 'timestamp': invalid timestamp '2025-07-16T21:44:26.3NZ' (expected ISO 8601)")
    ]


def test_upstream_crisis_log_entries_are_the_same_alerts_as_the_stream_it_logged() -> None:
    logged, _ = read(corpus_dir() / "crisis-log-jsonl.json")
    streamed, _ = read(corpus_dir() / "jsonl-crisis-stream.json")
    assert len(logged) == 5
    assert {alert.fingerprint for alert in logged} <= {alert.fingerprint for alert in streamed}


def test_upstream_events_without_a_type_are_observations_with_their_line_and_index() -> None:
    alerts, observations, quarantined = read_all(corpus_dir() / "events-document-active.json")
    assert alerts == [] and quarantined == []
    assert [o.index for o in observations] == list(range(9))
    assert observations[0].line == 11
    assert observations[0].raw["event_type"] == "completion"
    assert observations[0].at is not None and observations[0].at.isoformat() == "2025-07-16T18:25:00+00:00"


@pytest.mark.parametrize("form", ["jsonl", "array"])
def test_a_generated_stream_yields_every_item_with_every_fifth_quarantined(tmp_path: Path, form: str) -> None:
    if not GENERATOR.is_file():
        pytest.skip(f"stream generator not found at {GENERATOR}")
    count = 1000
    produced = subprocess.run([sys.executable, str(GENERATOR), str(count), "--bad-every", "5", "--format", form],
                              check=True, capture_output=True, text=True).stdout
    alerts, quarantined = read(write(tmp_path, produced, f"stream.{form}"))
    assert len(alerts) + len(quarantined) == count
    assert len(quarantined) == count // 5
    first_item_line = 1 if form == "jsonl" else 2
    assert all(q.line is not None and (q.line - first_item_line) % 5 == 4 for q in quarantined)
    assert {alert.type for alert in alerts} <= set(AlertType)


def test_a_json_lines_file_whose_first_two_lines_are_broken_is_read_line_by_line_even_over_the_document_limit(
    tmp_path: Path,
) -> None:
    valid = "".join(json.dumps(crisis(f"task-{n}")) + "\n" for n in range(1, 51))
    path = write(tmp_path, '{"type": "TASK_ASSIGNED", "task_id": \ngarbage\n' + valid, "alerts.jsonl")
    items = list(read_alerts(path, Limits(max_line_bytes=4096, max_document_bytes=1_000)))
    assert [item.line for item in items if isinstance(item, Quarantined)] == [1, 2]
    assert [item.task_id for item in items if isinstance(item, Alert)] == [f"task-{n}" for n in range(1, 51)]


@pytest.mark.parametrize(("written", "reason"), [
    ('"extra": NaN', "NaN is not a JSON number"),
    ('"extra": -Infinity', "-Infinity is not a JSON number"),
    ('"extra": 1e999', "the number 1e999 is too large to keep"),
    ('"task_id": "task-x"', 'the field "task_id" is given twice in one object'),
])
@pytest.mark.parametrize("form", ["lines", "array"])
def test_non_standard_numbers_and_fields_given_twice_are_quarantined_saying_so_and_the_items_around_them_are_read(
    tmp_path: Path, written: str, reason: str, form: str,
) -> None:
    good = [json.dumps(crisis(f"task-{n}")) for n in (1, 3)]
    bad = json.dumps(crisis("task-2"))[:-1] + ", " + written + "}"
    if form == "lines":
        path = write(tmp_path, "\n".join([good[0], bad, good[1]]) + "\n", "alerts.jsonl")
    else:
        path = write(tmp_path, "[\n  " + ",\n  ".join([good[0], bad, good[1]]) + "\n]\n")
    items = list(read_alerts(path))
    assert [item.task_id for item in items if isinstance(item, Alert)] == ["task-1", "task-3"]
    (rejected,) = [item for item in items if isinstance(item, Quarantined)]
    assert rejected.line == (2 if form == "lines" else 3) and reason in rejected.reason


@pytest.mark.parametrize("broken", ['{"type": "COORDINATION_CRISIS", "task_id" :: "task-2"}', "[" * 5000 + "]" * 5000])
def test_a_broken_item_in_an_array_written_on_one_line_is_quarantined_alone_and_the_items_after_it_are_read(
    tmp_path: Path, broken: str,
) -> None:
    items = [json.dumps(crisis(f"task-{n}"), separators=(",", ":")) for n in range(1, 51)]
    items[1] = broken
    read = list(read_alerts(write(tmp_path, "[" + ",".join(items) + "]\n")))
    assert [item.task_id for item in read if isinstance(item, Alert)] == [f"task-{n}" for n in range(1, 51) if n != 2]
    (rejected,) = [item for item in read if isinstance(item, Quarantined)]
    assert rejected.index == 1 and rejected.raw == broken


@pytest.mark.parametrize("envelope", ["alerts", "events"])
def test_a_broken_item_in_an_envelope_list_is_quarantined_alone_and_the_others_are_read(
    tmp_path: Path, envelope: str,
) -> None:
    document = json.dumps({envelope: [crisis(f"task-{n}") for n in range(1, 7)]}, indent=2)
    broken = document.replace('"task_id": "task-2",', '"task_id": "task-2"', 1)
    read = list(read_alerts(write(tmp_path, broken)))
    assert [item.task_id for item in read if isinstance(item, Alert)] == ["task-1", "task-3", "task-4", "task-5",
                                                                          "task-6"]
    (rejected,) = [item for item in read if isinstance(item, Quarantined)]
    assert rejected.index == 1 and "Expecting ',' delimiter" in rejected.reason


@pytest.mark.parametrize("where", ["string", "structure"])
def test_a_byte_that_is_not_utf8_in_a_json_array_quarantines_only_the_item_holding_it(
    tmp_path: Path, where: str,
) -> None:
    document = json.dumps([crisis(f"task-{n}") for n in range(1, 7)], indent=2).encode()
    if where == "string":
        broken = document.replace(b'"task-3"', b'"task-\xff3"', 1)
    else:
        broken = document.replace(b'"task_id": "task-3",', b'"task_id": "task-3",\xff', 1)
    read = list(read_alerts(write(tmp_path, broken)))
    assert [item.task_id for item in read if isinstance(item, Alert)] == ["task-1", "task-2", "task-4", "task-5",
                                                                          "task-6"]
    (rejected,) = [item for item in read if isinstance(item, Quarantined)]
    assert rejected.index == 2 and rejected.reason == "not UTF-8 text: invalid byte 0xff in this item"
    assert "\ufffd" in rejected.raw


@pytest.mark.parametrize(("written", "reason"), [
    ('{"type": "COORDINATION_CRISIS", "task_id": "a\tb"}', "not valid JSON: Invalid control character at column 46"),
    ('{"type": "COORDINATION_CRISIS", "task_id": "ab', "not valid JSON: Unterminated string starting at column 44"),
])
def test_a_broken_line_s_reason_names_its_column_once(tmp_path: Path, written: str, reason: str) -> None:
    (rejected,) = list(read_alerts(write(tmp_path, json.dumps(crisis()) + "\n" + written + "\n", "a.jsonl")))[1:]
    assert isinstance(rejected, Quarantined) and rejected.reason == reason
