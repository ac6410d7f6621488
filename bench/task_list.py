"""Listing benchmark: `task list --json` over 10,000 tasks against `task show` in the same run.

Usage: python bench/task_list.py [--tasks N] [--runs R]

Builds a home holding N tasks (default 10,000; assignments spread over 100 agents, a third of them in a crisis),
then times each command cold (a fresh process), R times (default 9), and prints the medians, the ratio of
`task list --json` to `task show --json`, and the time listing takes beyond the cold start both commands share
(list - show) beside its target of 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.100


def coordinator() -> str:
    beside = Path(sys.executable).parent / "coordinator"
    return str(beside) if beside.exists() else "coordinator"


def build(home: Path, tasks: int) -> None:
    alerts = home.parent / "tasks.jsonl"
    with alerts.open("w", encoding="utf-8") as out:
        for index in range(tasks):
            agent = f"agent-{index % 100}"
            out.write(json.dumps({"type": "TASK_ASSIGNED", "task_id": f"task-{index}", "agent_id": agent,
                                  "deadline": "2025-07-17T12:00:00Z", "timestamp": "2025-07-16T09:00:00Z"}) + "\n")
            if index % 3 == 0:
                out.write(json.dumps({"type": "COORDINATION_CRISIS", "task_id": f"task-{index}", "agent_id": agent,
                                      "escalation_level": "red", "timestamp": "2025-07-16T10:00:00Z"}) + "\n")
    subprocess.run([coordinator(), "run", "--once", "--alerts-file", str(alerts), "--home", str(home), "--as-of",
                    "2025-07-16T11:00:00Z", "--json"], check=True, stdout=subprocess.DEVNULL)


def median_seconds(args: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([coordinator(), *args], check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build(home, options.tasks)
        env = {**os.environ, "COORDINATOR_HOME": str(home)}
        show = median_seconds(["task", "show", "task-1", "--json"], options.runs, env)
        listed = median_seconds(["task", "list", "--json"], options.runs, env)
        filtered = median_seconds(["task", "list", "--level", "red", "--limit", "50", "--json"], options.runs, env)
    print(f"{options.tasks:,} tasks, medians of {options.runs} cold runs")
    print(f"task show --json:                    {show * 1000:7.1f} ms")
    answer = listed - show
    print(f"task list --json:                    {listed * 1000:7.1f} ms ({listed / show:.2f}x task show)")
    print(f"  its answer beyond a cold start (list - show): {answer * 1000:.1f} ms (target {TARGET * 1000:.0f} ms: "
          f"{'met' if answer <= TARGET else 'MISSED'})")
    print(f"task list --level red --limit 50:    {filtered * 1000:7.1f} ms ({filtered / show:.2f}x task show)")


if __name__ == "__main__":
    main()
