"""The store port's contract, run against every implementation: the SQLite store of a home, the PostgreSQL store on
a real server, and the in-memory one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters import memory_store, postgres_store, sqlite_store
from app.coordinator import Coordinator
from app.ledger import AcceptedAlert, DeliveryUpdate, LedgerBatch, OutboxEntry, Store, TaskIndexEntry
from domain.alerts import Quarantined, quarantine_digest
from domain.sources import SourceMark
from domain.task import Task

NOW = datetime(2025, 7, 16, 12, tzinfo=UTC)


class Stopped:
    """A clock standing at one instant."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        env = sqlite_store.environment(tmp_path / "events.sqlite")
    elif request.param == "postgresql":
        env = postgres_store.environment(request.getfixturevalue("postgres_url"))
    else:
        env = memory_store.environment()
    coordinator = Coordinator(env=env)
    recorder = coordinator.recorder
    assert isinstance(recorder, Store)
    recorder.clock = Stopped(NOW)  # type: ignore[attr-defined]
    yield recorder
    coordinator.close()


def event(originator: Any = None, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id=originator or uuid4(), originator_version=version, topic="tests:Happened",
                       state=b"{}")


def entry(key: str, at: datetime = NOW - timedelta(hours=1)) -> OutboxEntry:
    return OutboxEntry(key, "task", "t1", "pm-agent", "high", "crisis", "t1 is RED", at)


def test_what_a_save_records_beside_its_events_is_read_back(store: Any) -> None:
    mark = SourceMark("/alerts.jsonl", 7, 120, 4, 99, "head")
    batch = LedgerBatch(
        accepted=[AcceptedAlert("fp-1", "TASK_ASSIGNED", NOW, "alerts.jsonl", 1)],
        tasks={"t1": TaskIndexEntry("t1", "ada", True, NOW + timedelta(minutes=5)),
               "t2": TaskIndexEntry("t2", None, False, None)},
        agents={"ada": NOW + timedelta(minutes=2), "bob": None},
        source=mark,
    )
    store.save([event()], batch)
    assert store.max_notification_id() == 1
    assert store.known_fingerprints({"fp-1", "fp-2"}) == {"fp-1"}
    assert store.open_tasks() == [("t1", "ada", False)]
    assert sorted(store.agent_ids()) == ["ada", "bob"]
    assert store.source_mark("/alerts.jsonl") == mark and store.source_mark("/other") is None
    assert store.next_due() == NOW + timedelta(minutes=2)
    assert store.due(NOW + timedelta(minutes=3)) == ([], ["ada"])
    assert store.due(NOW + timedelta(minutes=5)) == (["t1"], ["ada"])


def test_a_save_whose_events_conflict_records_none_of_its_ledger_rows(store: Any) -> None:
    originator = uuid4()
    store.save([event(originator)], LedgerBatch())
    with pytest.raises(IntegrityError):
        store.save([event(originator)], LedgerBatch(accepted=[AcceptedAlert("fp-9", "TASK_ASSIGNED", NOW, "a", 1)],
                                                    outbox=[entry("task:t1#1.0")]))
    assert store.max_notification_id() == 1
    assert store.known_fingerprints({"fp-9"}) == set()
    assert store.due_notifications(NOW + timedelta(days=1)) == []


def test_a_notification_is_due_from_when_it_was_recorded_and_a_delivered_one_never_reopens(store: Any) -> None:
    store.save([event()], LedgerBatch(outbox=[entry("task:t1#1.0"), entry("task:t1#1.1")]))
    assert store.due_notifications(NOW - timedelta(seconds=1)) == []
    due = store.due_notifications(NOW)
    assert [row["key"] for row in due] == ["task:t1#1.0", "task:t1#1.1"]
    assert {row["status"] for row in due} == {"pending"}
    later = NOW + timedelta(minutes=1)
    store.save([], LedgerBatch(deliveries=[
        DeliveryUpdate("task:t1#1.0", "delivered", 1, "file", later),
        DeliveryUpdate("task:t1#1.1", "failed", 1, "webhook", later, later + timedelta(seconds=30), "timed out"),
        DeliveryUpdate("task:nobody#1.0", "delivered", 1, "file", later),
    ]))
    store.save([], LedgerBatch(deliveries=[DeliveryUpdate("task:t1#1.0", "dead", 5, "file", later, None, "late")]))
    assert store.due_notifications(later + timedelta(seconds=29)) == []
    assert [row["key"] for row in store.due_notifications(later + timedelta(seconds=30))] == ["task:t1#1.1"]
    assert store.upcoming_notifications(5) == [("task:t1#1.1", later + timedelta(seconds=30))]


