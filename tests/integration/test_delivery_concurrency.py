"""Concurrent delivery against a real store: channels send on their own threads and a hung one holds up only itself.

The channels here are held by the test (a gate it opens), so every assertion is about what has or has not
happened yet, never about how long anything took.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from adapters.channels.file import FileChannel
from adapters.delivery import DeliveryStopped, Route, Router
from domain.notifications import Channel, DeliveryError, DeliveryReport, Notification
from tests.integration.delivery_scenarios import (
    by_key,
    clock_after_queueing,
    crisis,
    delivered_events,
    dispatcher,
    file_lines,
    open_home,
    queue,
)
from tests.integration.delivery_scenarios import home as home  # pytest fixture
from tests.integration.delivery_scenarios import (
    no_coordinator_environment as no_coordinator_environment,  # pytest fixture, autouse
)
from tests.waiting import wait_for


class Held:
    """A channel whose every delivery waits at a gate the test opens; it counts the deliveries under way."""

    name = "held"

    def __init__(self) -> None:
        self.gate = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.entered: list[str] = []
        self.active = 0
        self.most_active = 0

    def deliver(self, notification: Notification) -> None:
        with self.lock:
            self.entered.append(notification.key)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.gate.acquire()
        with self.lock:
            self.active -= 1

    def open(self, count: int = 10_000) -> None:
        self.gate.release(count)


class Batches:
    """A batch channel that remembers each call's size and how many calls overlapped."""

    name = "batches"

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.active = 0
        self.most_active = 0
        self.lock = threading.Lock()

    def deliver(self, notification: Notification) -> None:
        self.deliver_many([notification])

    def deliver_many(self, notifications: Sequence[Notification]) -> list[DeliveryError | None]:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.sizes.append(len(notifications))
        with self.lock:
            self.active -= 1
        return [None] * len(notifications)


def held_router(services_home: Path, held: Held, recipient: str) -> Router:
    channels: dict[str, Channel] = {"file": FileChannel(services_home / "notifications.jsonl"), "held": held}
    return Router(channels, [Route("held", recipient)], "file")


def many_crises(count: int) -> list[dict[str, object]]:
    return [crisis(f"task-{index}", f"agent-{index}", "red", "stuck") for index in range(count)]


