"""The escalation history read model against a real coordinator: every level change, rebuilt and paged alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import Settings
from domain.agent import Agent
from domain.escalation import Escalating
from domain.task import Task
from projections.history import HistoryProjection, history_of
from tests.integration.views_support import runner_at

TASKS = ("task-1", "task-2", "task-3")
AGENTS = ("ada", "bob", "backup-agent")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, tzinfo=UTC)


def stamp(hour: int, minute: int = 0) -> str:
    return at(hour, minute).isoformat().replace("+00:00", "Z")


@pytest.fixture
def services(tmp_path: Path, store_url: str | None) -> Iterator[Services]:
    """A coordinator whose tasks and agents went up and down the ladder, and one task resolved (on either store)."""
    built = build(Settings(home=tmp_path / "home", store=store_url, backup_pool=["backup-agent"]))
    alerts: list[dict[str, Any]] = [
        {"type": "TASK_ASSIGNED", "task_id": "task-1", "agent_id": "ada", "deadline": stamp(11, 40),
         "timestamp": stamp(10)},
        {"type": "TASK_ASSIGNED", "task_id": "task-3", "agent_id": "bob", "timestamp": stamp(10)},
        {"type": "AGENT_UNRESPONSIVE", "agent_id": "bob", "last_activity": stamp(9, 30),
         "unresponsive_duration": "30 minutes", "timestamp": stamp(10, 5)},
        {"type": "COORDINATION_CRISIS", "task_id": "task-2", "agent_id": "ada", "escalation_level": "red",
         "description": "blocked", "timestamp": stamp(10, 10)},
        {"type": "COORDINATION_CRISIS", "task_id": "task-2", "agent_id": "ada", "escalation_level": "green",
         "description": "unblocked", "timestamp": stamp(10, 20)},
        {"type": "COORDINATION_CRISIS", "task_id": "task-2", "agent_id": "ada", "escalation_level": "red",
         "description": "blocked again", "timestamp": stamp(10, 25)},
        {"type": "TASK_COMPLETED", "task_id": "task-2", "timestamp": stamp(10, 30)},
    ]
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
    built.coordinator.ingest(read_alerts(path))
    built.coordinator.tick(at(11, 45))
    path.write_text(json.dumps({"type": "AGENT_HEARTBEAT", "agent_id": "bob", "timestamp": stamp(12)}) + "\n")
    built.coordinator.ingest(read_alerts(path))
    yield built
    built.close()


def project(services: Services, path: Path, page_size: int = 5_000) -> list[tuple[Any, ...]]:
    runner = runner_at(services, path, [HistoryProjection()], page_size=page_size)
    runner.catch_up()
    rows = [tuple(row) for row in runner.db.conn.execute("SELECT * FROM escalation_history ORDER BY position")]
    runner.close()
    return rows


def recorded(services: Services, kind: str, name: str) -> list[dict[str, Any]]:
    """The subject's stage changes as its aggregate's own events tell them."""
    aggregate_id = Task.id_for(name) if kind == "task" else Agent.id_for(name)
    changes = []
    for event in services.coordinator.events.get(aggregate_id):
        if isinstance(event, Escalating.Escalated):
            direction = "down" if isinstance(event, Escalating.DeEscalated) else "up"
            to_level, emergency, rule = event.to_stage.level, event.to_stage.emergency, event.rule
        elif isinstance(event, Task.Resolved):
            direction, to_level, emergency, rule = "resolved", "GREEN", False, None
        else:
            continue
        changes.append({
            "subject_kind": kind, "subject": name, "at": event.at.isoformat().replace("+00:00", "Z"),
            "from_level": event.from_stage.level, "to_level": to_level, "emergency": emergency,
            "reason": event.reason, "rule": rule, "direction": direction,
        })
    return changes


def test_every_level_change_of_every_task_and_agent_appears_with_its_time_levels_reason_and_rule(
    services: Services, tmp_path: Path
) -> None:
    runner = runner_at(services, tmp_path / "v.sqlite", [HistoryProjection()])
    runner.catch_up()
    total = 0
    for kind, names in (("task", TASKS), ("agent", AGENTS)):
        for name in names:
            rows = history_of(runner.db, kind, name)
            assert [{k: v for k, v in row.items() if k != "position"} for row in rows] == recorded(services, kind, name)
            total += len(rows)
    assert total == runner.db.conn.execute("SELECT COUNT(*) FROM escalation_history").fetchone()[0]
    task_1 = history_of(runner.db, "task", "task-1")
    assert [(row["at"], row["from_level"], row["to_level"], row["emergency"], row["rule"]) for row in task_1] == [
        (stamp(10, 50), "GREEN", "YELLOW", False, "deadline"),
        (stamp(11, 15), "YELLOW", "ORANGE", False, "deadline"),
        (stamp(11, 30), "ORANGE", "RED", False, "deadline"),
        (stamp(11, 40), "RED", "RED", True, "deadline"),
    ]
    assert [row["direction"] for row in task_1] == ["up"] * 4
    bob = history_of(runner.db, "agent", "bob")
    assert [(row["to_level"], row["emergency"], row["rule"], row["direction"]) for row in bob][-1] == (
        "GREEN", False, "none", "down")
    assert {row["to_level"] for row in bob} >= {"ORANGE", "RED"}
    runner.close()


def test_a_resolution_appears_as_the_last_change_going_back_to_green(services: Services, tmp_path: Path) -> None:
    runner = runner_at(services, tmp_path / "v.sqlite", [HistoryProjection()])
    runner.catch_up()
    task_2 = history_of(runner.db, "task", "task-2")
    assert [(row["at"], row["from_level"], row["to_level"], row["direction"]) for row in task_2] == [
        (stamp(10, 10), "GREEN", "RED", "up"),
        (stamp(10, 20), "RED", "GREEN", "down"),
        (stamp(10, 25), "GREEN", "RED", "up"),
        (stamp(10, 30), "RED", "GREEN", "resolved"),
    ]
    assert task_2[0]["reason"] == "coordination crisis: red (blocked)"
    assert task_2[-1]["reason"].startswith("TASK_COMPLETED")
    assert task_2[-1]["rule"] is None
    runner.close()


def test_history_until_an_instant_is_the_history_as_it_stood_then(services: Services, tmp_path: Path) -> None:
    runner = runner_at(services, tmp_path / "v.sqlite", [HistoryProjection()])
    runner.catch_up()
    assert [row["to_level"] for row in history_of(runner.db, "task", "task-1", until=at(11, 15))] == [
        "YELLOW", "ORANGE"]
    assert [row["to_level"] for row in history_of(runner.db, "task", "task-1", until="2025-07-16T11:29:59Z")] == [
        "YELLOW", "ORANGE"]
    assert history_of(runner.db, "task", "task-1", until=at(10)) == []
    assert history_of(runner.db, "task", "no-such-task") == []
    runner.close()


def test_rebuilding_from_scratch_on_an_empty_views_file_gives_identical_rows(
    services: Services, tmp_path: Path
) -> None:
    first = project(services, tmp_path / "first.sqlite")
    assert first
    assert project(services, tmp_path / "second.sqlite") == first
    runner = runner_at(services, tmp_path / "first.sqlite", [HistoryProjection()])
    runner.rebuild(runner.projections[0])
    runner.catch_up()
    assert [tuple(row) for row in runner.db.conn.execute("SELECT * FROM escalation_history ORDER BY position")] == first
    runner.close()


def test_pages_of_seven_events_give_the_same_rows_as_one_page(services: Services, tmp_path: Path) -> None:
    assert project(services, tmp_path / "paged.sqlite", page_size=7) == project(services, tmp_path / "one.sqlite")
