"""A generated hive for the dashboard's benchmark and screenshot: alerts for N tasks at every level, a running
service over them, and Debian's Chromium driven by Playwright.

Tasks are assigned two hours before `now` with deadlines that leave each a chosen share of its time (most GREEN,
fewer at each level up, a few past their deadline: EMERGENCY), some get a RED coordination crisis, some agents go
silent, and a few tasks are completed today.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COORDINATOR = [sys.executable, "-m", "cli.main"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHARES = ((0.55, 0.7), (0.20, 0.35), (0.12, 0.17), (0.08, 0.05), (0.05, -0.1))
"""(share of tasks, share of its time window left at `now`): GREEN, YELLOW, ORANGE, RED, past the deadline."""


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hive_alerts(tasks: int, now: datetime, agents: int = 200, seed: int = 7) -> list[dict[str, Any]]:
    """The alerts of a hive of `tasks` open tasks held by `agents` agents, as they stand at `now`."""
    chance = random.Random(seed)
    start = now - timedelta(hours=2)
    alerts: list[dict[str, Any]] = []
    bounds = [0.0]
    for share, _ in SHARES:
        bounds.append(bounds[-1] + share)
    for index in range(tasks):
        agent = f"agent-{index % agents:03d}"
        task = f"task-{index:05d}"
        pick = chance.random()
        left = next(left for (_, left), top in zip(SHARES, bounds[1:], strict=True) if pick < top or top >= 1.0)
        window = (now - start) / (1 - left)
        alerts.append({"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": stamp(start),
                       "deadline": stamp(start + window)})
        if index % 50 == 7:
            alerts.append({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent,
                           "escalation_level": "red", "description": "blocked on a failing integration test",
                           "timestamp": stamp(now - timedelta(minutes=20))})
    for index in range(min(40, tasks // 10)):
        task = f"done-{index:03d}"
        agent = f"agent-{index % agents:03d}"
        alerts.append({"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": stamp(start),
                       "deadline": stamp(now + timedelta(hours=4))})
        alerts.append({"type": "TASK_COMPLETED", "task_id": task, "agent_id": agent,
                       "timestamp": stamp(now - timedelta(minutes=index + 1))})
    for index in range(min(5, agents)):
        alerts.append({"type": "AGENT_UNRESPONSIVE", "agent_id": f"agent-{index * 37 % agents:03d}",
                       "last_activity": stamp(now - timedelta(minutes=40 + 20 * index)),
                       "timestamp": stamp(now - timedelta(minutes=5))})
    return alerts


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COORDINATOR_HOME": str(home),
            "COORDINATOR_HTTP__LISTEN": "127.0.0.1:0"}


def build(home: Path, tasks: int, now: datetime, agents: int = 200) -> float:
    """Ingest a generated hive of `tasks` open tasks held by `agents` agents into `home` (`run --once`); the
    seconds it took."""
    alerts = home.parent / "hive.jsonl"
    with alerts.open("w", encoding="utf-8") as out:
        for alert in hive_alerts(tasks, now, agents):
            out.write(json.dumps(alert) + "\n")
    started = time.perf_counter()
    subprocess.run([*COORDINATOR, "run", "--once", "--alerts-file", str(alerts), "--as-of", stamp(now), "--json"],
                   check=True, stdout=subprocess.DEVNULL, env=environment(home), cwd=home.parent)
    return time.perf_counter() - started


class Service:
    """`coordinator run` on an empty alerts file over `home`, serving its API (and dashboard) on a free port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        follow = home.parent / "follow.jsonl"
        follow.touch()
        self.log = (home.parent / "service.log").open("wb")
        self.process = subprocess.Popen([*COORDINATOR, "run", "--alerts-file", str(follow)], env=environment(home),
                                        cwd=home.parent, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.url = self._wait()

    def _wait(self) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {(self.home.parent / 'service.log').read_text()}")
            try:
                holder = json.loads((self.home / "coordinator.lock").read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                holder = {}
            if holder.get("ready") and holder.get("http"):
                return str(holder["http"])
            time.sleep(0.1)
        raise RuntimeError("the service did not announce its API")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def chromium(playwright: Any) -> Any:
    """Debian's headless Chromium (`$CHROMIUM` or `/usr/bin/chromium`)."""
    path = os.environ.get("CHROMIUM") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
    path = path or shutil.which("chromium")
    if path is None:
        raise SystemExit("Chromium is needed: apt-get install chromium")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
