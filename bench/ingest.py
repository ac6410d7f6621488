"""Ingestion benchmark: `coordinator run --once` against a raw SQLite baseline, on each workload.

Usage: python bench/ingest.py [N] [--workload hive|chaos|both] [--bad-every K] [--phases]

For each workload of the shared generator (`--workload hive`: a simulated hive; `chaos`: random task and agent
per alert, the stress case), generates N alerts (cached under bench/.cache), then in the same run times
  - baseline: parse each line with json.loads and insert it into a plain SQLite table, one transaction (the
    median of five runs, each into a fresh file: one run lasts under a second, and a single hiccup of a shared
    machine would otherwise move every ratio by a quarter);
  - coordinator: `coordinator run --once --json` as a process on a fresh home (ingest, responses, delivery to
    the file sink, read models);
and prints alerts/s for both and their ratio (coordinator / baseline), the event store's bytes per alert, and
the events recorded per alert with their breakdown by kind.

With --phases, a second fresh home goes through the same steps as `run --once` via the composition root,
timing each: parsing and ingesting (deciding and recording escalations and responses), time rules,
delivering the notifications to the file sink, and bringing the read models up to date; "ingest and decide"
is also printed as a ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


GENERATOR = Path(os.environ.get("COORDINATOR_GEN_ALERTS", ROOT.parent / "shared" / "bench" / "gen_alerts.py"))
CACHE = ROOT / "bench" / ".cache"


WORKLOADS = ("hive", "chaos")


def alerts_file(count: int, bad_every: int, workload: str = "chaos") -> Path:
    """The generated stream of `count` alerts of `workload` (made once, then reused)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"alerts-{workload}-{count}-bad{bad_every}.jsonl"
    if not path.exists():
        if not GENERATOR.exists():
            sys.exit(f"generator not found: {GENERATOR} (set COORDINATOR_GEN_ALERTS)")
        with path.open("w") as out:
            subprocess.run(
                [sys.executable, str(GENERATOR), str(count), "--bad-every", str(bad_every), "--workload", workload],
                stdout=out, check=True,
            )
    return path


BASELINE_RUNS = 5


def baseline(path: Path, workdir: Path, runs: int = BASELINE_RUNS) -> tuple[float, list[float]]:
    """The median of `runs` timings of the baseline (`baseline_once`), and every timing."""
    timings = [baseline_once(path, workdir / f"baseline-{run}.sqlite") for run in range(runs)]
    return statistics.median(timings), timings


def baseline_once(path: Path, database: Path) -> float:
    """Seconds to parse every line and insert it into a plain SQLite table in one transaction."""
    started = time.perf_counter()
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE alerts (type TEXT, timestamp TEXT, body TEXT)")
    with db, path.open() as lines:
        for line in lines:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                item = {}
            if not isinstance(item, dict):
                item = {}
            db.execute("INSERT INTO alerts VALUES (?, ?, ?)", (item.get("type"), item.get("timestamp"), line))
    db.close()
    return time.perf_counter() - started


COORDINATOR = [sys.executable, "-m", "cli.main"]
"""The `coordinator` command, run from this checkout."""


def coordinator(path: Path, workdir: Path) -> tuple[float, dict[str, int]]:
    """Seconds for the `coordinator run --once --json` command (its start-up, about 0.2 s, included), and its
    summary."""
    started = time.perf_counter()
    result = subprocess.run(
        [*COORDINATOR, "run", "--once", "--json", "--alerts-file", str(path), "--home", str(workdir / "home"),
         "--as-of", "2025-07-20T00:00:00Z"],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(result.stdout)


def phases(path: Path, workdir: Path) -> dict[str, float]:
    """Seconds spent in each step of `run --once`, on a fresh home."""
    from datetime import UTC, datetime

    from adapters.alert_file import read_alerts
    from bench.home import Home

    spent: dict[str, float] = {}
    built = Home(workdir / "phases")
    try:
        started = time.perf_counter()
        built.coordinator.ingest(read_alerts(path))
        spent["ingest and decide"] = time.perf_counter() - started
        started = time.perf_counter()
        built.coordinator.tick(datetime(2025, 7, 20, tzinfo=UTC))
        spent["time rules"] = time.perf_counter() - started
        started = time.perf_counter()
        built.dispatcher().drain()
        spent["deliver"] = time.perf_counter() - started
        started = time.perf_counter()
        built.views.catch_up()
        spent["read models"] = time.perf_counter() - started
    finally:
        built.close()
    return spent


def recorded(events_file: Path) -> tuple[int, Counter[str]]:
    """The event store's size in bytes, and how many events of each kind it holds."""
    with sqlite3.connect(events_file) as db:
        kinds = Counter({str(topic).rpartition(":")[2]: int(count) for topic, count in db.execute(
            "SELECT topic, COUNT(*) FROM stored_events GROUP BY topic")})
    db.close()
    return events_file.stat().st_size, kinds


def measure(workload: str, count: int, bad_every: int, with_phases: bool) -> None:
    """Run and print every figure for one workload."""
    path = alerts_file(count, bad_every, workload)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        base_seconds, base_timings = baseline(path, workdir)
        run_seconds, summary = coordinator(path, workdir)
        size, kinds = recorded(workdir / "home" / "events.sqlite")
        spent = phases(path, workdir) if with_phases else {}
    base_rate = count / base_seconds
    run_rate = count / run_seconds
    events = sum(kinds.values())
    print(f"[{workload}] alerts:       {count:,} ({summary})")
    spread = ", ".join(f"{seconds:.2f}" for seconds in sorted(base_timings))
    print(f"[{workload}] baseline:     {base_rate:,.0f} alerts/s ({base_seconds:.2f} s, median of {spread} s)")
    print(f"[{workload}] run --once:   {run_rate:,.0f} alerts/s ({run_seconds:.2f} s); "
          f"ratio {run_rate / base_rate:.3f} (target >= {FULL_TARGET[workload]})")
    if spent:
        decide = spent["ingest and decide"]
        print(f"[{workload}] ingest+decide: {count / decide:,.0f} alerts/s; ratio {base_seconds / decide:.3f} "
              f"(target >= {DECIDE_TARGET.get(workload, '-')})")
        total = sum(spent.values())
        for step, seconds in spent.items():
            print(f"    {step + ':':19} {seconds:6.2f} s ({seconds / total:4.0%}; {count / seconds:,.0f} alerts/s)")
    print(f"[{workload}] bytes/alert:  {size / count:,.0f} ({size:,} bytes; target <= {BYTES_TARGET[workload]:,})")
    print(f"[{workload}] events/alert: {events / count:.2f} ({events:,} events)")
    for kind, number in kinds.most_common():
        print(f"    {kind + ':':28} {number / count:5.2f} per alert ({number:,})")


FULL_TARGET = {"hive": 0.05, "chaos": 0.02}
DECIDE_TARGET = {"hive": 0.08}
BYTES_TARGET = {"hive": 1_000, "chaos": 2_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=100_000)
    parser.add_argument("--workload", choices=[*WORKLOADS, "both"], default="both")
    parser.add_argument("--bad-every", type=int, default=0)
    parser.add_argument("--phases", action="store_true", help="also time each step of run --once separately")
    options = parser.parse_args()
    for workload in WORKLOADS if options.workload == "both" else (options.workload,):
        measure(workload, options.count, options.bad_every, options.phases)


if __name__ == "__main__":
    main()
