"""`coordinator run --once` on files of poison lines: it exits 0, quarantines them with reasons, keeps the rest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alert_builders import assigned, crisis, heartbeat, warning
from tests.e2e.conftest import Result
from tests.poison_strategies import raw_alerts

Run = Callable[..., Result]
T = "2025-07-16T09:00:00Z"
POISON: list[dict[str, Any]] = [
    assigned("t-offset-low", "ada", "0001-01-01T00:00:00+23:59"),
    assigned("t-offset-high", "ada", "9999-12-31T23:59:59-23:59"),
    warning("t-early", "ada", "10 minutes", "0001-01-01T00:10:00Z"),
    warning("t-huge", "ada", "999999999 days", T),
    {**warning("t-float", "ada", "0", T), "time_remaining": 1e308},
    assigned("\ud800", "ada", T),
    crisis("t-text", "ada", "red", T, description="\udfff"),
    {**heartbeat("ada", T), "extra": {"k\ud800": ["x"]}},
    assigned("t" * 513, "ada", T),
    crisis("t-long", "ada", "red", T, description="x" * 70_000),
]


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")  # surrogates escaped
    return path


def test_run_once_on_the_issue_s_poison_lines_exits_0_and_processes_the_valid_lines_around_them(
    coordinator: Run, tmp_path: Path
) -> None:
    valid = [assigned(f"task-{n}", "ada", T) for n in range(len(POISON))]
    end = crisis("task-end", "ada", "red", "9999-12-31T23:50:00Z")
    items = [line for pair in zip(valid, POISON, strict=True) for line in pair] + [end]
    path = write(tmp_path / "poison.jsonl", items)
    result = coordinator("run", "--once", "--json", "--alerts-file", str(path), "--as-of", "9999-12-31T23:59:59Z")
    assert result.code == 0, result.err
    assert result.json() == {"processed": len(valid) + 1, "observed": 0, "duplicates": 0, "quarantined": len(POISON)}
    listed = coordinator("quarantine", "--json")
    assert listed.code == 0, listed.err
    reasons = [row["reason"] for row in listed.json()]
    assert len(reasons) == len(POISON)
    assert any("lone surrogate '\\ud800'" in reason for reason in reasons)
    assert any("over the 512-character limit" in reason for reason in reasons)


def generated_alerts(count: int) -> list[dict[str, Any]]:
    """`count` extreme alerts, the same on every run."""
    drawn: list[list[dict[str, Any]]] = []

    @settings(max_examples=1, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(raw_alerts(), min_size=count, max_size=count))
    def draw(items: list[dict[str, Any]]) -> None:
        drawn.append(items)

    draw()
    return drawn[-1]


def test_run_once_on_a_file_of_generated_extreme_alerts_exits_0_and_delivers_what_it_decided(
    coordinator: Run, tmp_path: Path
) -> None:
    generated = generated_alerts(150)
    anchors = [assigned(f"anchor-{n}", "ada", T) for n in range(len(generated))]
    mixed = [line for pair in zip(anchors, generated, strict=True) for line in pair]
    path = write(tmp_path / "generated.jsonl", [{**line, "seq": n} for n, line in enumerate(mixed)])
    result = coordinator("run", "--once", "--test-mode", "--alerts-file", str(path), "--as-of", T)
    assert result.code == 0, result.err
    summary = re.search(r"(\d+) processed, 0 duplicates, (\d+) quarantined", result.out)
    assert summary is not None, result.out[-2000:]
    processed, quarantined = int(summary[1]), int(summary[2])
    assert processed + quarantined == len(mixed)
    assert processed >= len(anchors)
    assert "Traceback" not in result.err
