"""What the channel tests share: a notification to deliver, and text no shell should ever see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.notifications import Notification

AT = datetime(2025, 7, 16, 19, 3, 54, tzinfo=UTC)
INJECTION = 'hi; touch PWNED $(touch PWNED2) | cat & `id` "quoted" \\ back'


def notification(message: str = "task-1 is stuck", recipient: str = "agent-7", **changes: Any) -> Notification:
    values: dict[str, Any] = {
        "key": "escalation:task-1:red",
        "recipient": recipient,
        "priority": "urgent",
        "message": message,
        "kind": "escalation",
        "subject": "task-1",
        "at": AT,
    }
    values.update(changes)
    return Notification(**values)
