"""Crash safety for real: the service is SIGKILLed at random moments while it follows a growing alerts file.

After every restart it must carry on from what it recorded; in the end its state must equal an
uninterrupted run's, no alert may be lost, and no notification key may reach the file sink twice.
The alerts are stamped in the future, so time alone moves nothing while the test runs: the outcome
depends only on the alerts, whatever moments the kills fall on.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters import outbox_table
from adapters.alert_file import read_alerts
from adapters.state_packing import unpack
from app.records import Record, attempts_of
from domain.alerts import Alert
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 20
TOTAL = 420
HIVE_TOTAL = 2_400
"""Alerts of the simulated hive: its first three hours, when silences and deadlines begin to bite."""


def stream(count: int, seed: int = 11) -> list[str]:
    """A deterministic mix of every alert type, stamped from tomorrow on, with a few bad lines."""
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    lines = []
    for index in range(count):
        moment = start + timedelta(seconds=20 * index)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        task, agent = f"task-{rng.randrange(30)}", f"agent-{rng.randrange(6)}"
        kind = rng.choice(["assign", "crisis", "warning", "silent", "beat", "move", "done", "bad"])
        if kind == "assign":
            deadline = (moment + timedelta(minutes=rng.choice([20, 60, 120]))).strftime("%Y-%m-%dT%H:%M:%SZ")
            alert: Any = {"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "deadline": deadline}
        elif kind == "crisis":
            alert = {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent,
                     "escalation_level": rng.choice(["yellow", "orange", "red", "green"]), "description": "x"}
        elif kind == "warning":
            alert = {"type": "DEADLINE_WARNING", "task_id": task, "agent_id": agent,
                     "time_remaining": f"{rng.choice([5, 15, 30])} minutes"}
        elif kind == "silent":
            gone = moment - timedelta(minutes=rng.choice([10, 40, 70, 150]))
            alert = {"type": "AGENT_UNRESPONSIVE", "agent_id": agent,
                     "last_activity": gone.strftime("%Y-%m-%dT%H:%M:%SZ"), "unresponsive_duration": "1 hour"}
        elif kind == "beat":
            alert = {"type": "AGENT_HEARTBEAT", "agent_id": agent}
        elif kind == "move":
            alert = {"type": "TASK_REASSIGNMENT", "task_id": task, "old_agent": agent,
                     "new_agent": f"agent-{rng.randrange(6)}", "reason": "rebalancing"}
        elif kind == "done":
            alert = {"type": "TASK_COMPLETED", "task_id": task}
        else:
            lines.append('{"type": "COORDINATION_CRISIS", "task_id": ')
            continue
        alert["timestamp"] = stamp
        lines.append(json.dumps(alert))
    return lines


GENERATOR = Path(os.environ.get("COORDINATOR_GEN_ALERTS", ROOT.parent / "shared" / "bench" / "gen_alerts.py"))
"""The upstream's generator of alert streams (`--workload hive|chaos`)."""
WORKLOAD_CLOCK = "2025-07-16T00:00:00Z"
"""The time every process reads while following a generated workload: its alerts come from this instant on, so time
alone moves nothing while they are read, whenever the service happens to look (as with `stream`'s tomorrow)."""


def workload(name: str, count: int, seed: int = 11) -> list[str]:
    """`count` lines of the generator's workload `name`, with a bad line now and then."""
    produced = subprocess.run([sys.executable, str(GENERATOR), str(count), "--workload", name, "--seed", str(seed),
                               "--bad-every", "53"], check=True, capture_output=True, text=True)
    return produced.stdout.splitlines()


def coordinator(*args: str, home: Path) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args, "--home", str(home)]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COORDINATOR_HTTP__LISTEN": "127.0.0.1:0"}


SIGHTING = "%:Agent.ActivitySeen"
"""The topic of an agent's sightings (SQL `LIKE`)."""


