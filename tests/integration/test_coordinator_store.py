"""The coordinator against a real SQLite event store: replay, idempotence, quarantine, read models."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import Settings
from domain.agent import Agent
from domain.task import Task
from projections import queries

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_alerts.py"
AS_OF = datetime(2025, 7, 16, 6, 0, tzinfo=UTC)


def generated(tmp_path: Path, count: int, bad_every: int = 0) -> Path:
    if not GENERATOR.exists():
        pytest.skip(f"alert generator not found at {GENERATOR}")
    path = tmp_path / f"alerts-{count}.jsonl"
    with path.open("w") as out:
        subprocess.run(
            [sys.executable, str(GENERATOR), str(count), "--tasks", "60", "--agents", "8",
             "--bad-every", str(bad_every)],
            stdout=out, check=True,
        )
    return path


def open_home(home: Path) -> Services:
    return build(Settings(home=home))


def event_count(home: Path) -> int:
    with sqlite3.connect(home / "events.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def test_replaying_the_store_rebuilds_exactly_the_state_the_commands_produced(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 1500)
    writer = open_home(tmp_path / "home")
    writer.coordinator.ingest(read_alerts(alerts), batch_size=200)
    writer.coordinator.tick(AS_OF)
    live = {agg.id: agg for agg in writer.coordinator.workspace._cache.values()}
    writer.close()

    reader = open_home(tmp_path / "home")
    assert live, "the ingest touched no aggregate"
    for aggregate_id, aggregate in live.items():
        replayed = reader.coordinator.repository.get(aggregate_id)
        assert replayed == aggregate, f"replay differs for {aggregate!r}"
    reader.close()


def test_reingesting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 800, bad_every=9)
    services = open_home(tmp_path / "home")
    first = services.coordinator.ingest(read_alerts(alerts))
    events_after_first = event_count(tmp_path / "home")
    second = services.coordinator.ingest(read_alerts(alerts))
    services.close()

    assert first.processed > 0
    assert (second.processed, second.quarantined) == (0, 0)
    assert second.duplicates == first.processed + first.quarantined, "every line, bad ones too, was read before"
    assert event_count(tmp_path / "home") == events_after_first
    with sqlite3.connect(tmp_path / "home" / "events.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == first.quarantined


def test_a_file_rewritten_with_old_content_plus_new_applies_only_the_new_alerts(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 600)
    lines = alerts.read_text().splitlines(keepends=True)
    growing = tmp_path / "coordination_alerts.json"
    growing.write_text("".join(lines[:400]))
    services = open_home(tmp_path / "home")
    services.coordinator.ingest(read_alerts(growing))
    growing.write_text("".join(lines))
    report = services.coordinator.ingest(read_alerts(growing))
    services.close()

    assert (report.processed, report.duplicates) == (200, 400)


def test_a_separate_store_fed_in_one_batch_or_many_ends_in_the_same_state(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 1000)
    one = open_home(tmp_path / "one")
    one.coordinator.ingest(read_alerts(alerts), batch_size=10_000)
    many = open_home(tmp_path / "many")
    many.coordinator.ingest(read_alerts(alerts), batch_size=37)
    for task_id in [f"task-{n}" for n in range(60)]:
        try:
            left = one.coordinator.get_task(task_id)
        except LookupError:
            continue
        right = many.coordinator.get_task(task_id)
        assert left.history == right.history
        assert (left.stage, left.agent_id, left.deadline) == (right.stage, right.agent_id, right.deadline)
    one.close()
    many.close()


def test_quarantined_input_is_kept_with_its_file_line_and_reason(tmp_path: Path) -> None:
    alerts = tmp_path / "coordination_alerts.json"
    alerts.write_text(
        '{"type": "TASK_ASSIGNED", "task_id": "t1", "agent_id": "a1", "timestamp": "2025-07-16T20:00:00Z"}\n'
        '{"type": "COORDINATION_CRISIS", "task_id": \n'
        '{"type": "TASK_COMPLETED", "task_id": "t1", "timestamp": "2025-07-16T21:00:00Z"}\n'
    )
    services = open_home(tmp_path / "home")
    report = services.coordinator.ingest(read_alerts(alerts))
    rows = services.ledger.quarantined()
    task = services.coordinator.get_task("t1")
    services.close()

    assert (report.processed, report.quarantined) == (2, 1)
    assert len(rows) == 1
    assert rows[0]["source"] == str(alerts)
    assert rows[0]["line"] == 2
    assert rows[0]["raw"].startswith('{"type": "COORDINATION_CRISIS"')
    assert rows[0]["reason"]
    assert task.status == "completed"


def test_a_failed_save_leaves_no_partial_batch_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alerts = generated(tmp_path, 300)
    services = open_home(tmp_path / "home")
    recorder = services.ledger
    original = recorder._insert_ledger

    def explode(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(recorder, "_insert_ledger", explode)
    with pytest.raises(RuntimeError):
        services.coordinator.ingest(read_alerts(alerts))
    monkeypatch.undo()
    assert event_count(tmp_path / "home") == 0
    report = services.coordinator.ingest(read_alerts(alerts))
    services.close()
    assert report.processed == 300


def test_the_status_read_model_agrees_with_the_aggregates(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 1200)
    services = open_home(tmp_path / "home")
    services.coordinator.ingest(read_alerts(alerts), batch_size=300)
    services.coordinator.tick(AS_OF)
    services.views.catch_up()
    rows = queries.tasks(services.views.db)
    assert rows
    for row in rows:
        task = services.coordinator.get_task(row["task_id"])
        assert (row["level"], bool(row["emergency"]), row["status"], row["agent_id"]) == (
            task.stage.level, task.stage.emergency, task.status, task.agent_id
        )
    for row in queries.agents(services.views.db):
        agent = services.coordinator.get_agent(row["agent_id"])
        assert (row["level"], row["responsive"]) == (agent.stage.level, not agent.unresponsive)
        held = sorted(r["task_id"] for r in rows if r["agent_id"] == agent.agent_id and r["status"] == "open")
        assert row["tasks"] == held
    assert services.views.lag() == 0
    services.close()


def test_the_read_model_catches_up_incrementally_from_its_stored_position(tmp_path: Path) -> None:
    alerts = generated(tmp_path, 400)
    services = open_home(tmp_path / "home")
    lines = alerts.read_text().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_text("".join(lines[:200]))
    services.coordinator.ingest(read_alerts(part))
    first = services.views.catch_up()
    services.coordinator.ingest(read_alerts(alerts))
    second = services.views.catch_up()
    third = services.views.catch_up()
    services.close()
    assert first > 0 and second > 0
    projections = len(services.views.projections)
    assert first + second == event_count(tmp_path / "home") * projections, "each projection saw each event once"
    assert third == 0


def test_tasks_and_agents_get_stable_ids_from_their_names() -> None:
    assert Task.id_for("task-1") == Task.id_for("task-1")
    assert Task.id_for("task-1") != Agent.id_for("task-1")


def test_a_long_task_stream_is_snapshotted_and_loads_to_the_same_state(tmp_path: Path) -> None:
    alerts = tmp_path / "long.jsonl"
    with alerts.open("w") as out:
        for minute in range(0, 20 * 60, 3):
            out.write(
                f'{{"type": "DEADLINE_WARNING", "task_id": "long-task", "agent_id": "a1", '
                f'"time_remaining": "2 minutes", "timestamp": "2025-07-16T{minute // 60:02d}:{minute % 60:02d}:00Z"}}\n'
            )
    services = open_home(tmp_path / "home")
    services.coordinator.ingest(read_alerts(alerts))
    loaded = services.coordinator.get_task("long-task")
    assert services.coordinator.snapshots is not None
    snapshots = list(services.coordinator.snapshots.get(Task.id_for("long-task")))
    replayed = None
    for event in services.coordinator.events.get(Task.id_for("long-task")):
        replayed = event.mutate(replayed)
    services.close()
    assert snapshots, "no snapshot was taken of a stream of more than a thousand events"
    assert loaded.version > 1000
    assert loaded == replayed


def test_every_snapshot_equals_the_aggregate_replayed_to_the_same_version_and_only_the_latest_is_kept(
    tmp_path: Path,
) -> None:
    alerts = tmp_path / "busy.jsonl"
    with alerts.open("w") as out:
        for minute in range(0, 24 * 60):
            level = ("red", "yellow", "orange")[minute % 3]
            out.write(
                f'{{"type": "COORDINATION_CRISIS", "task_id": "busy", "agent_id": "a{minute % 4}", '
                f'"escalation_level": "{level}", "timestamp": "2025-07-16T{minute // 60:02d}:{minute % 60:02d}:00Z"}}\n'
            )
    items = list(read_alerts(alerts))
    services = open_home(tmp_path / "home")
    assert services.coordinator.snapshots is not None
    taken: list[tuple[int, Task]] = []
    for start in range(0, len(items), 240):
        services.coordinator.ingest(items[start : start + 240], batch_size=37)
        kept = list(services.coordinator.snapshots.get(Task.id_for("busy")))
        assert len(kept) <= 1, "a new snapshot replaces the earlier ones of its aggregate"
        if kept and (not taken or taken[-1][0] != kept[0].originator_version):
            taken.append((kept[0].originator_version, kept[0].mutate(None)))
    events = list(services.coordinator.events.get(Task.id_for("busy")))
    earlier = services.coordinator.repository.get(Task.id_for("busy"), version=taken[0][0] - 1)
    services.close()
    assert len(taken) >= 2
    for version, state in taken:
        replayed = None
        for event in events[:version]:
            replayed = event.mutate(replayed)
        assert state == replayed, f"snapshot at version {version}"
    replayed = None
    for event in events[: taken[0][0] - 1]:
        replayed = event.mutate(replayed)
    assert earlier == replayed, "a load at a version before the kept snapshot replays the events"
