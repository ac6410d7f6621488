"""The application over the in-memory store: its commands, its process manager and its cycle, with no database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from adapters.delivery import Dispatcher, Router
from adapters.memory_store import MemoryStore, environment
from adapters.state_packing import unpack
from app.coordinator import Coordinator
from app.cycle import Cycle
from app.failures import UnknownTask
from domain.notifications import Notification
from domain.stages import Stage
from tests.unit.task_scenarios import assigned, at, crisis

TASK = "task-42"


class Collected:
    """A channel that keeps what it is given."""

    name = "collected"

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self._lock = threading.Lock()

    def deliver(self, notification: Notification) -> None:
        with self._lock:
            self.sent.append(notification)


class Stopped:
    """A clock standing at one instant."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def coordinator() -> Coordinator:
    return Coordinator(env=environment())


def store_of(coordinator: Coordinator) -> MemoryStore:
    assert isinstance(coordinator.recorder, MemoryStore)
    return coordinator.recorder


def test_an_alert_is_recorded_once_and_the_same_alert_again_changes_nothing(coordinator: Coordinator) -> None:
    first = coordinator.ingest([assigned(at(9), deadline=at(17))])
    again = coordinator.ingest([assigned(at(9), deadline=at(17))])
    assert (first.processed, again.processed, again.duplicates) == (1, 0, 1)
    assert coordinator.get_task(TASK).agent_id == "ada"
    assert len(store_of(coordinator).accepted) == 1


def test_a_red_crisis_queues_its_notifications_with_the_events_that_decided_them(coordinator: Coordinator) -> None:
    coordinator.ingest([assigned(at(9), deadline=at(17)), crisis(at(10), Stage.RED)])
    task = coordinator.get_task(TASK)
    assert task.stage is Stage.RED
    queued = store_of(coordinator).outbox
    assert {row["recipient"] for row in queued.values()} >= {"pm-agent", "ada"}
    assert all(row["status"] == "pending" and row["subject"] == TASK for row in queued.values())


def test_time_alone_escalates_a_task_whose_deadline_passed_when_the_coordinator_is_told_the_time(
        coordinator: Coordinator) -> None:
    coordinator.ingest([assigned(at(9), deadline=at(10))])
    assert coordinator.get_task(TASK).stage is Stage.GREEN
    due = store_of(coordinator).next_due()
    assert due is not None and due <= at(10)
    assert coordinator.tick(at(10, 30)) == 1
    assert coordinator.get_task(TASK).stage.rank > Stage.GREEN.rank
    assert coordinator.tick(at(10, 30)) == 0, "the same instant again moves nothing"


def test_what_the_store_replays_is_the_task_the_commands_left(coordinator: Coordinator) -> None:
    coordinator.ingest([assigned(at(9), deadline=at(10)), crisis(at(9, 30), Stage.ORANGE)])
    coordinator.tick(at(12))
    coordinator.acknowledge(TASK, "pm-lead", at(12, 5))
    in_hand = coordinator.workspace.task(TASK)
    replayed = coordinator.get_task(TASK)
    assert (replayed.version, replayed.stage, replayed.acknowledged_by, replayed.history) == (
        in_hand.version, in_hand.stage, "pm-lead", in_hand.history)


def test_a_command_naming_a_task_no_alert_named_is_refused_and_records_nothing(coordinator: Coordinator) -> None:
    with pytest.raises(UnknownTask):
        coordinator.acknowledge("nobody-knows", "pm-lead", at(9))
    assert store_of(coordinator).max_notification_id() is None


def test_one_cycle_ingests_advances_delivers_and_records_each_delivery(coordinator: Coordinator) -> None:
    channel = Collected()
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    store_of(coordinator).clock = Stopped(now)  # notifications are due from when they are recorded
    dispatcher = Dispatcher(store_of(coordinator), Router({"collected": channel}, (), "collected"),
                            coordinator.record_deliveries, clock=lambda: now)
    settled: list[bool] = []
    cycle = Cycle(coordinator, dispatcher, lambda: settled.append(True))
    done = cycle.once([assigned(at(9), deadline=at(10)), crisis(at(9, 30), Stage.RED)], now)
    queued = store_of(coordinator).outbox
    assert done.ingested.processed == 2
    assert done.delivered.delivered == len(queued) == len(channel.sent) > 0
    assert {row["status"] for row in queued.values()} == {"delivered"}
    assert settled == [True], "the read models are brought up to date once, after delivering"
    assert cycle.tick(now + timedelta(seconds=1)).delivered.total() == 0, "nothing is delivered twice"


