"""Helpers and fixtures shared by the alert follower tests: alert lines, chunk readers and a store to record them in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import Item
from adapters.alert_follower import AlertFollower, Chunk
from cli.bootstrap import Services, build
from cli.settings import Settings
from domain.alerts import Alert, Quarantined

T = "2025-07-16T19:03:54Z"


def crisis(task: str, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": "agent-1",
                            "escalation_level": "red", "timestamp": T}
    item.update(changes)
    return item


def line(task: str, **changes: Any) -> str:
    return json.dumps(crisis(task, **changes)) + "\n"


def lines(*tasks: str) -> str:
    return "".join(line(task) for task in tasks)


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def alerts(items: list[Item]) -> list[Alert]:
    return [item for item in items if isinstance(item, Alert)]


def quarantined(items: list[Item]) -> list[Quarantined]:
    return [item for item in items if isinstance(item, Quarantined)]


def tasks_and_lines(chunk: Chunk) -> list[tuple[str | None, int | None]]:
    assert quarantined(chunk.items) == []
    return [(alert.task_id, alert.line) for alert in alerts(chunk.items)]


def take(follower: AlertFollower) -> Chunk:
    """Read the next chunk (there must be one) and take it as read."""
    chunk = follower.read()
    assert chunk is not None
    follower.advance(chunk.mark)
    return chunk


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "coordination_alerts.json"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    built = build(Settings(home=home))
    try:
        yield built
    finally:
        built.close()
