"""Delivering the outbox against a real SQLite store, a real local HTTP server and real files."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import outbox_table
from adapters.channels.file import FileChannel
from adapters.delivery import Dispatcher, Route, Router
from cli.channels_setup import build_router
from domain.notifications import Channel, DeliveryOutcome, DeliveryReport, Notification
from tests.integration.delivery_scenarios import (
    Clock,
    Endpoint,
    by_key,
    clock_after_queueing,
    close_channels,
    delivered_events,
    dispatcher,
    failed_events,
    file_lines,
    moment,
    open_home,
    queue,
)
from tests.integration.delivery_scenarios import endpoint as endpoint  # pytest fixture
from tests.integration.delivery_scenarios import home as home  # pytest fixture
from tests.integration.delivery_scenarios import (
    no_coordinator_environment as no_coordinator_environment,  # pytest fixture, autouse
)

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


def test_finding_due_notifications_walks_the_due_index_instead_of_sorting_the_whole_outbox(tmp_path: Path) -> None:
    services = open_home(tmp_path / "home")  # SQLite's planner, told which index to use
    with services.ledger.datastore.transaction(commit=False) as c:
        c.execute("EXPLAIN QUERY PLAN " + outbox_table.DUE_QUERY.format(columns="*"), ("2030-01-01", 10))
        plan = " ".join(str(row[-1]) for row in c.fetchall())
    services.close()
    assert "outbox_due" in plan
    assert "TEMP B-TREE" not in plan
