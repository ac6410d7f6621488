"""`coordinator run --once` holds every line to the configured `max_line_bytes`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import Result

Run = Callable[..., Result]
T = "2025-07-16T19:03:54Z"


def alert(task: str, description: str = "") -> str:
    return json.dumps({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": "agent-1",
                       "escalation_level": "red", "timestamp": T, "description": description}) + "\n"


def test_a_line_over_max_line_bytes_from_the_environment_is_quarantined_and_listed_with_its_size(
    coordinator: Run, tmp_path: Path,
) -> None:
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(alert("task-1") + alert("task-2", "x" * 5000) + alert("task-3"), encoding="utf-8")
    size = len(alert("task-2", "x" * 5000)) - 1
    limit = {"COORDINATOR_MAX_LINE_BYTES": "4096"}

    result = coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", T, "--json", env_extra=limit)
    assert result.code == 0, result.err
    assert result.json() == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 1}

    [row] = coordinator("quarantine", "--json").json()
    assert (row["source"], row["line"]) == (str(alerts), 2)
    assert row["reason"] == f"line is {size:,} bytes, over the limit of 4,096 (max_line_bytes)"


def test_a_max_line_bytes_below_1024_is_refused_naming_the_setting(coordinator: Run, tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(alert("task-1"), encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(alerts), env_extra={"COORDINATOR_MAX_LINE_BYTES": "10"})
    assert result.code == 2
    assert "max_line_bytes" in result.err
