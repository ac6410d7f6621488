"""HTTP benchmark: alerts posted to a running service, against `run --once` on the same alerts, in one run.

Usage: python bench/http.py [--alerts N] [--rate R] [--ingest M] [--clients C] [--batch B]

  - latency: a real `coordinator run` service serves its API on 127.0.0.1; N RED crisis alerts (default 2,000)
    are posted one a request at R per second (default 50), and a reader watches `<home>/notifications.jsonl`:
    the time from each POST to its first notification line on disk, p50/p99 (target p99 <= 25 ms).
  - ingest: M generated alerts (default 20,000, `--workload hive` of the shared generator) are posted by C
    concurrent clients (default 8) in batches of B (default 100) to a fresh service; alerts/s until every
    notification is delivered, as a ratio to `coordinator run --once` on the same alerts in the same run
    (target >= 0.5).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on the import path, where this file would stand for the standard
# library's `http` package (which httpx imports): take it off before importing anything that needs it.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sink import until, watch_sink  # noqa: E402

GENERATOR = Path(os.environ.get("COORDINATOR_GEN_ALERTS", ROOT.parent / "shared" / "bench" / "gen_alerts.py"))
CACHE = ROOT / "bench" / ".cache"
COORDINATOR = [sys.executable, "-m", "cli.main"]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COORDINATOR_HTTP__LISTEN": "127.0.0.1:0"}


def hive_alerts(count: int) -> list[str]:
    """`count` alerts of the shared generator's realistic hive (made once, then reused)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"hive-{count}.jsonl"
    if not path.exists():
        with path.open("w") as out:
            subprocess.run([sys.executable, str(GENERATOR), str(count), "--workload", "hive"], stdout=out, check=True)
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Service:
    """A `coordinator run` process on an empty alerts file, and its API's address once it is ready."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.home = workdir / "home"
        alerts = workdir / "alerts.jsonl"
        alerts.touch()
        self.process = subprocess.Popen([*COORDINATOR, "run", "--alerts-file", str(alerts), "--home", str(self.home)],
                                        env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = str(until(self._announced, 60))

    def _announced(self) -> str | None:
        try:
            holder = json.loads((self.home / "coordinator.lock").read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return None
        return holder.get("http") if holder.get("ready") else None

    def undelivered(self) -> int:
        with sqlite3.connect(f"file:{self.home / 'events.sqlite'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox WHERE status != 'delivered'").fetchone()[0])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def latency(count: int, rate: float, workdir: Path) -> None:
    service = Service(workdir)
    seen: dict[str, float] = {}
    done = threading.Event()
    reader = threading.Thread(target=watch_sink, args=(service.home / "notifications.jsonl", seen, done),
                              daemon=True)
    reader.start()
    posted: dict[str, float] = {}
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            for index in range(count):
                task = f"bench-{index}"
                stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                alert = {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": f"agent-{index % 25}",
                         "escalation_level": "red", "description": "http benchmark", "timestamp": stamp}
                posted[task] = time.time()
                client.post("/api/v1/alerts", json=alert).raise_for_status()
                time.sleep(1 / rate)
        until(lambda: len(seen) >= count, 120)
    finally:
        done.set()
        service.stop()
    samples = sorted(seen[task] - posted[task] for task in posted if task in seen)
    p50, p99 = statistics.median(samples), samples[min(len(samples) - 1, round(0.99 * len(samples)))]
    print(f"latency:  {len(samples):,} alerts at {rate:g}/s, POST -> notification on disk: p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {samples[-1] * 1000:.1f} ms (p99 target <= 25 ms: "
          f"{'met' if p99 <= 0.025 else 'NOT met'})")


def ingest(count: int, clients: int, batch: int, workdir: Path) -> None:
    lines = hive_alerts(count)
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "once.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([*COORDINATOR, "run", "--once", "--json", "--alerts-file", str(source), "--home",
                    str(workdir / "once")], env=environment(), check=True, stdout=subprocess.DEVNULL)
    once = time.perf_counter() - started

    service = Service(workdir / "served")
    batches = [lines[start : start + batch] for start in range(0, len(lines), batch)]
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=service.url, timeout=300) as client, ThreadPoolExecutor(clients) as pool:
            def send(part: list[str]) -> None:
                client.post("/api/v1/alerts", content="\n".join(part),
                            headers={"content-type": "application/x-ndjson"}).raise_for_status()

            list(pool.map(send, batches))
        answered = time.perf_counter() - started
        until(lambda: service.undelivered() == 0, 600)
        delivered = time.perf_counter() - started
    finally:
        service.stop()
    print(f"ingest:   {count:,} hive alerts, {clients} clients posting batches of {batch}: all recorded in "
          f"{answered:.1f} s, all delivered in {delivered:.1f} s ({count / delivered:,.0f} alerts/s)")
    print(f"          run --once on the same alerts: {once:.1f} s ({count / once:,.0f} alerts/s); "
          f"ratio {once / delivered:.2f} (target >= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--ingest", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        latency(options.alerts, options.rate, Path(tmp) / "latency")
        ingest(options.ingest, options.clients, options.batch, Path(tmp) / "ingest")


if __name__ == "__main__":
    main()
