"""Long rebuilds lend their heaviest read models to a second process, with the same result as building alone."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from adapters.sqlite_store import EventSource
from cli.bootstrap import Services, build
from cli.settings import Settings
from projections.parallel import Lent, SecondProcess
from projections.registry import projections
from projections.runner import Projection, ProjectionRunner
from tests.alert_builders import crisis, reassignment, unresponsive, warning

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="rebuilds lend work only with a second CPU")


class WatchedSecondProcess(SecondProcess):
    """A `SecondProcess` that remembers what it lent."""

    lent: Lent | None = None

    def start(self, runner: ProjectionRunner, chosen: Sequence[Projection]) -> Lent | None:
        self.lent = super().start(runner, chosen)
        return self.lent


def stamp(minute: int) -> str:
    return f"2025-07-16T{9 + minute // 60:02d}:{minute % 60:02d}:00Z"


def alerts_file(path: Path, minutes: range) -> Path:
    """A JSON Lines file of warnings and crises of 7 tasks and 3 agents, with silences and reassignments, one every
    3 of `minutes` after 09:00."""
    alerts: list[dict[str, Any]] = []
    for minute in minutes:
        name, agent = f"task-{minute % 7}", f"agent-{minute % 3}"
        alerts += [warning(name, agent, "40 minutes", stamp(minute)),
                   crisis(name, agent, ("red", "orange", "yellow")[minute % 3], stamp(minute + 1))]
        if minute % 30 == 0:
            alerts += [unresponsive(agent, stamp(minute), stamp(minute + 2)),
                       reassignment(name, agent, f"agent-{(minute + 1) % 3}", "load", stamp(minute + 2))]
    path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts))
    return path


@pytest.fixture
def services(tmp_path: Path) -> Any:
    source = alerts_file(tmp_path / "alerts.jsonl", range(0, 300, 3))
    built = build(Settings(home=tmp_path / "home"))
    built.coordinator.ingest(read_alerts(source))
    built.dispatcher().drain()
    yield built
    built.close()


def contents(path: Path) -> dict[str, Any]:
    """Every read-model table's rows (hashed), the positions, and the schema objects of the file."""
    db = sqlite3.connect(path)
    found: dict[str, Any] = {}
    for projection in projections():
        for table in projection.tables:
            digest = hashlib.sha256()
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2'):
                digest.update(repr(row).encode())
            found[table] = digest.hexdigest()
    found["positions"] = db.execute("SELECT name, version, position FROM projection_positions ORDER BY name").fetchall()
    found["schema"] = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    db.close()
    return found


def lending(services: Services, path: Path, source: Any = None) -> ProjectionRunner:
    second = WatchedSecondProcess(source or partial(EventSource, services.settings.event_store_path), worth_it=1,
                                  scratch=path.parent)
    return ProjectionRunner(path, services.ledger, projections(), second_process=second)


def alone(services: Services, path: Path) -> dict[str, Any]:
    runner = ProjectionRunner(path, services.ledger, projections())
    runner.catch_up()
    runner.close()
    return contents(path)


def failing_source() -> Any:
    raise RuntimeError("the event store cannot be opened here")


def test_a_rebuild_shared_with_a_second_process_gives_the_same_read_models_as_one_built_alone(
    services: Services, tmp_path: Path
) -> None:
    scratch = set(tmp_path.glob("coordinator-rebuild-*"))
    runner = lending(services, tmp_path / "shared.sqlite")
    applied = runner.catch_up()
    runner.close()
    assert isinstance(runner.second_process, WatchedSecondProcess) and runner.second_process.lent is not None
    assert [p.name for p in runner.second_process.lent.projections] == ["metrics"]
    head = services.ledger.max_notification_id() or 0
    assert applied == head * len(projections()), "every projection applied every event once"
    assert contents(tmp_path / "shared.sqlite") == alone(services, tmp_path / "alone.sqlite")
    assert set(tmp_path.glob("coordinator-rebuild-*")) == scratch, "the second file is removed"


def test_a_read_model_someone_else_advanced_meanwhile_is_not_overwritten_by_the_second_process(
    services: Services, tmp_path: Path
) -> None:
    runner = lending(services, tmp_path / "shared.sqlite")
    assert runner.second_process is not None
    lent = runner.second_process.start(runner, runner.projections)
    assert lent is not None and lent.projections
    names = [p.name for p in lent.projections]
    runner.catch_up(names=[p.name for p in runner.projections if p.name not in names])
    other = ProjectionRunner(tmp_path / "shared.sqlite", services.ledger, projections())
    other.catch_up(names=names)  # another process brings the lent read models up to date first
    other.close()
    assert lent.finish(runner) == 0
    runner.close()
    assert contents(tmp_path / "shared.sqlite") == alone(services, tmp_path / "alone.sqlite")


def test_when_the_second_process_fails_the_rebuild_still_completes_here(services: Services, tmp_path: Path) -> None:
    runner = lending(services, tmp_path / "shared.sqlite", source=failing_source)
    runner.catch_up()
    runner.close()
    assert isinstance(runner.second_process, WatchedSecondProcess) and runner.second_process.lent is not None
    assert contents(tmp_path / "shared.sqlite") == alone(services, tmp_path / "alone.sqlite")
