"""A home records its events' states packed, and reads back exactly what the plain path records and reads."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters import event_log
from adapters.alert_file import read_alerts
from adapters.event_codec import EventMapper
from adapters.state_packing import MAGIC, pack
from cli.bootstrap import build
from cli.settings import Settings
from projections.registry import projections
from projections.runner import ProjectionRunner
from tests.integration.test_parallel_rebuild import alerts_file, contents
from tests.integration.test_stored_homes import tables


def recorded(home: Path, source: Path) -> Path:
    """`home` after ingesting `source` and delivering what it asked for."""
    services = build(Settings(home=home))
    services.coordinator.ingest(read_alerts(source))
    services.dispatcher().drain()
    services.close()
    return home


def stored(home: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "events.sqlite") as db:
        rows = db.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
                          " ORDER BY rowid").fetchall()
    db.close()
    return rows


def without_recording_time(state: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(state)
    fields.pop("timestamp", None)
    return fields


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return alerts_file(tmp_path / "alerts.jsonl", range(0, 240, 3))


@pytest.fixture
def plain(tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with monkeypatch.context() as patched:
        patched.setattr(EventMapper, "packing", False)
        return recorded(tmp_path / "plain", source)


def test_a_home_stores_each_state_packed_and_the_same_fields_the_plain_path_stores(
    tmp_path: Path, source: Path, plain: Path
) -> None:
    packed = recorded(tmp_path / "packed", source)

    packed_rows, plain_rows = stored(packed), stored(plain)
    assert [(row[0], *row[2:4]) for row in packed_rows] == [(row[0], *row[2:4]) for row in plain_rows]
    assert all(row[4].startswith(b"{") for row in plain_rows)
    assert sum(row[4].startswith(MAGIC) for row in packed_rows) > 0.95 * len(packed_rows)
    assert sum(len(row[4]) for row in packed_rows) * 3 < sum(len(row[4]) for row in plain_rows)
    with sqlite3.connect(f"file:{packed / 'events.sqlite'}?mode=ro", uri=True) as db:
        read = event_log.records_after(db, 0, len(packed_rows))
    db.close()
    decided = [index for index, row in enumerate(plain_rows) if not row[3].endswith("Deliveries.Recorded")]
    assert decided, "a delivery batch holds the wall-clock times of its attempts, which two runs do not share"
    assert [without_recording_time(read[index].state) for index in decided] == [
        without_recording_time(plain_rows[index][4]) for index in decided]


def test_read_models_and_replayed_aggregates_are_the_same_from_packed_states_as_from_plain_ones(
    tmp_path: Path, plain: Path
) -> None:
    packed = tmp_path / "packed"
    shutil.copytree(plain, packed)
    (packed / "views.sqlite").unlink()
    with sqlite3.connect(packed / "events.sqlite") as db:
        db.executemany("UPDATE stored_events SET state = ? WHERE rowid = ?",
                       [(pack(row[4]), row[0]) for row in stored(plain)])
    db.close()

    built: dict[str, Any] = {}
    for name, home in (("plain", plain), ("packed", packed)):
        services = build(Settings(home=home))
        runner = ProjectionRunner(tmp_path / f"{name}-views.sqlite", services.ledger, projections())
        runner.catch_up()
        runner.close()
        with sqlite3.connect(tmp_path / f"{name}-views.sqlite") as views:
            names = [row[0] for row in views.execute("SELECT task_id FROM task_status ORDER BY task_id")]
            agent_names = [row[0] for row in views.execute("SELECT agent_id FROM agent_status ORDER BY agent_id")]
        views.close()
        tasks = [vars(services.coordinator.get_task(task_id)) for task_id in names]
        agents = [vars(services.coordinator.get_agent(agent_id)) for agent_id in agent_names]
        built[name] = (tables(tmp_path / f"{name}-views.sqlite"), tasks, agents)
        services.close()

    assert built["packed"] == built["plain"]
    assert built["plain"][1] and built["plain"][2], "tasks and agents were replayed"
    assert contents(tmp_path / "packed-views.sqlite") == contents(tmp_path / "plain-views.sqlite")
