"""The running service's deliveries against a real webhook that hangs: the real executable, real HTTP, real files.

The webhook (routed for the PM) holds every request open until the test lets it answer, so what must happen
while it hangs is checked against what the server knows: no request has been answered yet.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from tests.e2e.service_support import Run, Services, append, crisis, notifications, task, wait_for
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture
from tests.integration.local_http import serving

HANG_LIMIT = 300.0
"""Seconds a held request waits at most (the test lets it answer long before, or fails first)."""


class HangingWebhook:
    """Holds every POST open until `release` is set, then answers 200; tells which keys are open and answered."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.opened: list[str] = []
        self.answered: list[str] = []

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        key = str(json.loads(body)["key"])
        with self.lock:
            self.opened.append(key)
        self.release.wait(HANG_LIMIT)
        with self.lock:
            self.answered.append(key)
        return 200

    def open_requests(self) -> list[str]:
        with self.lock:
            return [key for key in self.opened if key not in self.answered]


def outbox(coordinator: Run) -> list[dict[str, Any]]:
    result = coordinator("notifications", "--limit", "100", "--json")
    assert result.code == 0, result.err
    rows: list[dict[str, Any]] = result.json()
    return rows


def filed(home: Path, subject: str) -> list[str]:
    return [str(row["recipient"]) for row in notifications(home) if row["subject"] == subject]


def test_a_hung_webhook_holds_up_neither_the_file_channels_deliveries_nor_new_alerts_escalating(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    webhook = HangingWebhook()
    with serving(webhook.answer, on_close=webhook.release.set) as url:
        services.home.mkdir(parents=True)
        (services.home / "coordinator.toml").write_text(
            f'[channels.webhook]\nurl = "{url}/hook"\ntimeout = {HANG_LIMIT * 2:g}\n'
            '[[routes]]\nchannel = "webhook"\nrecipient = "pm-agent"\n',
            encoding="utf-8",
        )
        alerts.write_text(crisis("task-1"), encoding="utf-8")
        service = services.run("--alerts-file", str(alerts))
        wait_for(lambda: len(webhook.open_requests()) == 1, "the PM's notification to hang in the webhook")
        wait_for(lambda: filed(services.home, "task-1") == ["agent-1"], "the agent's notification in the file")

        append(alerts, crisis("task-2", agent="agent-2"))
        wait_for(lambda: filed(services.home, "task-2") == ["agent-2"], "the new alert's notification in the file")
        wait_for(lambda: (task(coordinator, "task-2") or {}).get("level") == "RED", "the new alert's escalation")
        wait_for(lambda: len(webhook.open_requests()) == 2, "the new PM notification sent beside the hung one")

        assert webhook.answered == [], "all of it happened while the first request was still open"
        to_pm = {row["key"]: row for row in outbox(coordinator) if row["recipient"] == "pm-agent"}
        assert sorted(to_pm) == sorted(webhook.opened)
        assert {(row["status"], row["attempts"]) for row in to_pm.values()} == {("pending", 0)}

        webhook.release.set()
        wait_for(lambda: {row["status"] for row in outbox(coordinator)} == {"delivered"},
                 "every notification recorded as delivered once the webhook answers")

        rows = outbox(coordinator)
        assert {row["key"]: row["channel"] for row in rows if row["recipient"] == "pm-agent"} == dict.fromkeys(
            to_pm, "webhook")
        assert sorted(webhook.opened) == sorted(to_pm), "each sent once"
        assert sorted(filed(services.home, "task-1") + filed(services.home, "task-2")) == ["agent-1", "agent-2"]
        assert service.terminate() == 0


def test_dead_letters_retried_through_the_running_service_are_answered_once_their_deliveries_are_recorded(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    status = [400]
    with serving(lambda path, headers, body: status[0]) as url:
        services.home.mkdir(parents=True)
        (services.home / "coordinator.toml").write_text(
            f'default_channel = "webhook"\n[channels.webhook]\nurl = "{url}/hook"\n', encoding="utf-8")
        alerts.write_text(crisis("task-1"), encoding="utf-8")
        services.run("--alerts-file", str(alerts))
        wait_for(lambda: {row["status"] for row in outbox(coordinator)} == {"dead"}, "the refused notifications dead")
        dead = len(outbox(coordinator))

        status[0] = 200
        retried = coordinator("notifications", "retry", "--dead", "--json")

        assert retried.code == 0, retried.err
        assert retried.json() == {"requeued": dead, "delivered": dead, "failed": 0, "dead": 0}
        assert {row["status"] for row in outbox(coordinator)} == {"delivered"}
