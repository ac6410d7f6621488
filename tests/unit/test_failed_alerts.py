"""The quarantine entry of an alert that failed to apply: the exception's type and message, always storable."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.alerts import REASON_LIMIT, Alert, AlertType, failed_alert, failure_reason

ALERT = Alert(AlertType.TASK_COMPLETED, datetime(2025, 3, 1, tzinfo=UTC), "f", {"type": "TASK_COMPLETED", "n": 1},
              task_id="task-1", source="alerts.json", line=7)


def test_the_reason_is_the_exception_type_and_its_message() -> None:
    assert failure_reason(RuntimeError("boom")) == "RuntimeError: boom"
    assert failure_reason(KeyError()) == "KeyError"


def test_a_long_message_is_cut_and_a_lone_surrogate_in_it_is_escaped() -> None:
    assert len(failure_reason(ValueError("x" * 10_000))) == len("ValueError: ") + REASON_LIMIT
    assert failure_reason(ValueError("bad \ud800")) == "ValueError: bad \\ud800"


def test_the_entry_keeps_where_the_alert_came_from_and_its_item_as_json() -> None:
    entry = failed_alert(ALERT, OverflowError("date value out of range"))
    assert (entry.source, entry.line, entry.index) == ("alerts.json", 7, None)
    assert entry.raw == '{"type": "TASK_COMPLETED", "n": 1}'
    assert entry.reason == "OverflowError: date value out of range"
