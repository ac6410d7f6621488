"""PostgreSQL benchmark: `coordinator run --once` on PostgreSQL against the SQLite home on the same alerts, and the
time a standby takes to take over from a killed writer.

Usage: python bench/postgres.py [N] [--workload hive|chaos|both] [--kills K] [--url postgresql://...]

Without --url a PostgreSQL server is started for the run in a temporary directory (initdb and pg_ctl, as the
postgres user when run as root) with PostgreSQL's own durability defaults: every commit is flushed, as SQLite's
`synchronous=FULL` flushes the home's. For each workload of the shared generator it times `run --once --json` on a
fresh SQLite home and on a fresh PostgreSQL database, and prints both rates and their ratio (PostgreSQL / SQLite;
target >= 0.5). Then two `coordinator run` services share one database; the writer is SIGKILLed K times and the
time from each kill to the standby logging that it writes is measured (p50 and max; target <= 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import COORDINATOR, WORKLOADS, alerts_file  # noqa: E402

RATIO_TARGET = 0.5
TAKEOVER_TARGET = 5.0


def run_once(path: Path, home: Path, store: str | None) -> float:
    """Seconds for `coordinator run --once --json` on `path` into `home` (events on `store`, if given)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("COORDINATOR_STORE", None)
    if store is not None:
        env["COORDINATOR_STORE"] = store
    started = time.perf_counter()
    subprocess.run([*COORDINATOR, "run", "--once", "--json", "--alerts-file", str(path), "--home", str(home),
                    "--as-of", "2025-07-20T00:00:00Z"], check=True, capture_output=True, env=env)
    return time.perf_counter() - started


class Service:
    """A `coordinator run` on the store, its JSON log read as it comes."""

    def __init__(self, home: Path, alerts: Path, store: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COORDINATOR_STORE": store}
        self.process = subprocess.Popen(
            [*COORDINATOR, "run", "--alerts-file", str(alerts), "--home", str(home), "--no-http", "--log-format",
             "json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.events: dict[str, float] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                event = json.loads(line).get("event")
            except ValueError:
                continue
            self.events.setdefault(str(event), time.monotonic())

    def wait_for(self, event: str, timeout: float = 120.0) -> float:
        deadline = time.monotonic() + timeout
        while event not in self.events:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"a coordinator did not log {event!r} (exit {self.process.poll()})")
            time.sleep(0.01)
        return self.events[event]


def takeovers(store: str, alerts: Path, workdir: Path, kills: int) -> list[float]:
    """Seconds from each SIGKILL of the writer to the standby logging that it writes."""
    homes = [workdir / "service-a", workdir / "service-b"]
    writer = Service(homes[0], alerts, store)
    writer.wait_for("following")
    standby = Service(homes[1], alerts, store)
    standby.wait_for("standby")
    measured = []
    for turn in range(kills):
        killed_at = time.monotonic()
        writer.process.send_signal(signal.SIGKILL)
        writer.process.wait()
        measured.append(standby.wait_for("writer") - killed_at)
        standby.wait_for("following")
        writer, standby = standby, Service(homes[turn % 2], alerts, store)
        standby.wait_for("standby")
    for service in (writer, standby):
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(timeout=60)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=20_000)
    parser.add_argument("--workload", choices=[*WORKLOADS, "both"], default="both")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--url", help="a PostgreSQL server to use (its databases are created and left there)")
    options = parser.parse_args()

    import psycopg

    from tests.postgres_server import PostgresServer, binaries

    server = None
    if options.url is None:
        found = binaries()
        if found is None:
            sys.exit("PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
        server = PostgresServer(found).start(durable=True)
        base = server.url("postgres")
    else:
        base = options.url

    def database(name: str) -> str:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.rsplit("/", 1)[0] + "/" + name

    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            for workload in WORKLOADS if options.workload == "both" else (options.workload,):
                path = alerts_file(options.count, 0, workload)
                sqlite = run_once(path, workdir / f"{workload}-sqlite", None)
                postgres = run_once(path, workdir / f"{workload}-postgres", database(f"bench_{workload}"))
                ratio = sqlite / postgres
                results[workload] = ratio
                print(f"[{workload}] run --once, {options.count:,} alerts: SQLite {options.count / sqlite:,.0f} "
                      f"alerts/s ({sqlite:.2f} s), PostgreSQL {options.count / postgres:,.0f} alerts/s "
                      f"({postgres:.2f} s); ratio {ratio:.2f} (target >= {RATIO_TARGET})")
            small = workdir / "takeover.jsonl"
            small.write_text("".join(alerts_file(options.count, 0, "hive").open().readlines()[:500]))
            measured = takeovers(database("bench_takeover"), small, workdir, options.kills)
            print(f"takeover after SIGKILL over {len(measured)} kills: p50 {statistics.median(measured):.2f} s, "
                  f"max {max(measured):.2f} s (target <= {TAKEOVER_TARGET:.0f} s)")
            print("projection worker lag: not measured (read models are built in each home; see README)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
