"""Read-side benchmark: full projection rebuild speed, and cold query commands against `python3 -c pass`.

Usage: python bench/rebuild.py [EVENTS] [--runs R]

Builds (once, then reuses from bench/.cache) a store of at least EVENTS events (default 1,000,000) by
ingesting generated alerts (`../shared/bench/gen_alerts.py`) and delivering their notifications. Then, in
one run:
  - scan: a plain read of the event table with `json.loads` of every stored state, unpacked first if packed
    (the baseline);
  - rebuild: every projection rebuilt from the start of history into a fresh read-model file (events/s, and
    its ratio to the scan; target >= 1.0);
  - cold processes: `coordinator task show ID` and `coordinator status`, each as a new process, against
    `python3 -c pass` measured alongside (median of R runs; target <= 8x each).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.home_files import EVENTS_FILE  # noqa: E402
from bench.home import Home  # noqa: E402
from bench.ingest import COORDINATOR, GENERATOR  # noqa: E402
from projections.registry import projections  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
CHUNK = 50_000


def store(events: int) -> Path:
    """A home holding at least `events` events (built once, then reused)."""
    home = CACHE / f"store-v4-{events}"  # v4: states packed; built by `run --once --as-of`
    done = home / "complete"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    seed = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    while _events(home) < events:
        seed += 1
        source = home / "alerts.jsonl"
        with source.open("w") as out:
            subprocess.run([sys.executable, str(GENERATOR), str(CHUNK), "--seed", str(seed)], stdout=out, check=True)
        subprocess.run([*COORDINATOR, "run", "--once", "--alerts-file", str(source), "--home", str(home),
                        "--as-of", "2025-07-20T00:00:00Z"], check=True, stdout=subprocess.DEVNULL, env=env)
        print(f"  building store: {_events(home):,} events", flush=True)
    done.touch()
    return home


def _events(home: Path) -> int:
    """How many events the home's store holds (0 before its first run)."""
    import sqlite3

    path = home / EVENTS_FILE
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT IFNULL(MAX(rowid), 0) FROM stored_events").fetchone()[0])


def rebuild(home: Path) -> tuple[int, float]:
    """Events in the store, and seconds to build every read model from them into a fresh file."""
    opened = Home(home)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runner = opened.read_models(Path(tmp) / "views.sqlite")
            started = time.perf_counter()
            runner.catch_up(names=None)
            seconds = time.perf_counter() - started
            runner.close()
        return opened.ledger.max_notification_id() or 0, seconds
    finally:
        opened.close()


def scan(home: Path) -> tuple[int, float]:
    """Events read, and seconds to read every stored state and decode it with `json.loads` (unpacking it first when
    it is packed): the floor any reader of the whole log pays."""
    import json
    import sqlite3

    from adapters.state_packing import unpack

    started = time.perf_counter()
    count = 0
    with sqlite3.connect(home / EVENTS_FILE) as db:
        cursor = db.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events")
        while rows := cursor.fetchmany(10_000):
            for row in rows:
                json.loads(unpack(row[4]))
            count += len(rows)
    return count, time.perf_counter() - started


def cold(argv: list[str], runs: int, env: dict[str, str]) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def a_task(home: Path) -> str:
    import sqlite3

    with sqlite3.connect(home / "views.sqlite") as db:
        row = db.execute("SELECT task_id FROM task_status ORDER BY task_id LIMIT 1").fetchone()
    return str(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    home = store(options.events)
    scanned, scan_seconds = scan(home)
    count, seconds = rebuild(home)
    print(f"store:          {count:,} events ({home}; {os.cpu_count()} CPUs)")
    print(f"scan:           {scanned / scan_seconds:,.0f} events/s ({scan_seconds:.1f} s: every state read and "
          "json.loads-ed)")
    print(f"rebuild:        {count / seconds:,.0f} events/s ({seconds:.1f} s for {len(projections())} "
          f"projections); ratio to the scan {scan_seconds / seconds * count / scanned:.2f} (target >= 1.0)")
    executable = str(Path(sys.executable).parent / "coordinator")
    env = {**os.environ, "COORDINATOR_HOME": str(home)}
    subprocess.run([executable, "task", "list", "--level", "red"], check=True, stdout=subprocess.DEVNULL, env=env)
    baseline = cold([sys.executable, "-c", "pass"], options.runs, env)
    show = cold([executable, "task", "show", a_task(home)], options.runs, env)
    status = cold([executable, "status"], options.runs, env)
    print(f"python -c pass: {baseline * 1000:.1f} ms")
    print(f"task show:      {show * 1000:.1f} ms ({show / baseline:.1f}x; target <= 8x)")
    print(f"status:         {status * 1000:.1f} ms ({status / baseline:.1f}x; target <= 8x)")


if __name__ == "__main__":
    main()
