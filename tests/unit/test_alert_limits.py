"""The alert schema refuses what the coordinator cannot represent, with a reason naming the field."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import alert_schema
from adapters.alert_limits import ID_LIMIT, TEXT_LIMIT, plainly_representable, unrepresentable
from adapters.alert_schema import AlertRejected, to_alert
from tests.poison_strategies import raw_alerts

T = "2025-07-16T19:03:54Z"


def item(kind: str = "COORDINATION_CRISIS", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "task_id": "task-1", "agent_id": "agent-1", "timestamp": T}
    if kind == "COORDINATION_CRISIS":
        base.update(escalation_level="red", description="stuck")
    if kind == "DEADLINE_WARNING":
        base["time_remaining"] = "30 minutes"
    if kind == "AGENT_UNRESPONSIVE":
        base.update(last_activity=T, unresponsive_duration="1 hour")
    base.update(changes)
    return base


def rejection(raw: dict[str, Any]) -> str:
    with pytest.raises(AlertRejected) as caught:
        to_alert(raw, "alerts.json", 3)
    return caught.value.reason


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_a_timestamp_beyond_years_1_to_9999_after_its_offset_is_quarantined_with_a_reason(stamp: str) -> None:
    assert rejection(item(timestamp=stamp)) == (
        f"field 'timestamp': invalid timestamp '{stamp}' (outside years 1-9999 once in UTC)"
    )


@pytest.mark.parametrize("stamp", ["1969-12-31T23:59:59.999999Z", "1970-01-01T00:30:00+01:00", "0001-01-01T00:10:00Z"])
def test_a_timestamp_before_1970_in_utc_is_quarantined_with_a_reason(stamp: str) -> None:
    assert rejection(item(timestamp=stamp)) == f"field 'timestamp': timestamp '{stamp}' is before 1970-01-01T00:00:00Z"


@pytest.mark.parametrize(("field", "kind"), [("deadline", "TASK_ASSIGNED"), ("last_activity", "AGENT_UNRESPONSIVE")])
def test_every_timestamp_field_is_held_to_the_same_range(field: str, kind: str) -> None:
    assert rejection(item(kind, **{field: "1900-01-01T00:00:00Z"})).startswith(f"field '{field}': timestamp ")


def test_the_first_and_last_instants_of_the_range_are_accepted() -> None:
    assert to_alert(item(timestamp="1970-01-01T00:00:00Z"), "s").timestamp == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_alert(item(timestamp="9999-12-31T23:59:59.999999Z"), "s").timestamp == datetime.max.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("duration", "reason"),
    [
        ("999999999 days", "duration '999999999 days' is longer than 100 years"),
        (1e308, "invalid duration 1e+308 (out of range)"),
        ("9" * 400, "(out of range)"),
        ("36526 days", "duration '36526 days' is longer than 100 years"),
    ],
)
def test_an_enormous_duration_is_quarantined_with_a_reason(duration: object, reason: str) -> None:
    assert rejection(item("DEADLINE_WARNING", time_remaining=duration)).startswith("field 'time_remaining': ")
    assert rejection(item("DEADLINE_WARNING", time_remaining=duration)).endswith(reason)
    assert rejection(item("AGENT_UNRESPONSIVE", unresponsive_duration=duration)).endswith(reason)


def test_a_duration_of_exactly_100_years_is_accepted() -> None:
    assert to_alert(item("DEADLINE_WARNING", time_remaining="36525 days"), "s").time_remaining == timedelta(36525)


def test_a_warning_whose_deadline_falls_after_year_9999_is_quarantined_with_a_reason() -> None:
    raw = item("DEADLINE_WARNING", timestamp="9999-12-31T23:50:00Z", time_remaining="15 minutes")
    assert rejection(raw) == (
        "field 'time_remaining': the deadline it sets (timestamp + time_remaining) is after the end of year 9999"
    )


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff"])
@pytest.mark.parametrize("field", ["task_id", "agent_id", "description", "escalation_level", "type"])
def test_a_lone_surrogate_in_any_field_is_quarantined_naming_the_field(field: str, surrogate: str) -> None:
    reason = rejection(item(**{field: f"x{surrogate}"}))
    if field == "type":
        assert reason == f"unknown alert type 'x\\u{ord(surrogate):x}'"
    else:
        assert reason == f"field '{field}': lone surrogate '\\u{ord(surrogate):x}' at character 2 " \
            "(not representable as UTF-8)"


def test_a_lone_surrogate_deep_in_an_unknown_field_is_quarantined_naming_its_path() -> None:
    reason = rejection(item(extra={"notes": ["fine", {"deeper": "bad \ud800"}]}))
    assert reason.startswith("field 'extra.notes[1].deeper': lone surrogate '\\ud800' at character 5")


def test_a_lone_surrogate_in_a_field_name_is_quarantined_naming_where_the_name_is() -> None:
    assert rejection(item(**{"bad\udc80": 1})).startswith("a field name in '(top level)': lone surrogate '\\udc80'")
    assert rejection(item(extra={"k\ud800": 1})).startswith("a field name in 'extra': lone surrogate '\\ud800'")


def test_a_milestone_s_blocking_issue_with_a_lone_surrogate_is_quarantined_naming_the_issue() -> None:
    raw = {"type": "PHASE1_MILESTONE", "milestone": "m", "status": "failing", "assigned_agent": "a",
           "blocking_issues": ["ok", "\ud800"], "timestamp": T}
    assert rejection(raw).startswith("field 'blocking_issues[1]': lone surrogate")


def test_an_id_over_512_characters_is_quarantined_with_that_reason() -> None:
    assert to_alert(item(task_id="t" * ID_LIMIT), "s").task_id == "t" * ID_LIMIT
    assert rejection(item(task_id="t" * (ID_LIMIT + 1))) == (
        "field 'task_id': 513 characters long, over the 512-character limit for ids"
    )
    raw = {"type": "TASK_REASSIGNMENT", "task_id": "t", "old_agent": "é" * 600, "new_agent": "b", "timestamp": T}
    assert rejection(raw) == "field 'old_agent': 600 characters long, over the 512-character limit for ids"


def test_a_text_over_64_kib_anywhere_in_the_item_is_quarantined_with_that_reason() -> None:
    assert to_alert(item(description="x" * TEXT_LIMIT), "s").note == "x" * TEXT_LIMIT
    assert rejection(item(description="x" * (TEXT_LIMIT + 1))) == (
        "field 'description': 65,537 bytes long, over the 65,536-byte limit for texts"
    )
    assert rejection(item(extra=["é" * 40_000])) == (
        "field 'extra[0]': 80,000 bytes long, over the 65,536-byte limit for texts"
    )
    reason = rejection(item(**{"k" * 70_000: 1}))
    assert reason == "a field name in '(top level)': 70,000 bytes long, over the 65,536-byte limit for texts"


def test_nul_characters_and_right_to_left_marks_are_representable_and_accepted() -> None:
    alert = to_alert(item(task_id="task\u0000\u200f", description="\u202eright to left\u0000"), "s")
    assert alert.task_id == "task\u0000\u200f"
    assert alert.note == "\u202eright to left\u0000"


def test_an_unexpected_error_while_validating_an_item_quarantines_it_with_the_error_and_logs_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(value: str) -> datetime:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(alert_schema, "parse_timestamp", explode)
    with caplog.at_level(logging.WARNING, logger="adapters.alert_schema"):
        assert rejection(item()) == "ZeroDivisionError: division by zero"
    assert "alerts.json line 3: ZeroDivisionError: division by zero" in caplog.text


# The alerts file's fast path: a line's text can show that no string in it needs a look -------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(codec=None, categories=None), max_size=30)
    | st.sampled_from(["x" * (TEXT_LIMIT + 1), "\\u0041", "C:\\users", "\ud800"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.just("\udc80"), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.booleans())
def test_a_line_passed_as_plainly_representable_holds_no_string_the_full_look_would_refuse(
    item: dict[str, Any], ascii_only: bool,
) -> None:
    written = json.dumps(item, ensure_ascii=ascii_only)
    if plainly_representable(written):
        assert unrepresentable(json.loads(written)) is None


@settings(max_examples=300, deadline=None)
@given(raw_alerts(), st.booleans())
def test_an_alert_read_with_the_text_it_was_decoded_from_is_judged_as_without_it(
    raw: dict[str, Any], ascii_only: bool,
) -> None:
    written = json.dumps(raw, ensure_ascii=ascii_only)
    decoded = json.loads(written)

    def outcome(text: str | None) -> object:
        try:
            return to_alert(decoded, "alerts.jsonl", 1, text)
        except AlertRejected as rejected:
            return rejected.reason

    assert outcome(written) == outcome(None)


def test_a_line_spelling_a_lone_surrogate_as_an_escape_is_still_looked_at_and_refused() -> None:
    written = '{"type": "AGENT_HEARTBEAT", "agent_id": "ada\\ud800", "timestamp": "2025-07-16T19:03:54Z"}'
    assert not plainly_representable(written)
    with pytest.raises(AlertRejected, match="lone surrogate"):
        to_alert(json.loads(written), "alerts.jsonl", 1, written)


def nested(depth: int) -> Any:
    """A list nested `depth` deep (an empty list is depth 1)."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_value_nested_deeper_than_64_levels_is_quarantined_naming_where_and_the_line_is_looked_at() -> None:
    too_deep = item(extra=nested(64))  # the item is level 1, so its deepest list is level 65
    reason = rejection(too_deep)
    assert reason.startswith("field 'extra[0][0]") and reason.endswith("nested more than 64 levels deep")
    written = json.dumps(too_deep)
    assert not plainly_representable(written)
    with pytest.raises(AlertRejected, match="nested more than 64 levels deep"):
        to_alert(json.loads(written), "alerts.jsonl", 1, written)


def test_a_value_nested_64_levels_deep_is_accepted() -> None:
    assert to_alert(item(extra=nested(63)), "alerts.json", 3).task_id == "task-1"
