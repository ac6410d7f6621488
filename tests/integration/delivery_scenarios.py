"""Helpers and fixtures shared by the delivery tests: a scriptable local webhook, a hand-moved clock, a store."""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from adapters.delivery import Dispatcher, RetryPolicy, Router
from adapters.stream_events import DeliveryFailed, NotificationDelivered
from cli.bootstrap import Services, build
from cli.settings import load_settings
from domain.escalation import Escalating
from domain.task import Task
from tests.integration.local_http import serving

CRISIS_AT = "2025-07-16T21:00:00Z"
BASE = timedelta(seconds=10)
JITTER = 0.2


# --- a scriptable local HTTP endpoint ------------------------------------------------------------------------------


@dataclass
class Endpoint:
    """A local webhook whose answers a test scripts: the first `fail_first` requests get `fail_status`."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 503
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes) -> int:
        with self.lock:
            self.received.append(json.loads(body))
            if len(self.received) <= self.fail_first:
                return self.fail_status
            return self.status

    def keys(self) -> list[str]:
        return [str(item["key"]) for item in self.received]


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()
    with serving(lambda path, headers, body: state.answer(body)) as url:
        state.url = url + "/hook"
        yield state


# --- helpers -------------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_coordinator_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("COORDINATOR_"):
            monkeypatch.delenv(name)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def crisis(task_id: str, agent_id: str, level: str, description: str) -> dict[str, Any]:
    return {
        "type": "COORDINATION_CRISIS", "task_id": task_id, "agent_id": agent_id, "escalation_level": level,
        "description": description, "timestamp": CRISIS_AT,
    }


def open_home(home: Path, toml: str | None = None) -> Services:
    home.mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (home / "coordinator.toml").write_text(toml, encoding="utf-8")
    return build(load_settings(home))


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home, its events in its SQLite file or on a real PostgreSQL server (each delivery test runs on both)."""
    if request.param == "postgresql":
        monkeypatch.setenv("COORDINATOR_STORE", request.getfixturevalue("postgres_url"))
    return tmp_path / "home"


def queue(services: Services, tmp_path: Path, *alerts: dict[str, Any]) -> list[dict[str, Any]]:
    """Ingest `alerts` (default: a RED crisis on task-1 and an ORANGE one on task-2); the notifications queued."""
    chosen = alerts or (crisis("task-1", "agent-1", "red", "stuck"), crisis("task-2", "agent-2", "orange", "slow"))
    path = tmp_path / "coordination_alerts.json"
    path.write_text("".join(json.dumps(alert) + "\n" for alert in chosen), encoding="utf-8")
    services.coordinator.ingest(read_alerts(path))
    rows = services.ledger.notifications()
    assert rows, "the alerts queued no notification"
    return rows


def clock_after_queueing() -> Clock:
    """Queued notifications are due from the wall-clock instant they were queued: start just after it."""
    return Clock(datetime.now(UTC) + timedelta(seconds=1))


def dispatcher(services: Services, router: Router, clock: Clock, **options: Any) -> Dispatcher:
    retry = options.pop("retry", RetryPolicy(max_attempts=5, base_delay=BASE, max_delay=timedelta(minutes=5),
                                             jitter=JITTER))
    return Dispatcher(services.ledger, router, services.coordinator.record_deliveries, retry, clock=clock,
                      rng=random.Random(0), **options)


def close_channels(router: Router) -> None:
    for channel in router.channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def by_key(services: Services) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in services.ledger.notifications()}


def moment(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def task_events(services: Services, task_id: str) -> list[Any]:
    return list(services.coordinator.repository.event_store.get(Task.id_for(task_id)))


def attempts(services: Services, task_id: str) -> list[Any]:
    """The delivery attempts for the task's notifications, as the event stream shows them (they are recorded in the
    delivery stream, not among the task's own events)."""
    from adapters.event_stream import CoordinationEventConsumer

    own = [event for event in task_events(services, task_id)
           if isinstance(event, Escalating.NotificationDelivered | Escalating.DeliveryFailed)]
    assert own == [], "delivery attempts are not events of the task"
    consumer = CoordinationEventConsumer(services.settings.home)
    return [event for event in consumer.aggregate_events(Task.id_for(task_id).hex)
            if isinstance(event, NotificationDelivered | DeliveryFailed)]


def delivered_events(services: Services, task_id: str) -> list[Any]:
    return [event for event in attempts(services, task_id) if isinstance(event, NotificationDelivered)]


def failed_events(services: Services, task_id: str) -> list[Any]:
    return [event for event in attempts(services, task_id) if isinstance(event, DeliveryFailed)]


def file_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def webhook_toml(endpoint: Endpoint, extra: str = "") -> str:
    return f'default_channel = "webhook"\n{extra}\n[channels.webhook]\nurl = "{endpoint.url}"\ntimeout = 2\n'