def test_the_same_bad_item_is_quarantined_once_whatever_its_reason_says(store: Any) -> None:
    store.save([], LedgerBatch(quarantined=[Quarantined("a.jsonl", 3, None, "{bad", "not JSON")]))
    store.save([], LedgerBatch(quarantined=[Quarantined("a.jsonl", 3, None, "{bad", "reworded"),
                                            Quarantined("a.jsonl", 4, None, "{bad", "not JSON")]))
    assert store.quarantine_count() == 2
    known = Quarantined("a.jsonl", 3, None, "{bad", "any reason")
    unknown = Quarantined("a.jsonl", 5, None, "{bad", "not JSON")
    assert store.known_quarantine({quarantine_digest(known), quarantine_digest(unknown)}) == {quarantine_digest(known)}
    assert store.known_quarantine(set()) == set()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])  # the stores that list notifications
def test_a_notification_kept_in_its_requesting_event_is_due_and_listed_with_all_it_asked(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    env = (sqlite_store.environment(tmp_path / "events.sqlite") if kind == "sqlite"
           else postgres_store.environment(request.getfixturevalue("postgres_url")))
    coordinator = Coordinator(env=env)
    store = coordinator.recorder
    assert isinstance(store, Store)
    store.clock = Stopped(NOW)  # type: ignore[attr-defined]
    task = Task.register("task-7")
    asked_at = NOW - timedelta(minutes=10)
    told = [{"key": "task:task-7#1.0", "recipient": "pm-agent", "priority": "urgent", "kind": "crisis",
             "message": "🚨 task-7 is RED"},
            {"key": "task:task-7#1.1", "recipient": "agent-3", "priority": "priority", "kind": "ping",
             "message": "reply <now>"}]
    task.request_notifications(asked_at, told, urgent=True)
    events = [coordinator.mapper.to_stored_event(e) for e in task.collect_events()]
    store.save(events, LedgerBatch(outbox=[
        OutboxEntry(n["key"], "task", "task-7", n["recipient"], n["priority"], n["kind"], n["message"], asked_at,
                    (task.id.hex, task.version), index) for index, n in enumerate(told)]))
    due, listed = asked(store.due_notifications(NOW)), asked(reversed(store.notifications()))
    coordinator.close()

    assert due == listed == [{"key": n["key"], "subject_kind": "task", "subject": "task-7", "recipient": n["recipient"],
                     "priority": n["priority"], "kind": n["kind"], "message": n["message"], "status": "pending",
                     "requested_at": asked_at} for n in told]


def asked(rows: Any) -> list[dict[str, Any]]:
    """What each notification asked and where it stands, its request time as an instant."""
    return [{name: row[name] for name in ("key", "subject_kind", "subject", "recipient", "priority", "kind",
                                          "message", "status")}
            | {"requested_at": row["requested_at"] if isinstance(row["requested_at"], datetime)
               else datetime.fromisoformat(row["requested_at"])} for row in rows]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])  # the in-memory store keeps no snapshots
def test_a_saved_snapshot_replaces_the_earlier_ones_of_its_aggregate_only(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    env = (sqlite_store.environment(tmp_path / "events.sqlite") if kind == "sqlite"
           else postgres_store.environment(request.getfixturevalue("postgres_url")))
    coordinator = Coordinator(env=env)
    store, snapshots = coordinator.recorder, coordinator.snapshots
    assert isinstance(store, Store) and snapshots is not None
    one, other = uuid4(), uuid4()

    def snapshot(originator: Any, version: int) -> StoredEvent:
        return StoredEvent(originator_id=originator, originator_version=version, topic="tests:Snapshot", state=b"{}")

    store.save([event(one, 1), event(one, 2), event(other, 1)],
               LedgerBatch(snapshots=[snapshot(one, 1), snapshot(other, 1)]))
    store.save([event(one, 3)], LedgerBatch(snapshots=[snapshot(one, 3)]))
    kept = {originator: [s.originator_version for s in snapshots.recorder.select_events(originator)]
            for originator in (one, other)}
    coordinator.close()

    assert kept == {one: [3], other: [1]}
