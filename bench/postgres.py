"""PostgreSQL benchmark: `coordinator run --once` on PostgreSQL against the SQLite home on the same alerts, and the
time a standby takes to take over from a killed writer.

Usage: python bench/postgres.py [N] [--workload hive|chaos|both] [--kills K] [--url postgresql://...]

Without --url a PostgreSQL server is started for the run in a temporary directory (initdb and pg_ctl, as the
postgres user when run as root) with PostgreSQL's own durability defaults: every commit is flushed, as SQLite's
`synchronous=FULL` flushes the home's. For each workload of the shared generator it times `run --once --json` on a
fresh SQLite home and on a fresh PostgreSQL database, and prints both rates and their ratio (PostgreSQL / SQLite;
target >= 0.5). Then two `coordinator run` services share one database; the writer is SIGKILLed K times and the
time from each kill to the standby logging that it writes is measured (p50 and max; target <= 5 s). Last, a
projection worker (`coordinator project`) follows the store while this process records a steady stream of alerts
(`--rate` a second for `--seconds`): the lag from each commit to the worker logging that its read models reached
that event is measured (p50 and p99; target p99 <= 200 ms).
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
LAG_TARGET = 0.2


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
    """A `coordinator run` (or another command: `args`) on the store, its JSON log read as it comes."""

    def __init__(self, home: Path, alerts: Path | None, store: str, args: tuple[str, ...] = ()) -> None:
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COORDINATOR_STORE": store}
        command = args or ("run", "--alerts-file", str(alerts), "--no-http")
        self.process = subprocess.Popen(
            [*COORDINATOR, *command, "--home", str(home), "--log-format", "json"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.events: dict[str, float] = {}
        self.positions: list[tuple[float, int]] = []
        """(when, position) of each position a projection worker logged reaching."""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                fields = json.loads(line)
            except ValueError:
                continue
            moment = time.monotonic()
            self.events.setdefault(str(fields.get("event")), moment)
            if "position" in fields:
                self.positions.append((moment, int(fields["position"])))

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


def worker_lag(store: str, workdir: Path, alerts: Path, rate: float, seconds: float) -> list[float]:
    """Seconds from each commit of a steady stream of alerts to a projection worker logging that it applied it."""
    from adapters import postgres_store
    from adapters.alert_file import read_alerts
    from app.coordinator import Coordinator

    worker = Service(workdir / "worker", None, store, ("project",))
    worker.wait_for("current")
    writer = Coordinator(env=postgres_store.environment(store))
    committed: list[tuple[float, int]] = []
    try:
        items = read_alerts(alerts)
        interval = 1.0 / rate
        due = time.monotonic()
        ends = due + seconds
        while time.monotonic() < ends:
            item = next(items, None)
            if item is None:
                break
            writer.ingest([item])
            moment = time.monotonic()
            committed.append((moment, writer.recorder.max_notification_id() or 0))
            due += interval
            time.sleep(max(0.0, due - time.monotonic()))
        last = committed[-1][1] if committed else 0
        deadline = time.monotonic() + 60
        while not worker.positions or worker.positions[-1][1] < last:
            if time.monotonic() > deadline:
                raise SystemExit("the projection worker did not catch up")
            time.sleep(0.01)
    finally:
        writer.close()
        worker.process.send_signal(signal.SIGTERM)
        worker.process.wait(timeout=60)
    lags = []
    for moment, position in committed:
        reached = next(when for when, seen in worker.positions if seen >= position)
        lags.append(max(0.0, reached - moment))
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=20_000)
    parser.add_argument("--workload", choices=[*WORKLOADS, "both"], default="both")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--url", help="a PostgreSQL server to use (its databases are created and left there)")
    parser.add_argument("--rate", type=float, default=50.0, help="alerts a second in the worker's steady stream")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the steady stream lasts")
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
            lags = sorted(worker_lag(database("bench_worker"), workdir, alerts_file(options.count, 0, "hive"),
                                     options.rate, options.seconds))
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"projection worker lag over {len(lags)} commits at {options.rate:.0f}/s: p50 "
                  f"{statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 <= "
                  f"{LAG_TARGET * 1000:.0f} ms)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
