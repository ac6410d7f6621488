"""The metrics read model finds every requested notification's key and priority, whatever its messages say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.records import Record
from projections.metrics import _requests


def requested(*notifications: dict[str, Any]) -> Record:
    state = json.dumps(
        {"timestamp": "2025-07-16T09:00:00+00:00", "at": "2025-07-16T09:00:00+00:00",
         "notifications": list(notifications), "urgent": True},
        separators=(",", ":"), ensure_ascii=False,
    )
    return Record(7, "0" * 32, 7, "domain.task:Task.NotificationsRequested", state.encode())


def notification(key: str, priority: str, message: str) -> dict[str, Any]:
    return {"key": key, "recipient": "pm-agent", "priority": priority, "kind": "crisis", "message": message,
            "subject": "task-1"}


@pytest.mark.parametrize(
    "message",
    [
        "plain words",
        '🚨 URGENT: "quoted" {"key":"not-a-key","priority":"fake"} and a \\ backslash',
        'ends with a brace }',
    ],
)
def test_every_notification_of_a_request_is_found_with_its_priority(message: str) -> None:
    record = requested(notification("task:t#1.0", "urgent", message), notification("task:t#1.1", "priority", message),
                       notification("task:t#1.2", "standard", message))
    assert _requests(record) == [("task:t#1.0", "urgent"), ("task:t#1.1", "priority"), ("task:t#1.2", "standard")]


def test_a_key_that_needs_escaping_is_read_by_decoding_the_event() -> None:
    record = requested(notification('task:say "hi"#1.0', "urgent", "m"), notification("task:b#1.1", "standard", "m"))
    assert _requests(record) == [('task:say "hi"#1.0', "urgent"), ("task:b#1.1", "standard")]
