"""The task and agent status read model over a real SQLite event store, read in pages of any size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import Settings
from projections.queries import tasks
from projections.runner import ProjectionRunner
from projections.status import StatusProjection
from tests.alert_builders import assigned, crisis, heartbeat, reassignment, unresponsive, warning
from tests.integration.views_support import runner_at


def stamp(minute: int) -> str:
    return f"2025-07-16T{9 + minute // 60:02d}:{minute % 60:02d}:00Z"


def busy_day() -> list[dict[str, Any]]:
    """Several alerts per task, with reassignments and agent silences between them."""
    alerts: list[dict[str, Any]] = []
    for round_ in range(6):
        base = round_ * 40
        for number in range(4):
            name, agent = f"task-{number}", f"agent-{(number + round_) % 3}"
            alerts.append(warning(name, agent, f"{30 + 10 * number} minutes", stamp(base + number)))
            alerts.append(crisis(name, agent, ("yellow", "orange", "red")[(number + round_) % 3], stamp(base + 5)))
            alerts.append(reassignment(name, agent, f"agent-{(number + round_ + 1) % 3}", "load", stamp(base + 9)))
        alerts.append(unresponsive(f"agent-{round_ % 3}", stamp(base + 10), stamp(base + 12)))
        alerts.append(heartbeat(f"agent-{(round_ + 1) % 3}", stamp(base + 20)))
    alerts.append(assigned("task-9", "agent-2", stamp(250), deadline=stamp(300)))
    alerts.append(warning("task-9", "agent-2", "10 minutes", stamp(280)))
    return alerts


@pytest.fixture
def services(tmp_path: Path, store_url: str | None) -> Services:
    source = tmp_path / "alerts.jsonl"
    source.write_text("".join(json.dumps(alert) + "\n" for alert in busy_day()))
    built = build(Settings(home=tmp_path / "home", store=store_url))
    built.coordinator.ingest(read_alerts(source))
    return built


def status_tables(runner: ProjectionRunner) -> dict[str, list[tuple[Any, ...]]]:
    runner.catch_up()
    return {table: runner.db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("task_status", "agent_status")}


def test_status_is_the_same_whether_read_in_pages_of_seven_events_or_all_at_once(
    services: Services, tmp_path: Path
) -> None:
    whole = status_tables(runner_at(services, tmp_path / "whole.sqlite", [StatusProjection()]))
    paged = status_tables(
        runner_at(services, tmp_path / "paged.sqlite", [StatusProjection()], page_size=7)
    )
    services.close()
    assert paged == whole
    assert len(whole["task_status"]) == 5
    assert len(whole["agent_status"]) == 3


def test_a_task_shows_the_agent_and_deadline_of_its_latest_facts_after_several_alerts_on_one_page(
    services: Services, tmp_path: Path
) -> None:
    runner = runner_at(services, tmp_path / "views.sqlite", [StatusProjection()])
    runner.catch_up()
    shown = {row["task_id"]: row for row in tasks(runner.db) if row["task_id"] in ("task-0", "task-9")}
    recorded = {name: services.coordinator.get_task(name) for name in ("task-0", "task-9")}
    services.close()
    assert set(shown) == {"task-0", "task-9"}
    for name, row in shown.items():
        assert row["agent_id"] == recorded[name].agent_id
        assert row["level"] == recorded[name].stage.level
    assert shown["task-0"]["agent_id"] == "agent-0"  # handed over last, after the task's last alert
    assert shown["task-9"]["deadline"] == "2025-07-16T13:50:00Z"  # the latest warning's, not the assignment's