def test_a_notification_is_due_from_when_it_was_recorded_not_from_the_alert_s_time(coordinator: Coordinator) -> None:
    store = store_of(coordinator)
    store.clock = Stopped(datetime(2025, 3, 2, tzinfo=UTC))
    coordinator.ingest([assigned(at(9), deadline=at(17)), crisis(at(10), Stage.RED)])
    assert store.due_notifications(datetime(2025, 3, 1, 12, tzinfo=UTC)) == []
    assert len(store.due_notifications(datetime(2025, 3, 2, tzinfo=UTC))) == len(store.outbox) > 0


def test_the_same_bad_item_read_again_is_quarantined_once_whatever_reason_it_was_given(
        coordinator: Coordinator) -> None:
    from domain.alerts import Quarantined

    first = coordinator.ingest([Quarantined("alerts.jsonl", 3, None, "{not json", "not JSON")])
    again = coordinator.ingest([Quarantined("alerts.jsonl", 3, None, "{not json", "a different wording"),
                                Quarantined("alerts.jsonl", 4, None, "{not json", "not JSON")])
    assert [item.reason for item in store_of(coordinator).quarantined] == ["not JSON", "not JSON"]
    assert (first.quarantined, first.duplicates) == (1, 0)
    assert (again.quarantined, again.duplicates) == (1, 1), "what was refused before is counted as read again"


def test_a_heartbeat_of_an_agent_at_work_leaves_its_tasks_alone_until_time_settles_them(
        coordinator: Coordinator) -> None:
    from domain.alerts import Alert, AlertType

    coordinator.ingest([assigned(at(9), deadline=at(10))])
    version = coordinator.get_task(TASK).version
    beat = Alert(AlertType.AGENT_HEARTBEAT, at(11), "beat@11", {}, agent_id="ada")
    coordinator.ingest([beat])
    assert coordinator.get_task(TASK).version == version, "nothing recorded on the task for a heartbeat"

    coordinator.tick(at(11))
    task = coordinator.get_task(TASK)
    assert task.stage is Stage.EMERGENCY, "past its deadline"
    assert at(10) in [entry["at"] for entry in task.history], "the deadline's crossing, recorded at its instant"


def _history(coordinator: Coordinator) -> dict[object, list[tuple[int, str, dict[str, object]]]]:
    """Every aggregate's events (version, topic, state without the instant it was recorded)."""
    import json

    found: dict[object, list[tuple[int, str, dict[str, object]]]] = {}
    for note in store_of(coordinator).select_notifications(start=1, limit=1_000_000):
        state = json.loads(unpack(note.state))
        state.pop("timestamp", None)
        found.setdefault(note.originator_id, []).append((note.originator_version, note.topic, state))
    return found


def test_looking_up_which_tasks_and_agents_are_new_records_what_asking_the_store_one_by_one_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from adapters.alert_items import item_for
    from app.workspace import Workspace
    from tests.integration.test_crash_safety import stream

    lines = stream(600, seed=3)
    items = [item_for(json.loads(line), line, "alerts.jsonl", number, None) if line.endswith("}") else None
             for number, line in enumerate(lines, 1)]
    alerts = [item for item in items if item is not None]
    looked_up = Coordinator(env=environment())
    for start in range(0, len(alerts), 50):  # batches naming new and known aggregates alike
        looked_up.ingest(alerts[start : start + 50], batch_size=25)
    asked: list[object] = []
    monkeypatch.setattr(Workspace, "look_up", lambda self, tasks, agents: asked.append(1))
    one_by_one = Coordinator(env=environment())
    for start in range(0, len(alerts), 50):
        one_by_one.ingest(alerts[start : start + 50], batch_size=25)
    assert asked, "the plain path was taken"
    assert _history(looked_up) == _history(one_by_one)
    assert len(_history(looked_up)) > 30