def store_facts(home: Path) -> dict[str, Any]:
    """What must be the same after any history of crashes: state, decisions, deliveries, alerts accepted."""
    with sqlite3.connect(home / "events.sqlite") as events, sqlite3.connect(home / "views.sqlite") as views:
        return {
            "tasks": sorted(views.execute(
                "SELECT task_id, agent_id, level, emergency, status, deadline FROM task_status").fetchall()),
            "agents": sorted(views.execute(
                "SELECT agent_id, level, emergency, responsive, last_activity FROM agent_status").fetchall()),
            "outbox": sorted((row["key"], row["recipient"], row["priority"], row["kind"], row["message"], row["status"])
                             for row in outbox_table.listing(events.cursor(), None, None)),
            "accepted": events.execute("SELECT COUNT(*) FROM alerts_seen").fetchone()[0],
            "quarantined": events.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0],
            # every decision once; sightings in a row are one event or several as the alerts were read together
            # or apart, so they are counted one by one
            "decisions": sorted(events.execute(
                "SELECT originator_id, COUNT(*) FROM stored_events WHERE topic NOT LIKE '%:Deliveries.%'"
                f" AND topic NOT LIKE '{SIGHTING}' GROUP BY originator_id").fetchall()),
            "sightings": sightings(events.execute(
                f"SELECT originator_id, state FROM stored_events WHERE topic LIKE '{SIGHTING}'").fetchall()),
            "deliveries": delivered_keys(events),
        }


def sightings(rows: list[tuple[Any, bytes]]) -> list[tuple[str, int]]:
    """How many times each agent was seen, from the (originator, stored state) of its `ActivitySeen` events."""
    seen: Counter[str] = Counter()
    for originator, state in rows:
        seen[originator if isinstance(originator, str) else originator.hex] += json.loads(unpack(bytes(state))).get(
            "sightings", 1)
    return sorted(seen.items())


def delivered_keys(events: sqlite3.Connection) -> list[tuple[str, int]]:
    """Each notification key with how many times its delivery is recorded as done in the delivery stream."""
    counted: Counter[str] = Counter()
    for topic, state in events.execute("SELECT topic, state FROM stored_events WHERE topic LIKE '%:Deliveries.%'"):
        counted.update(attempt.state["key"] for attempt in attempts_of(Record(0, "", 1, topic, unpack(state)))
                       if attempt.delivered)
    return sorted(counted.items())


def accepted(home: Path) -> int:
    """Alerts recorded so far in `home` (0 before its store exists or while it is being created)."""
    try:
        with sqlite3.connect(f"file:{home / 'events.sqlite'}?mode=ro", uri=True) as events:
            return int(events.execute("SELECT COUNT(*) FROM alerts_seen").fetchone()[0])
    except sqlite3.Error:
        return 0


def idle(home: Path, expected_alerts: int) -> bool:
    """Every alert recorded and every notification delivered."""
    try:
        with sqlite3.connect(f"file:{home / 'events.sqlite'}?mode=ro", uri=True) as events:
            waiting = events.execute("SELECT COUNT(*) FROM outbox WHERE status != 'delivered'").fetchone()[0]
    except sqlite3.Error:
        return False
    return accepted(home) == expected_alerts and waiting == 0


def test_a_service_killed_at_random_moments_ends_equal_to_an_uninterrupted_run(tmp_path: Path) -> None:
    outcome = kill_and_compare(tmp_path, CYCLES, TOTAL)
    assert_equal_and_sent_once(outcome)


def test_a_service_killed_at_random_moments_in_a_simulated_hive_ends_equal_to_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    if not GENERATOR.is_file():
        pytest.skip(f"stream generator not found at {GENERATOR}")
    outcome = kill_and_compare(tmp_path, CYCLES, HIVE_TOTAL, workload_name="hive")
    assert_equal_and_sent_once(outcome)
    assert outcome["requested"], "the hive's first hours ask for notifications"
    assert sum(count for _, count in outcome["reference"]["sightings"]) > len(outcome["reference"]["sightings"]), \
        "the uninterrupted run read heartbeats together, the killed one one by one"


def assert_equal_and_sent_once(outcome: dict[str, Any]) -> None:
    assert outcome["killed_while_working"] > 0, "no kill fell while the service still had work to do"
    assert outcome["killed"] == outcome["reference"]
    assert outcome["delivered_twice"] == [], "a key was delivered twice"
    assert outcome["delivered"] == outcome["requested"]