def test_a_hung_channel_holds_up_only_its_own_notifications_while_the_file_channel_delivers_the_others(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    held = Held()
    sender = dispatcher(services, held_router(home, held, "pm-agent"), clock_after_queueing())
    to_pm = {row["key"] for row in queued if row["recipient"] == "pm-agent"}
    others = {row["key"] for row in queued} - to_pm
    assert to_pm and others

    sent = sender.send_due()
    wait_for(lambda: len(held.entered) == len(to_pm), "every PM notification to be under way in the held channel")
    outcomes = sender.collect(others)

    assert sorted(sent) == sorted(to_pm | others)
    assert {outcome.key: outcome.status for outcome in outcomes} == dict.fromkeys(others, "delivered")
    assert sorted(line["key"] for line in file_lines(services.settings.notifications_path)) == sorted(others)
    rows = by_key(services)
    assert {key: (rows[key]["status"], rows[key]["attempts"]) for key in to_pm} == dict.fromkeys(to_pm, ("pending", 0))
    assert held.active == len(to_pm), "the held deliveries were still under way while the others were recorded"
    assert sender.sending == to_pm

    assert sender.send_due() == [], "a notification being sent is not handed out again"
    assert sender.next_attempt() is None, "nothing waits that is not already under way"
    assert sorted(held.entered) == sorted(to_pm)

    held.open()
    late = sender.collect(to_pm)

    assert {outcome.key: (outcome.status, outcome.channel) for outcome in late} == dict.fromkeys(
        to_pm, ("delivered", "held"))
    assert sender.sending == frozenset()
    assert services.ledger.notification_counts()["delivered"] == len(queued)
    for task_id in ("task-1", "task-2"):
        keys = [event.key for event in delivered_events(services, task_id)]
        assert sorted(keys) == sorted(row["key"] for row in queued if row["subject"] == task_id), "each once"
    services.close()


def test_a_channel_has_at_most_16_attempts_under_way_and_sends_the_rest_as_those_finish(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path, *many_crises(20))
    held = Held()
    sender = dispatcher(services, held_router(home, held, "*"), clock_after_queueing())
    assert len(queued) > 16

    keys = sender.send_due()
    wait_for(lambda: held.active == 16, "16 deliveries under way at once")
    assert len(held.entered) == 16
    held.open()
    outcomes = sender.collect(keys)

    assert [outcome.status for outcome in outcomes] == ["delivered"] * len(queued)
    assert held.most_active == 16
    assert sorted(held.entered) == sorted(row["key"] for row in queued), "each sent once"
    assert services.ledger.notification_counts()["delivered"] == len(queued)
    services.close()


def test_a_batch_channel_gets_the_notifications_handed_out_together_in_one_call_at_a_time(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path, *many_crises(30))
    batches = Batches()
    router = Router({"file": batches}, (), "file")
    sender = dispatcher(services, router, clock_after_queueing(), record_every=25)

    report = sender.drain()

    assert report == DeliveryReport(delivered=len(queued))
    assert sum(batches.sizes) == len(queued)
    assert batches.sizes == [25] * (len(queued) // 25) + ([len(queued) % 25] if len(queued) % 25 else [])
    assert batches.most_active == 1
    services.close()


def test_the_earliest_attempt_not_under_way_is_the_next_one_the_service_waits_for(home: Path, tmp_path: Path) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    held = Held()
    sender = dispatcher(services, held_router(home, held, "*"), clock_after_queueing())
    earliest = min(datetime.fromisoformat(row["next_attempt_at"]) for row in queued)

    before = sender.next_attempt()
    sender.send_due()
    during = sender.next_attempt()
    held.open()
    sender.collect(sender.sending)

    assert before == earliest
    assert during is None
    assert sender.next_attempt() is None
    services.close()


def test_waiting_for_everything_due_is_answered_once_collect_has_recorded_all_of_it(home: Path, tmp_path: Path) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    held = Held()
    sender = dispatcher(services, held_router(home, held, "*"), clock_after_queueing())

    answer = sender.send_all_due()
    wait_for(lambda: held.active == len(queued), "every delivery under way")
    early = sender.collect()
    held.open()
    wait_for(lambda: held.active == 0, "the deliveries to finish")
    assert not answer.done(), "nothing is answered before the writer records it"
    sender.collect(sender.sending)

    assert early == []
    assert answer.result(timeout=0) == DeliveryReport(delivered=len(queued))
    assert sender.send_all_due().result(timeout=0) == DeliveryReport(), "nothing due: answered at once"
    services.close()


def test_finishing_tells_whoever_still_waits_that_delivery_stopped_and_records_what_comes_back_meanwhile(
    home: Path, tmp_path: Path
) -> None:
    services = open_home(home)
    queued = queue(services, tmp_path)
    held = Held()
    sender = dispatcher(services, held_router(home, held, "pm-agent"), clock_after_queueing())
    to_pm = {row["key"] for row in queued if row["recipient"] == "pm-agent"}
    others = {row["key"] for row in queued} - to_pm

    answer = sender.send_all_due()
    wait_for(lambda: held.active == len(to_pm), "the PM deliveries to be under way")
    sender.collect(others)
    sender.finish(timeout=0)

    with pytest.raises(DeliveryStopped):
        answer.result(timeout=0)
    rows = by_key(services)
    assert {key for key, row in rows.items() if row["status"] == "delivered"} == others
    assert {rows[key]["status"] for key in to_pm} == {"pending"}, "not recorded: sent again after a restart"

    held.open()
    sender.finish(timeout=60)

    assert {row["status"] for row in by_key(services).values()} == {"delivered"}
    services.close()
