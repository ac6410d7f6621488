"""Standby takeover for real: two coordinators share one PostgreSQL store, and the writer is SIGKILLed again and again.

Both follow one growing alerts file and deliver to one shared file sink. Whichever holds the store's writer lease
writes; the other waits. Each cycle kills the writer at a random point of its work (found by watching what is
recorded, never by the clock) and starts the killed one again, as a standby. In the end the store must equal an
uninterrupted run's on the SQLite home, no alert may be lost, every notification key must reach the sink once, and
none may be sent again once its delivery is recorded.
How long each takeover took (from the kill to the standby saying it writes) is printed.
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest

from adapters.state_packing import unpack
from app.records import DELIVERIES_TOPIC, Record, attempts_of
from tests.integration.test_crash_safety import (
    SIGHTING,
    coordinator,
    environment,
    sightings,
    store_facts,
    stream,
    uninterrupted,
)
from tests.waiting import GENEROUS, wait_for

CYCLES = 20
TOTAL = 400


class Process:
    """A `coordinator run` following the alerts file, its JSON log lines read as they come (with when)."""

    def __init__(self, name: str, home: Path, growing: Path, env: dict[str, str], http: bool = False) -> None:
        self.name = name
        self.lines: list[tuple[float, dict[str, Any]]] = []
        serving = () if http else ("--no-http",)
        self.process = subprocess.Popen(
            coordinator("run", "--alerts-file", str(growing), *serving, "--log-format", "json", home=home),
            env=env, cwd=home.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                self.lines.append((time.monotonic(), json.loads(line)))
            except ValueError:
                self.lines.append((time.monotonic(), {"message": line.rstrip()}))

    def said(self, event: str) -> float | None:
        """When it first logged `event` (None if it has not)."""
        return next((moment for moment, line in self.lines if line.get("event") == event), None)

    def kill(self) -> float:
        """SIGKILL it; when."""
        moment = time.monotonic()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=GENEROUS)
        return moment

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=GENEROUS)
        self._reader.join(timeout=GENEROUS)
        assert self.process.returncode == 0, [line for _, line in self.lines]


@contextmanager
def explained(*processes: Process) -> Iterator[None]:
    """On a failure, show what each coordinator logged last (with its exit code), to say where it went wrong."""
    try:
        yield
    except BaseException as failure:
        told = "\n".join(f"{process.name} (exit {process.process.poll()}): {line}"
                         for process in processes for _, line in process.lines[-8:])
        raise AssertionError(f"{failure}\n--- the coordinators' last log lines:\n{told}") from failure


def pair(tmp_path: Path, growing: Path, env: dict[str, str], http: bool = False
         ) -> tuple[dict[str, Path], Process, Process]:
    """Two coordinators on one store, each with a home of its own: `a` writing, then `b` standing by."""
    homes = {name: tmp_path / name for name in ("a", "b")}
    for home in homes.values():
        home.mkdir()
    writer = Process("a", homes["a"], growing, env, http=http)
    wait_for(lambda: writer.said("following"), "the first coordinator to write")
    standby = Process("b", homes["b"], growing, env, http=http)
    wait_for(lambda: standby.said("standby"), "the second coordinator to stand by")
    return homes, writer, standby


def postgres_facts(url: str) -> dict[str, Any]:
    """What `store_facts` says of a SQLite home, read from the PostgreSQL store."""
    with psycopg.connect(url) as conn:
        def rows(sql: str) -> list[Any]:
            return conn.execute(sql).fetchall()

        return {
            "outbox": sorted((bytes(key).decode(), bytes(recipient).decode(), priority, kind, status)
                             for key, recipient, priority, kind, status in
                             rows("SELECT key, recipient, priority, kind, status FROM outbox")),
            "accepted": rows("SELECT COUNT(*) FROM alerts_seen")[0][0],
            "quarantined": rows("SELECT COUNT(*) FROM quarantine")[0][0],
            "decisions": sorted((originator.hex, count) for originator, count in rows(
                "SELECT originator_id, COUNT(*) FROM coordinator_events WHERE topic NOT LIKE '%:Deliveries.%'"
                f" AND topic NOT LIKE '{SIGHTING}' GROUP BY originator_id")),
            "sightings": sightings(rows(
                f"SELECT originator_id, state FROM coordinator_events WHERE topic LIKE '{SIGHTING}'")),
        }


def delivered_attempts(url: str) -> Counter[str]:
    """How many successful delivery attempts the store records for each key (a key sent again after it was
    recorded delivered would count twice; one sent by a writer killed before recording it counts once)."""
    with psycopg.connect(url) as conn:
        states = conn.execute("SELECT state FROM coordinator_events WHERE topic = %s", [DELIVERIES_TOPIC])
        attempts = (attempts_of(Record(0, "", 1, DELIVERIES_TOPIC, unpack(bytes(state)))) for (state,) in states)
        return Counter(attempt.state["key"] for batch in attempts for attempt in batch if attempt.delivered)


def accepted(url: str) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT to_regclass('alerts_seen') IS NOT NULL").fetchone()
        if not found or not found[0]:
            return 0
        row = conn.execute("SELECT COUNT(*) FROM alerts_seen").fetchone()
        return int(row[0]) if row else 0


def waiting(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM outbox WHERE status != 'delivered'").fetchone()
        return int(row[0]) if row else 0


def test_a_standby_takes_over_from_a_writer_killed_at_random_moments_and_ends_equal_to_an_uninterrupted_run(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = stream(TOTAL)
    valid, reference = uninterrupted(tmp_path, lines)

    sink = tmp_path / "sink.jsonl"
    env = {**environment(), "COORDINATOR_STORE": postgres_url, "COORDINATOR_BATCH_SIZE": "1",
           "COORDINATOR_CHANNELS__FILE__PATH": str(sink)}
    growing = tmp_path / "alerts.jsonl"
    growing.touch()
    homes, writer, standby = pair(tmp_path, growing, env)

    rng = random.Random(7)
    per_cycle = max(1, TOTAL // (CYCLES + 5))
    written = 0
    takeovers: list[float] = []
    for _ in range(CYCLES):
        with growing.open("a", encoding="utf-8") as out:
            for line in lines[written : written + per_cycle]:
                out.write(line + "\n")
        fresh = sum(1 for line in lines[written : written + per_cycle] if line.endswith("}"))
        written += per_cycle
        target = accepted(postgres_url) + rng.randrange(fresh) if fresh else 0
        with explained(writer, standby):
            wait_for(lambda: accepted(postgres_url) >= target, "the writer to record alerts",  # noqa: B023
                     step=0.005)
        killed_at = writer.kill()
        with explained(writer, standby):
            took_over = wait_for(lambda: standby.said("writer"), "the standby to take over")  # noqa: B023
        takeovers.append(took_over - killed_at)
        writer, standby = standby, Process(writer.name, homes[writer.name], growing, env)
        with explained(writer, standby):
            wait_for(lambda: standby.said("standby"), "the restarted coordinator to stand by")  # noqa: B023
    with growing.open("a", encoding="utf-8") as out:
        for line in lines[written:]:
            out.write(line + "\n")
    with explained(writer, standby):
        try:
            wait_for(lambda: accepted(postgres_url) == valid and waiting(postgres_url) == 0,
                     "the writer to catch up")
        finally:
            writer.stop()
            standby.stop()

    with explained(writer, standby):
        expected = store_facts(reference)
        found = postgres_facts(postgres_url)
        assert found["accepted"] == expected["accepted"] == valid
        assert found["quarantined"] == expected["quarantined"]
        assert found["decisions"] == sorted(expected["decisions"])
        assert found["sightings"] == sorted(expected["sightings"])
        assert found["outbox"] == sorted((key, recipient, priority, kind, status)
                                         for key, recipient, priority, kind, _, status in expected["outbox"])
        delivered = [json.loads(line)["key"] for line in sink.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert sorted(delivered) == sorted(row[0] for row in expected["outbox"]), "a key was lost or written twice"
        recorded = delivered_attempts(postgres_url)
        assert sorted(recorded) == sorted(delivered), "a delivered key has no delivery recorded"
        assert [key for key, seen in recorded.items() if seen > 1] == [], "a key was sent again after its delivery"
    with capsys.disabled():
        print(f"\ntakeover after SIGKILL over {len(takeovers)} kills: p50 {statistics.median(takeovers):.2f} s, "
              f"max {max(takeovers):.2f} s")


def test_status_names_the_writer_and_a_standby_takes_over_when_the_writer_stops_cleanly(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {**environment(), "COORDINATOR_STORE": postgres_url}
    growing = tmp_path / "alerts.jsonl"
    growing.write_text("\n".join(stream(20)) + "\n", encoding="utf-8")
    homes, writer, standby = pair(tmp_path, growing, env)

    def status(name: str) -> dict[str, Any]:
        done = subprocess.run(coordinator("status", "--json", home=homes[name]), env=env, capture_output=True,
                              text=True, check=True)
        return dict(json.loads(done.stdout))

    waiting_side, writing_side = status("b"), status("a")
    assert waiting_side["coordinator_status"] == "standby" and writing_side["coordinator_status"] == "running"
    assert waiting_side["writer"] == writing_side["writer"]
    assert f"pid {writer.process.pid} " in waiting_side["writer"] and waiting_side["writer"].startswith("run ")
    assert waiting_side["events_processed"] == writing_side["events_processed"] > 0

    writer.stop()
    wait_for(lambda: standby.said("writer"), "the standby to take over")
    wait_for(lambda: status("b")["coordinator_status"] == "running", "the standby to say it runs")
    assert f"pid {standby.process.pid} " in status("b")["writer"]
    standby.stop()


def test_stores_in_two_schemas_of_one_database_each_have_a_writer_of_their_own_and_keep_their_tasks_apart(
    tmp_path: Path, postgres_url: str
) -> None:
    growing = tmp_path / "alerts.jsonl"
    growing.write_text("\n".join(stream(30)) + "\n", encoding="utf-8")
    running = []
    for hive in ("north", "south"):
        home = tmp_path / hive
        home.mkdir()
        env = {**environment(), "COORDINATOR_STORE": f"{postgres_url}?schema=hive_{hive}"}
        running.append((hive, home, env, Process(hive, home, growing, env)))
    for _, _, _, process in running:
        wait_for(lambda: process.said("following"), "both coordinators to write")  # noqa: B023
    for hive, home, env, process in running:
        done = subprocess.run(coordinator("status", "--json", home=home), env=env, capture_output=True, text=True,
                              check=True)
        assert f"pid {process.process.pid} " in json.loads(done.stdout)["writer"], hive
    (tmp_path / "only-north.jsonl").write_text(json.dumps(
        {"type": "TASK_ASSIGNED", "task_id": "task-north-only", "agent_id": "ada",
         "timestamp": "2025-07-16T09:00:00Z"}) + "\n", encoding="utf-8")
    for _, _, _, process in running:
        process.stop()
    north_env, south_env = running[0][2], running[1][2]
    subprocess.run(coordinator("run", "--once", "--alerts-file", str(tmp_path / "only-north.jsonl"),
                               home=tmp_path / "north"), env=north_env, check=True, capture_output=True)

    def task_ids(env: dict[str, str], home: Path) -> set[str]:
        done = subprocess.run(coordinator("task", "list", "--json", home=home), env=env, capture_output=True,
                              text=True, check=True)
        return {task["task_id"] for task in json.loads(done.stdout)}

    assert "task-north-only" in task_ids(north_env, tmp_path / "north")
    assert "task-north-only" not in task_ids(south_env, tmp_path / "south")


def test_starting_a_second_coordinator_in_the_background_returns_once_it_stands_by(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {**environment(), "COORDINATOR_STORE": postgres_url}
    growing = tmp_path / "alerts.jsonl"
    growing.write_text("\n".join(stream(10)) + "\n", encoding="utf-8")
    homes = [tmp_path / "a", tmp_path / "b"]
    try:
        for home in homes:
            started = subprocess.run(coordinator("start", "--alerts-file", str(growing), "--no-http", home=home),
                                     env=env, capture_output=True, text=True, timeout=GENEROUS)
            assert started.returncode == 0, started.stderr
        assert "as a standby" in started.stdout
        done = subprocess.run(coordinator("status", "--json", home=homes[1]), env=env, capture_output=True,
                              text=True, check=True)
        assert json.loads(done.stdout)["coordinator_status"] == "standby"
    finally:
        for home in homes:
            subprocess.run(coordinator("stop", home=home), env=env, capture_output=True, timeout=GENEROUS)


def test_a_standby_answers_queries_over_http_and_refuses_commands_naming_the_writer_until_it_takes_over(
    tmp_path: Path, postgres_url: str
) -> None:
    import httpx

    env = {**environment(), "COORDINATOR_STORE": postgres_url}
    growing = tmp_path / "alerts.jsonl"
    growing.write_text("\n".join(stream(30)) + "\n", encoding="utf-8")
    homes, writer, standby = pair(tmp_path, growing, env, http=True)
    with explained(writer, standby):
        api = next(line["http"] for _, line in standby.lines if line.get("event") == "serving") + "/api/v1"
        tasks = httpx.get(f"{api}/tasks", timeout=GENEROUS)
        assert tasks.status_code == 200 and len(tasks.json()) > 0
        alert = {"type": "TASK_ASSIGNED", "task_id": "task-by-http", "agent_id": "ada",
                 "timestamp": "2099-01-01T09:00:00Z"}
        refused = httpx.post(f"{api}/alerts", json=alert, timeout=GENEROUS)
        assert refused.status_code == 503 and f"pid {writer.process.pid} " in refused.json()["detail"]
        acked = subprocess.run(coordinator("ack", "task-1", home=homes["b"]), env=env, capture_output=True,
                               text=True, timeout=GENEROUS)
        assert acked.returncode == 3 and "standby" in acked.stderr

        writer.kill()
        wait_for(lambda: standby.said("following"), "the standby to take over")
        accepted_now = httpx.post(f"{api}/alerts", json=alert, timeout=GENEROUS)
        assert accepted_now.status_code == 202, accepted_now.text
        shown = httpx.get(f"{api}/tasks/task-by-http", timeout=GENEROUS)
        assert shown.status_code == 200 and shown.json()["agent_id"] == "ada"
        standby.stop()
