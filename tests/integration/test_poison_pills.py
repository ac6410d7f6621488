"""Poison pills: an alert that cannot be applied is quarantined with its reason, and the batch goes on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from adapters.alert_file import read_alerts
from app.coordinator import Coordinator
from app.failures import UnknownTask
from app.responder import Responder
from cli.bootstrap import Services, build
from cli.settings import Settings
from cli.views import catch_up
from domain.moments import LATEST
from domain.sources import SourceMark
from domain.task import Task
from projections import queries
from tests.alert_builders import assigned, crisis, heartbeat, unresponsive, warning
from tests.integration.response_scenarios import Store, open_store

T = "2025-07-16T09:00:00Z"
BAD = "task-bad"


@pytest.fixture
def store(tmp_path: Path, store_url: str | None) -> Iterator[Store]:
    opened = open_store(tmp_path / "home", url=store_url)
    yield opened
    opened.close()


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Responding to anything `task-bad` records raises, after the task has recorded events in memory."""
    original = Responder.after_task

    def after_task(self: Responder, task: Task, seen: int) -> None:
        original(self, task, seen)
        if task.task_id == BAD:
            raise RuntimeError(f"cannot respond to {task.task_id}")

    monkeypatch.setattr(Responder, "after_task", after_task)


def quarantine(store: Store) -> list[tuple[Any, str]]:
    return [(row["line"], row["reason"]) for row in store.ledger.quarantined()]


def assert_replay_matches(store: Store) -> None:
    """Every aggregate in the writer's memory is exactly what its recorded events rebuild."""
    reader = Coordinator(env=store.coordinator.env)
    try:
        for aggregate_id, live in store.coordinator.workspace._cache.items():
            assert reader.repository.get(aggregate_id) == live
    finally:
        reader.close()


def test_an_alert_that_fails_to_apply_is_quarantined_with_its_error_and_the_rest_of_its_batch_is_recorded(
    store: Store, failing: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.coordinator"):
        report = store.feed(
            assigned("task-1", "ada", T, deadline="2025-07-16T10:00:00Z"),
            crisis(BAD, "ada", "red", T),
            assigned("task-2", "ada", T),
            crisis("task-1", "ada", "red", "2025-07-16T09:05:00Z"),
        )
    assert report.as_dict() == {"processed": 3, "observed": 0, "duplicates": 0, "quarantined": 1}
    assert quarantine(store) == [(2, "RuntimeError: cannot respond to task-bad")]
    assert f"line 2: RuntimeError: cannot respond to {BAD}" in caplog.text
    assert store.coordinator.get_task("task-1").stage.level == "RED"
    assert store.coordinator.get_task("task-2").agent_id == "ada"
    with pytest.raises(UnknownTask):
        store.coordinator.get_task(BAD)
    assert not [row for row in store.rows() if row["subject"] == BAD]
    assert_replay_matches(store)


def test_nothing_a_failed_alert_half_applied_to_a_shared_agent_is_recorded(store: Store, failing: None) -> None:
    store.feed(assigned("task-1", "ada", T), unresponsive("ada", T, "2025-07-16T09:10:00Z"))
    report = store.feed(
        heartbeat("bob", "2025-07-16T09:20:00Z"),
        assigned(BAD, "ada", "2025-07-16T09:30:00Z"),
        crisis("task-1", "ada", "orange", "2025-07-16T09:40:00Z"),
    )
    assert report.as_dict() == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 1}
    ada = store.coordinator.get_agent("ada")
    assert ada.unresponsive, "the failed assignment would have shown ada active"
    assert store.coordinator.get_agent("bob").last_activity is not None
    assert_replay_matches(store)


def test_many_failing_alerts_across_small_batches_are_each_quarantined_and_every_other_alert_recorded(
    tmp_path: Path, failing: None, monkeypatch: pytest.MonkeyPatch, store_url: str | None
) -> None:
    store = open_store(tmp_path / "home", url=store_url)
    original = Task.receive

    def receive(self: Task, alert: Any, before: Any, after: Any) -> None:
        original(self, alert, before, after)
        if self.task_id.startswith("poison-"):
            raise ValueError(f"poisoned {self.task_id}")

    monkeypatch.setattr(Task, "receive", receive)
    alerts = []
    for number in range(30):
        alerts.append(assigned(f"task-{number}", f"agent-{number % 4}", T))
        if number % 3 == 0:
            alerts.append(crisis(f"poison-{number}", f"agent-{number % 4}", "red", T))
        if number % 10 == 0:
            alerts.append(crisis(BAD, "agent-0", "red", T, description=f"again {number}"))
    path = store.write(*alerts)
    mark = SourceMark(str(path), 1, path.stat().st_size, len(alerts) + 1)
    report = store.coordinator.ingest(read_alerts(path), batch_size=7, mark=mark)
    assert report.as_dict() == {"processed": 30, "observed": 0, "duplicates": 0, "quarantined": 13}
    reasons = [reason for _, reason in quarantine(store)]
    assert sorted(reasons) == sorted([f"ValueError: poisoned poison-{n}" for n in range(0, 30, 3)]
                                     + ["RuntimeError: cannot respond to task-bad"] * 3)
    assert all(store.coordinator.get_task(f"task-{n}").agent_id == f"agent-{n % 4}" for n in range(30))
    assert store.ledger.source_mark(str(path)) == mark
    assert_replay_matches(store)
    assert store.coordinator.ingest(read_alerts(path)).as_dict() == {"processed": 0, "observed": 0, "duplicates": 30,
                                                                     "quarantined": 13}
    store.close()


