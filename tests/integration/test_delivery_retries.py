"""Retrying failed deliveries with a jittered exponential backoff, dead letters and their requeueing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.delivery import RetryPolicy
from cli.channels_setup import build_router
from domain.notifications import DeliveryReport
from tests.integration.delivery_scenarios import (
    BASE,
    JITTER,
    Endpoint,
    by_key,
    clock_after_queueing,
    close_channels,
    crisis,
    delivered_events,
    dispatcher,
    failed_events,
    moment,
    open_home,
    queue,
    webhook_toml,
)
from tests.integration.delivery_scenarios import endpoint as endpoint  # pytest fixture
from tests.integration.delivery_scenarios import home as home  # pytest fixture
from tests.integration.delivery_scenarios import (
    no_coordinator_environment as no_coordinator_environment,  # pytest fixture, autouse
)

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
