"""Delivering the outbox against a real SQLite store, a real local HTTP server and real files."""

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
from adapters.channels.file import FileChannel
from adapters.delivery import DeliveryReport, Dispatcher, RetryPolicy, Route, Router
from cli.bootstrap import Services, build
from cli.channels_setup import build_router
from cli.settings import load_settings
from domain.escalation import Escalating
from domain.notifications import Channel, DeliveryOutcome, Notification
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


@pytest.fixture
def home(tmp_path: Path) -> Path:
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


def delivered_events(services: Services, task_id: str) -> list[Any]:
    return [event for event in task_events(services, task_id) if isinstance(event, Escalating.NotificationDelivered)]


def failed_events(services: Services, task_id: str) -> list[Any]:
    return [event for event in task_events(services, task_id) if isinstance(event, Escalating.DeliveryFailed)]


def file_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def webhook_toml(endpoint: Endpoint, extra: str = "") -> str:
    return f'default_channel = "webhook"\n{extra}\n[channels.webhook]\nurl = "{endpoint.url}"\ntimeout = 2\n'


# --- delivery through the file channel -----------------------------------------------------------------------------


def test_every_queued_notification_is_delivered_once_through_the_file_channel_and_marked_delivered(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    clock = clock_after_queueing()
    router = build_router(services.settings)
    seen: list[tuple[Notification, DeliveryOutcome]] = []
    sender = dispatcher(services, router, clock, observer=lambda n, o: seen.append((n, o)), record_every=3)

    first = sender.drain()
    second = sender.drain()

    keys = {row["key"] for row in queued}
    lines = file_lines(services.settings.notifications_path)
    assert first == DeliveryReport(delivered=len(queued))
    assert second == DeliveryReport()
    assert sorted(line["key"] for line in lines) == sorted(keys)
    assert {(line["key"], line["recipient"], line["message"]) for line in lines} == {
        (row["key"], row["recipient"], row["message"]) for row in queued
    }
    assert [outcome.status for _, outcome in seen] == ["delivered"] * len(queued)
    rows = by_key(services)
    assert {row["status"] for row in rows.values()} == {"delivered"}
    assert {row["channel"] for row in rows.values()} == {"file"}
    assert {row["attempts"] for row in rows.values()} == {1}
    assert all(moment(row["delivered_at"]) == clock.now for row in rows.values())
    assert services.ledger.notification_counts() == {"pending": 0, "delivered": len(queued), "failed": 0, "dead": 0}
    for task_id in ("task-1", "task-2"):
        wanted = sorted(row["key"] for row in queued if row["subject"] == task_id)
        events = delivered_events(services, task_id)
        assert sorted(event.key for event in events) == wanted
        assert {(event.channel, event.attempt, event.at) for event in events} == {("file", 1, clock.now)}
    services.close()


def test_a_notification_is_not_due_before_it_was_queued_and_a_pass_then_sends_nothing(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queue(services, tmp_path)
    router = build_router(services.settings)
    sender = dispatcher(services, router, Clock(datetime(2000, 1, 1, tzinfo=UTC)))

    assert sender.drain() == DeliveryReport()
    assert not services.settings.notifications_path.exists()
    assert services.ledger.notification_counts()["pending"] == len(services.ledger.notifications())
    services.close()


# --- routing -------------------------------------------------------------------------------------------------------


def test_urgent_notifications_for_pm_recipients_go_to_the_webhook_and_all_others_to_the_default_file_channel(
    home: Path, tmp_path: Path, endpoint: Endpoint
) -> None:
    toml = (
        f'pm_agent = "pm-lead"\n[channels.webhook]\nurl = "{endpoint.url}"\n'
        '[[routes]]\nchannel = "webhook"\nrecipient = "pm-*"\npriority = ["urgent"]\n'
    )
    services = open_home(home, toml)
    queued = queue(services, tmp_path)
    router = build_router(services.settings)
    sender = dispatcher(services, router, clock_after_queueing())

    report = sender.drain()

    to_webhook = {row["key"] for row in queued if row["recipient"].startswith("pm-") and row["priority"] == "urgent"}
    others = {row["key"] for row in queued} - to_webhook
    assert to_webhook and others
    assert any(row["recipient"] == "pm-lead" and row["priority"] != "urgent" for row in queued)
    assert report == DeliveryReport(delivered=len(queued))
    assert sorted(endpoint.keys()) == sorted(to_webhook)
    assert sorted(line["key"] for line in file_lines(services.settings.notifications_path)) == sorted(others)
    rows = by_key(services)
    assert {key: rows[key]["channel"] for key in to_webhook} == dict.fromkeys(to_webhook, "webhook")
    assert {key: rows[key]["channel"] for key in others} == dict.fromkeys(others, "file")
    close_channels(router)
    services.close()


def test_the_first_matching_route_wins_and_a_route_without_priorities_matches_any_priority(tmp_path: Path) -> None:
    channels: dict[str, Channel] = {name: FileChannel(tmp_path / f"{name}.jsonl") for name in ("a", "b", "file")}
    router = Router(channels, [Route("a", "agent-1"), Route("b", "agent-*", ("urgent",))], "file")

    assert router.channel_for("agent-1", "standard") is channels["a"]
    assert router.channel_for("agent-1", "urgent") is channels["a"]
    assert router.channel_for("agent-2", "urgent") is channels["b"]
    assert router.channel_for("agent-2", "priority") is channels["file"]
    assert router.channel_for("pm-agent", "urgent") is channels["file"]
    with pytest.raises(ValueError, match="'nowhere'"):
        Router(channels, [Route("nowhere")], "file")
    with pytest.raises(ValueError, match="'missing'"):
        Router(channels, [], "missing")


# --- retries -------------------------------------------------------------------------------------------------------


def test_a_webhook_failing_its_first_requests_is_retried_after_a_jittered_backoff_and_then_delivered(
    home: Path, tmp_path: Path, endpoint: Endpoint
) -> None:
    services = open_home(home, webhook_toml(endpoint))
    queued = queue(services, tmp_path, crisis("task-1", "agent-1", "red", "stuck"))
    count = len(queued)
    endpoint.fail_first = count
    clock = clock_after_queueing()
    router = build_router(services.settings)
    sender = dispatcher(services, router, clock)
    started = clock.now

    first = sender.drain()

    assert first == DeliveryReport(failed=count)
    rows = by_key(services)
    retry_times = [moment(row["next_attempt_at"]) for row in rows.values()]
    for row, retry_at in zip(rows.values(), retry_times, strict=True):
        assert row["status"] == "failed"
        assert row["attempts"] == 1
        assert row["channel"] == "webhook"
        assert "503" in row["last_error"]
        assert BASE * (1 - JITTER) <= retry_at - started <= BASE * (1 + JITTER)
    failures = failed_events(services, "task-1")
    assert sorted(event.key for event in failures) == sorted(rows)
    for event in failures:
        assert (event.attempt, event.dead, event.channel, event.at) == (1, False, "webhook", started)
        assert event.error == rows[event.key]["last_error"]
        assert event.error.startswith("webhook answered 503")
        assert event.retry_at == moment(rows[event.key]["next_attempt_at"])

    clock.set(min(retry_times) - timedelta(microseconds=1))
    assert sender.drain() == DeliveryReport()
    assert len(endpoint.received) == count

    clock.set(max(retry_times))
    assert sender.drain() == DeliveryReport(delivered=count)
    assert len(endpoint.received) == 2 * count
    rows = by_key(services)
    assert {(row["status"], row["attempts"]) for row in rows.values()} == {("delivered", 2)}
    delivered = delivered_events(services, "task-1")
    assert sorted(event.key for event in delivered) == sorted(rows)
    assert {(event.attempt, event.channel) for event in delivered} == {(2, "webhook")}
    assert sender.drain() == DeliveryReport()
    close_channels(router)
    services.close()


def test_a_notification_that_keeps_failing_backs_off_exponentially_and_is_dead_lettered_at_max_attempts(
    home: Path, tmp_path: Path, endpoint: Endpoint
) -> None:
    services = open_home(home, webhook_toml(endpoint, "max_attempts = 3"))
    queue(services, tmp_path, crisis("task-1", "agent-1", "red", "stuck"))
    endpoint.fail_first = 10_000
    clock = clock_after_queueing()
    router = build_router(services.settings)
    retry = RetryPolicy(services.settings.max_attempts, BASE, timedelta(minutes=5), JITTER)
    sender = dispatcher(services, router, clock, retry=retry)
    keys = sorted(by_key(services))

    for attempt in (1, 2):
        before = clock.now
        assert sender.drain() == DeliveryReport(failed=len(keys))
        rows = by_key(services)
        factor = 1 << (attempt - 1)
        for row in rows.values():
            assert (row["status"], row["attempts"]) == ("failed", attempt)
            wait = moment(row["next_attempt_at"]) - before
            assert BASE * factor * (1 - JITTER) <= wait <= BASE * factor * (1 + JITTER)
        clock.set(max(moment(row["next_attempt_at"]) for row in rows.values()))

    assert sender.drain() == DeliveryReport(dead=len(keys))
    dead = services.ledger.notifications("dead")
    assert sorted(row["key"] for row in dead) == keys
    assert all(row["attempts"] == 3 and row["next_attempt_at"] is None for row in dead)
    assert services.ledger.notification_counts()["dead"] == len(keys)
    clock.set(clock.now + timedelta(days=1))
    assert sender.drain() == DeliveryReport()
    assert len(endpoint.received) == 3 * len(keys)
    failures = failed_events(services, "task-1")
    assert sorted((event.key, event.attempt, event.dead) for event in failures) == sorted(
        (key, attempt, attempt == 3) for key in keys for attempt in (1, 2, 3)
    )
    assert all(event.retry_at is None for event in failures if event.dead)
    close_channels(router)
    services.close()


def test_a_4xx_answer_is_dead_lettered_at_once_and_requeued_dead_letters_are_then_delivered(
    home: Path, tmp_path: Path, endpoint: Endpoint
) -> None:
    services = open_home(home, webhook_toml(endpoint))
    queue(services, tmp_path)
    keys = sorted(by_key(services))
    endpoint.status = 400
    clock = clock_after_queueing()
    router = build_router(services.settings)
    sender = dispatcher(services, router, clock)

    assert sender.drain() == DeliveryReport(dead=len(keys))
    dead = services.ledger.notifications("dead")
    assert sorted(row["key"] for row in dead) == keys
    assert {(row["attempts"], row["last_error"]) for row in dead} == {(1, "webhook answered 400 Bad Request: rejected")}
    assert len(endpoint.received) == len(keys)
    assert all(event.dead for event in failed_events(services, "task-1") + failed_events(services, "task-2"))

    endpoint.status = 200
    clock.set(clock.now + timedelta(hours=1))
    assert sender.drain() == DeliveryReport()

    one = keys[0]
    assert services.ledger.requeue_notifications(clock.now, one) == 1
    assert by_key(services)[one]["status"] == "pending"
    assert by_key(services)[one]["attempts"] == 0
    assert sender.drain() == DeliveryReport(delivered=1)
    assert endpoint.keys()[len(keys):] == [one]
    assert services.ledger.notification_counts() == {"pending": 0, "delivered": 1, "failed": 0, "dead": len(keys) - 1}
    assert services.ledger.requeue_notifications(clock.now, one) == 0

    assert services.ledger.requeue_notifications(clock.now) == len(keys) - 1
    assert sender.drain() == DeliveryReport(delivered=len(keys) - 1)
    assert sorted(endpoint.keys()[len(keys):]) == keys
    assert services.ledger.notifications("dead") == []
    rows = by_key(services)
    assert {(row["status"], row["attempts"]) for row in rows.values()} == {("delivered", 1)}
    for task_id in ("task-1", "task-2"):
        assert sorted(event.key for event in delivered_events(services, task_id)) == sorted(
            key for key, row in rows.items() if row["subject"] == task_id
        )
    close_channels(router)
    services.close()


def test_a_dead_letter_can_be_requeued_by_its_numeric_id(home: Path, tmp_path: Path, endpoint: Endpoint) -> None:
    services = open_home(home, webhook_toml(endpoint))
    queue(services, tmp_path, crisis("task-1", "agent-1", "red", "stuck"))
    endpoint.status = 404
    clock = clock_after_queueing()
    router = build_router(services.settings)
    sender = dispatcher(services, router, clock)
    sender.drain()
    [target, *_] = services.ledger.notifications("dead")

    endpoint.status = 200
    assert services.ledger.requeue_notifications(clock.now, str(target["id"])) == 1
    assert sender.drain() == DeliveryReport(delivered=1)
    assert by_key(services)[target["key"]]["status"] == "delivered"
    close_channels(router)
    services.close()


# --- robustness ----------------------------------------------------------------------------------------------------


class Exploding:
    """A channel with a bug."""

    name = "exploding"

    def __init__(self) -> None:
        self.calls = 0

    def deliver(self, notification: Notification) -> None:
        self.calls += 1
        raise RuntimeError(f"bug while sending {notification.key}")


def test_a_channel_raising_an_unexpected_exception_does_not_stop_the_other_notifications(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    exploding = Exploding()
    first_key = min(queued, key=lambda row: row["id"])["key"]
    first_recipient = by_key(services)[first_key]["recipient"]
    channels: dict[str, Channel] = {
        "file": FileChannel(services.settings.notifications_path), "exploding": exploding,
    }
    router = Router(channels, [Route("exploding", first_recipient)], "file")
    broken = {row["key"] for row in queued if row["recipient"] == first_recipient}
    sender = dispatcher(services, router, clock_after_queueing(), record_every=1)

    report = sender.drain()

    assert report == DeliveryReport(delivered=len(queued) - len(broken), failed=len(broken))
    assert exploding.calls == len(broken)
    assert sorted(line["key"] for line in file_lines(services.settings.notifications_path)) == sorted(
        row["key"] for row in queued if row["key"] not in broken
    )
    rows = by_key(services)
    for key in broken:
        assert rows[key]["status"] == "failed"
        assert rows[key]["last_error"] == f"RuntimeError: bug while sending {key}"
        assert rows[key]["channel"] == "exploding"
    recorded = failed_events(services, "task-1") + failed_events(services, "task-2")
    assert sorted((event.key, event.error, event.dead) for event in recorded) == sorted(
        (key, f"RuntimeError: bug while sending {key}", False) for key in broken
    )
    assert len(broken) < len(queued)
    services.close()


def test_delivered_notifications_are_never_sent_again_after_the_store_is_reopened(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    assert services.dispatcher().drain() == DeliveryReport(delivered=len(queued))
    path = services.settings.notifications_path
    sent = path.read_bytes()
    services.close()

    reopened = open_home(home)
    again = queue(reopened, tmp_path)
    report = reopened.dispatcher().drain()
    later = dispatcher(reopened, build_router(reopened.settings), Clock(datetime.now(UTC) + timedelta(days=30)))
    late_report = later.drain()

    assert sorted(row["key"] for row in again) == sorted(row["key"] for row in queued)
    assert report == DeliveryReport()
    assert late_report == DeliveryReport()
    assert path.read_bytes() == sent
    assert reopened.ledger.notification_counts()["delivered"] == len(queued)
    for task_id in ("task-1", "task-2"):
        keys = [event.key for event in delivered_events(reopened, task_id)]
        assert sorted(keys) == sorted(set(keys))
        assert len(keys) == sum(1 for row in queued if row["subject"] == task_id)
    reopened.close()


def test_a_crash_between_sending_and_recording_is_retried_on_restart_without_a_second_line_in_the_file(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    router = build_router(services.settings)

    def crash(outcomes: list[DeliveryOutcome]) -> None:
        raise OSError("power cut")

    crashing = Dispatcher(services.ledger, router, crash, clock=clock_after_queueing(), rng=random.Random(0))
    with pytest.raises(OSError, match="power cut"):
        crashing.drain()
    services.close()

    restarted = open_home(home)
    report = restarted.dispatcher().drain()

    assert report == DeliveryReport(delivered=len(queued))
    lines = file_lines(restarted.settings.notifications_path)
    assert sorted(line["key"] for line in lines) == sorted(row["key"] for row in queued), "each key written once"
    for task_id in ("task-1", "task-2"):
        keys = [event.key for event in delivered_events(restarted, task_id)]
        assert sorted(keys) == sorted(row["key"] for row in queued if row["subject"] == task_id)
    assert restarted.dispatcher().drain() == DeliveryReport()
    restarted.close()


# --- the retry policy ----------------------------------------------------------------------------------------------


def test_without_jitter_the_retry_delay_doubles_with_each_attempt_until_it_is_capped_at_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=60), jitter=0)
    rng = random.Random(0)

    delays = [policy.delay(attempt, rng).total_seconds() for attempt in range(1, 11)]

    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_with_jitter_each_retry_delay_stays_within_the_jitter_band_around_the_capped_exponential() -> None:
    policy = RetryPolicy(max_attempts=12, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=1), jitter=0.25)
    rng = random.Random(0)

    for attempt in range(1, 13):
        nominal = min(2.0 * 2 ** (attempt - 1), 60.0)
        samples = [policy.delay(attempt, rng).total_seconds() for _ in range(200)]
        assert all(nominal * 0.75 <= sample <= nominal * 1.25 for sample in samples), attempt
        assert max(samples) - min(samples) > nominal * 0.25, "jitter should spread the retries"
    assert max(policy.delay(40, rng) for _ in range(200)) <= timedelta(minutes=1) * 1.25


def test_the_same_random_seed_gives_the_same_retry_delays() -> None:
    policy = RetryPolicy()

    first = [policy.delay(attempt, random.Random(7)) for attempt in range(1, 8)]
    second = [policy.delay(attempt, random.Random(7)) for attempt in range(1, 8)]

    assert first == second


def test_a_long_base_delay_with_many_attempts_is_still_capped_instead_of_overflowing() -> None:
    policy = RetryPolicy(max_attempts=40, base_delay=timedelta(hours=6), max_delay=timedelta(days=1), jitter=0.2)

    delay = policy.delay(33, random.Random(0))

    assert timedelta(days=1) * 0.8 <= delay <= timedelta(days=1) * 1.2