def test_a_failure_of_the_event_store_still_stops_the_ingest_and_records_nothing_of_its_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(self: Task, *args: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(Task, "receive", locked)
    with pytest.raises(OperationalError):
        store.feed(assigned("task-1", "ada", T))
    assert store.ledger.quarantined() == []
    with pytest.raises(UnknownTask):
        store.coordinator.get_task("task-1")


POISON = [
    assigned("t-offset-low", "ada", "0001-01-01T00:00:00+23:59"),
    assigned("t-offset-high", "ada", "9999-12-31T23:59:59-23:59"),
    warning("t-early", "ada", "10 minutes", "0001-01-01T00:10:00Z"),
    warning("t-huge", "ada", "999999999 days", T),
    {**warning("t-float", "ada", "0", T), "time_remaining": 1e308},
    assigned("\ud800", "ada", T),
    crisis("t-text", "ada", "red", T, description="\udfff"),
    {**heartbeat("ada", T), "extra": {"k": ["\ud800"]}},
    assigned("t" * 513, "ada", T),
    crisis("t-long", "ada", "red", T, description="x" * 70_000),
]


def services(tmp_path: Path, url: str | None = None) -> Services:
    return build(Settings(home=tmp_path / "home", store=url))


def test_the_issue_s_poison_lines_are_quarantined_and_the_valid_alerts_around_them_processed(
    tmp_path: Path, store_url: str | None
) -> None:
    valid = [assigned(f"task-{n}", "ada", T) for n in range(len(POISON) + 1)]
    lines = [line for pair in zip(valid, [*POISON, None], strict=True) for line in pair if line is not None]
    path = tmp_path / "alerts.jsonl"
    escaped = [*lines, crisis("task-end", "ada", "red", "9999-12-31T23:50:00Z")]  # JSON escapes the surrogates
    path.write_text("".join(json.dumps(line) + "\n" for line in escaped), encoding="utf-8")
    store = open_store(tmp_path / "home", url=store_url)
    report = store.ingest(path)
    store.close()
    assert report.as_dict() == {"processed": len(valid) + 1, "observed": 0, "duplicates": 0, "quarantined": len(POISON)}
    built = services(tmp_path, store_url)
    try:
        assert built.coordinator.tick(LATEST) >= 0
        catch_up(built.views)
        assert {row["task_id"] for row in queries.tasks(built.views.db)} == {
            *(f"task-{n}" for n in range(len(valid))), "task-end"
        }
        reasons = [row["reason"] for row in built.ledger.quarantined()]
        assert all(reason.startswith(("field ", "a field name ")) for reason in reasons), reasons
    finally:
        built.close()


def test_a_task_that_fails_to_advance_is_set_aside_and_time_still_moves_every_other_task(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import UTC, datetime

    store.feed(assigned("task-1", "ada", T, deadline="2025-07-16T10:00:00Z"),
               assigned(BAD, "bob", T, deadline="2025-07-16T10:00:00Z"))
    original = Task.tick

    def tick(self: Task, now: datetime, agent: Any) -> None:
        original(self, now, agent)
        if self.task_id == BAD:
            raise RuntimeError(f"cannot advance {self.task_id}")

    monkeypatch.setattr(Task, "tick", tick)
    later = datetime(2025, 7, 16, 11, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="app.coordinator"):
        assert store.coordinator.tick(later) == 1
    assert f"could not advance task {BAD}" in caplog.text and "RuntimeError: cannot advance" in caplog.text
    assert store.coordinator.get_task("task-1").stage.level == "RED"
    assert store.coordinator.get_task(BAD).stage.level == "GREEN", "nothing it half did is recorded"
    tasks, _ = store.ledger.due(datetime(2025, 7, 17, tzinfo=UTC))
    assert BAD not in tasks, "it is not due again until an alert re-judges it"
    caplog.clear()
    store.coordinator.tick(datetime(2025, 7, 16, 12, tzinfo=UTC))
    assert "could not advance" not in caplog.text
    assert_replay_matches(store)


def test_ids_and_texts_holding_nul_and_direction_marks_are_kept_exactly_and_bad_bytes_are_quarantined_as_read(
    store: Store,
) -> None:
    odd_task, odd_agent = "task\u0000\u202e-1", "agent\u0000\u2066"
    report = store.feed(crisis(odd_task, odd_agent, "red", T, description="stuck \u0000 here"))
    assert report.as_dict()["processed"] == 1
    assert store.coordinator.get_task(odd_task).agent_id == odd_agent
    assert (odd_task, odd_agent, False) in store.ledger.open_tasks()
    assert {row["subject"] for row in store.rows()} >= {odd_task}
    assert any("stuck \u0000 here" in row["message"] for row in store.rows(odd_task))
    path = store.home.parent / "bad.jsonl"
    path.write_bytes(b'{"type": "TASK_ASSIGNED", "task_id": "\x00\xff"\n')
    assert store.ingest(path).as_dict()["quarantined"] == 1
    (raw,) = [row["raw"] for row in store.ledger.quarantined()]
    assert "\x00" in raw