def uninterrupted(tmp_path: Path, lines: list[str], env: dict[str, str] | None = None) -> tuple[int, Path]:
    """How many of `lines` are valid alerts, and the home of one uninterrupted `run --once` over them all."""
    full = tmp_path / "all.jsonl"
    full.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reference = tmp_path / "reference"
    subprocess.run(coordinator("run", "--once", "--alerts-file", str(full), home=reference), check=True,
                   env=env or environment(), cwd=tmp_path, capture_output=True)
    return sum(new_alerts(full)), reference


def new_alerts(path: Path) -> list[int]:
    """For each line of the file at `path`: 1 if it is an alert not seen on an earlier line, else 0 (as the
    coordinator's own reader judges it)."""
    flags = [0] * len(path.read_text(encoding="utf-8").splitlines())
    seen: set[str] = set()
    for item in read_alerts(path):
        if isinstance(item, Alert) and item.line is not None and item.fingerprint not in seen:
            seen.add(item.fingerprint)
            flags[item.line - 1] = 1
    return flags


def kill_and_compare(tmp_path: Path, cycles: int, total: int, seed: int = 5,
                     workload_name: str | None = None) -> dict[str, Any]:
    """SIGKILL a service `cycles` times while it follows a growing file of `total` alerts (`stream`'s, or the
    generator's `workload_name`), then let it finish; returns the facts of that run and of an uninterrupted one,
    and what reached the file sink."""
    env = environment()
    if workload_name is None:
        lines = stream(total)
    else:
        lines = workload(workload_name, total)
        clock = tmp_path / "clock"
        clock.write_text(WORKLOAD_CLOCK, encoding="utf-8")
        env["COORDINATOR_CLOCK_FILE"] = str(clock)
    valid, reference = uninterrupted(tmp_path, lines, env)
    fresh_at = new_alerts(tmp_path / "all.jsonl")

    home = tmp_path / "killed"
    growing = tmp_path / "alerts.jsonl"
    rng = random.Random(seed)
    per_cycle = max(1, total // (cycles + 8))
    written = 0
    killed_while_working = 0
    for _ in range(cycles):
        with growing.open("a", encoding="utf-8") as out:
            for line in lines[written : written + per_cycle]:
                out.write(line + "\n")
        fresh = sum(fresh_at[written : written + per_cycle])
        written += per_cycle
        # The kill falls at a random point of the work, found by watching what is recorded (never by the clock):
        # one alert a transaction, killed once a random number of this cycle's alerts are in, or while starting.
        target = accepted(home) + rng.randrange(fresh) if fresh else 0
        service = subprocess.Popen(coordinator("run", "--alerts-file", str(growing), home=home),
                                   env={**env, "COORDINATOR_BATCH_SIZE": "1"}, cwd=tmp_path,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if target:
            wait_for(lambda: accepted(home) >= target or service.poll() is not None,  # noqa: B023
                     "the service to record alerts", step=0.001)
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=30)
        killed_while_working += int(accepted(home) < sum(fresh_at[:written]))  # had it recorded all written?
    with growing.open("a", encoding="utf-8") as out:
        for line in lines[written:]:
            out.write(line + "\n")
    service = subprocess.Popen(coordinator("run", "--alerts-file", str(growing), home=home), env=env,
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: idle(home, valid), "the service to catch up")
    finally:
        service.send_signal(signal.SIGTERM)
        _, stderr = service.communicate(timeout=30)
    assert service.returncode == 0, stderr
    delivered = [json.loads(line)["key"] for line in (home / "notifications.jsonl").read_text().splitlines()]
    expected = store_facts(reference)
    return {
        "killed_while_working": killed_while_working,
        "killed": store_facts(home),
        "reference": expected,
        "delivered_twice": [key for key, seen in Counter(delivered).items() if seen > 1],
        "delivered": sorted(delivered),
        "requested": sorted(row[0] for row in expected["outbox"]),
    }

