"""Homes written by earlier versions of the coordinator still open, replay and rebuild into the same read models.

Each directory of `tests/stores` holds a home as the code of its day wrote it (`make_store.py` there wrote it):
its event store and the read models that code built. Today's code must get every read-model row back.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from adapters import outbox_table
from adapters.event_stream import ActivitySeen, AlertReceived, CoordinationEventConsumer
from cli.bootstrap import build
from cli.settings import Settings
from projections.registry import projections
from projections.runner import POSITIONS, ProjectionRunner

STORES = Path(__file__).resolve().parents[1] / "stores"
HOMES = sorted(path.name for path in STORES.iterdir() if (path / "events.sqlite").exists())


def tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every read-model table's rows, in a stable order (projection positions aside)."""
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(db.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr)
                for name in names if name != POSITIONS}


@pytest.fixture(params=HOMES)
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(STORES / request.param, copy)
    return copy


def test_there_is_a_stored_home_to_replay() -> None:
    assert HOMES


def test_a_stored_home_rebuilds_into_the_read_models_its_own_code_built(home: Path, tmp_path: Path) -> None:
    expected = tables(home / "views.sqlite")
    services = build(Settings(home=home))
    rebuilt = ProjectionRunner(tmp_path / "rebuilt.sqlite", services.coordinator.recorder, projections())
    rebuilt.catch_up()
    rebuilt.close()
    services.close()

    actual = tables(tmp_path / "rebuilt.sqlite")

    assert sorted(actual) == sorted(expected)
    for name, rows in expected.items():
        if name == "response_totals" and actual[name] != rows:  # older homes: seconds summed by SQLite's julianday
            # (to about 10 µs), microseconds now
            ((_, delivered, micros),), ((_, counted, summed),) = actual[name], rows
            assert delivered == counted and micros / 1e6 == pytest.approx(summed, abs=1e-4 * max(counted, 1))
            continue
        assert actual[name] == rows, f"{name} differs"


def test_a_stored_home_lists_every_notification_as_before_once_its_outbox_is_upgraded(home: Path) -> None:
    with sqlite3.connect(home / "events.sqlite") as db:
        before = outbox_table.listing(db.cursor(), None, None)  # read as the table stands, before any upgrade
    services = build(Settings(home=home))
    after = services.ledger.notifications(limit=None)
    services.close()

    assert before and after == before


def test_a_stored_home_replays_to_every_task_its_read_models_show(home: Path) -> None:
    with sqlite3.connect(home / "views.sqlite") as db:
        shown = db.execute("SELECT task_id, agent_id, stage, status, deadline FROM task_status").fetchall()
    services = build(Settings(home=home))
    for task_id, agent_id, stage, status, deadline in shown:
        task = services.coordinator.get_task(task_id)
        held = task.deadline.isoformat().replace("+00:00", "Z") if task.deadline else None
        assert (task.agent_id, task.stage.value, task.status, held) == (agent_id, stage, status, deadline), task_id
    services.close()


def test_every_alert_on_a_stored_homes_event_stream_carries_a_fingerprint_its_ledger_accepted(home: Path) -> None:
    async def drain() -> list[str]:
        consumer = CoordinationEventConsumer(home=home)
        return [event.fingerprint async for event in consumer.stream_events()
                if isinstance(event, AlertReceived | ActivitySeen)]

    streamed = asyncio.run(drain())
    services = build(Settings(home=home))
    known = services.ledger.known_fingerprints(streamed)
    services.close()

    assert streamed and known == set(streamed)


def test_an_older_home_still_knows_every_alert_it_accepted_once_its_ledger_is_upgraded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(STORES / "alert-facts-v2", home)
    with sqlite3.connect(home / "events.sqlite") as db:
        before = db.execute("SELECT fingerprint, source, line FROM alerts_seen").fetchall()
    assert before

    services = build(Settings(home=home))
    fingerprints = [fingerprint for fingerprint, _, _ in before]
    known = services.ledger.known_fingerprints(fingerprints)
    services.close()

    assert known == set(fingerprints), "every accepted alert is still a duplicate if read again"
    with sqlite3.connect(home / "events.sqlite") as db:
        kept = db.execute("SELECT alert_sources.name, line FROM alerts_seen"
                          " JOIN alert_sources ON alert_sources.id = alerts_seen.source").fetchall()
        columns = [row[1] for row in db.execute("PRAGMA table_info(alerts_seen)")]
    assert sorted(kept) == sorted((source, line) for _, source, line in before)
    assert columns == ["fingerprint", "source", "line"]
