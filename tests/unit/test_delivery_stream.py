"""Delivery attempts are recorded on a stream of their own, many to an event, and read like the one-attempt events
older stores hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex
from eventsourcing.utils import get_topic

from adapters.delivery import Dispatcher, RetryPolicy, Router
from adapters.event_codec import EventMapper
from adapters.memory_store import MemoryStore, environment
from adapters.state_packing import unpack
from app.coordinator import Coordinator
from app.records import DELIVERIES_TOPIC, Record, attempts_of, event_kind
from app.transcodings import StageAsName
from domain.deliveries import Deliveries, attempt_fields
from domain.escalation import Escalating
from domain.notifications import DeliveryError, DeliveryOutcome, Notification
from domain.stages import Stage
from domain.task import Task
from tests.unit.task_scenarios import assigned, at, crisis

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


class Refusing:
    """A channel that refuses everything for good."""

    name = "refusing"

    def deliver(self, notification: Notification) -> None:
        raise DeliveryError("no such recipient", retryable=False)


class Accepting:
    """A channel that accepts everything."""

    name = "accepting"

    def deliver(self, notification: Notification) -> None:
        return None


class Stopped:
    """A clock standing at one instant."""

    def now(self) -> datetime:
        return NOW


def stored(event: object) -> Record:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), StageAsName()):
        transcoder.register(transcoding)
    mapped = EventMapper(transcoder=transcoder).to_stored_event(event)  # type: ignore[arg-type]
    return Record(1, str(mapped.originator_id), mapped.originator_version, mapped.topic, unpack(mapped.state))


def delivered_and_refused(channel: object) -> tuple[Coordinator, list[Record]]:
    coordinator = Coordinator(env=environment())
    store = coordinator.recorder
    assert isinstance(store, MemoryStore)
    store.clock = Stopped()  # notifications are due from when they are recorded
    coordinator.ingest([assigned(at(9), deadline=at(17)), crisis(at(10), Stage.RED)])
    before = store.max_notification_id() or 0
    Dispatcher(store, Router({"only": channel}, (), "only"), coordinator.record_deliveries, RetryPolicy(),  # type: ignore[dict-item]
               clock=lambda: NOW).drain()
    return coordinator, _records_after(store, before)


def _records_after(store: MemoryStore, after: int) -> list[Record]:
    return [Record(n.id, str(n.originator_id), n.originator_version, n.topic, unpack(n.state))
            for n in store.select_notifications(after + 1, 1_000)]


def test_the_delivery_stream_s_topic_is_the_one_readers_look_for() -> None:
    assert get_topic(Deliveries.Recorded) == DELIVERIES_TOPIC


def test_a_drain_records_every_attempt_in_one_event_and_leaves_the_task_s_own_events_alone() -> None:
    coordinator, recorded = delivered_and_refused(Accepting())
    queued = coordinator.recorder.outbox  # type: ignore[attr-defined]
    assert [event_kind(record.topic) for record in recorded] == ["Deliveries.Recorded"]
    attempts = attempts_of(recorded[0])
    assert sorted(attempt.state["key"] for attempt in attempts) == sorted(queued)
    assert {(attempt.kind, attempt.state["channel"], attempt.state["attempt"]) for attempt in attempts} == {
        (f"{attempt.subject_kind.capitalize()}.NotificationDelivered", "accepting", 1) for attempt in attempts}
    task_events = coordinator.repository.event_store.get(Task.id_for("task-42"))
    assert not [event for event in task_events
                if isinstance(event, Escalating.NotificationDelivered | Escalating.DeliveryFailed)]


def test_a_refused_attempt_is_read_as_a_dead_delivery_failure_of_its_task() -> None:
    _, recorded = delivered_and_refused(Refusing())
    attempts = attempts_of(recorded[0])
    assert attempts and all(not attempt.delivered for attempt in attempts)
    task_attempts = [attempt for attempt in attempts if attempt.subject_kind == "task"]
    assert {(attempt.kind, attempt.subject) for attempt in task_attempts} == {("Task.DeliveryFailed", "task-42")}
    assert all(attempt.state["dead"] and attempt.state["error"] == "no such recipient" for attempt in attempts)


def test_an_attempt_reads_the_same_from_the_delivery_stream_as_from_a_one_attempt_event_of_an_older_store() -> None:
    outcome = DeliveryOutcome("task:task-7#3.1", "task", "task-7", "webhook", 2, NOW, "503", False,
                              NOW + timedelta(seconds=4))
    batch = stored(Deliveries.record([outcome]).collect_events()[0])
    task = Task.register("task-7")
    task.trigger_event(Task.DeliveryFailed, key=outcome.key, channel="webhook", attempt=2, at=NOW, error="503",
                       dead=False, retry_at=outcome.retry_at)
    old = stored(task.collect_events()[-1])
    [new_form], [old_form] = attempts_of(batch), attempts_of(old)
    assert (new_form.kind, new_form.subject_kind, new_form.subject) == (old_form.kind, "task", "task-7")
    assert new_form.state == {name: value for name, value in old_form.state.items() if name != "timestamp"}


def test_a_batch_written_with_an_object_per_attempt_reads_as_today_s_rows_of_values() -> None:
    failed = DeliveryOutcome("task:task-7#3.1", "task", "task-7", "webhook", 2, NOW, "503", False,
                             NOW + timedelta(seconds=4))
    delivered = DeliveryOutcome("agent:ada#1.0", "agent", "ada", "file", 1, NOW)
    today = stored(Deliveries.record([failed, delivered]).collect_events()[0])
    state = json.loads(today.state)
    assert state["class_version"] == 2 and [len(row) for row in state["attempts"]] == [7, 4]
    state.update(class_version=1, attempts=[attempt_fields(failed), attempt_fields(delivered)])
    older = today._replace(state=json.dumps(state).encode())
    assert [(a.kind, a.state) for a in attempts_of(older)] == [(a.kind, a.state) for a in attempts_of(today)]
    assert [a.state for a in attempts_of(today)] == [attempt_fields(failed), attempt_fields(delivered)]


def test_an_event_of_another_kind_records_no_attempt() -> None:
    task = Task.register("task-7")
    assert attempts_of(stored(task.collect_events()[0])) == []
