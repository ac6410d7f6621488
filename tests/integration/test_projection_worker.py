"""The projection worker for real: `coordinator project` keeps the read models of a PostgreSQL store current while
another coordinator records events without them, woken by LISTEN/NOTIFY."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg

from adapters.alert_file import read_alerts
from cli.bootstrap import services
from cli.settings import load_settings
from tests.integration.test_crash_safety import coordinator, environment
from tests.integration.test_failover import Process
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "coordination_alerts.json"


def head(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM coordinator_events").fetchone()
        return int(row[0]) if row else 0


def positions(url: str) -> set[int]:
    """Where each read model on the server stands."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('views.projection_positions')").fetchone() == (None,):
            return set()
        return {int(row[0]) for row in conn.execute("SELECT position FROM views.projection_positions")}


def record(home: Path, url: str) -> None:
    """Record the example's alerts as another coordinator would, leaving the read models alone (the worker's job)."""
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings(home).model_copy(update={"store": url})
    with services(settings, writer="run") as built:
        built.coordinator.ingest(read_alerts(EXAMPLE))


def test_a_worker_brings_its_home_up_to_date_as_soon_as_another_coordinator_records_events(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {**environment(), "COORDINATOR_STORE": postgres_url}
    worker_home, writer_home = tmp_path / "worker", tmp_path / "writer"
    worker_home.mkdir()
    worker = ProcessOf(worker_home, env)
    wait_for(lambda: worker.said("current"), "the worker to build its read models")

    record(writer_home, postgres_url)
    recorded = head(postgres_url)
    assert recorded > 0
    wait_for(lambda: positions(postgres_url) == {recorded}, "the worker to apply every event")
    wait_for(lambda: any(line.get("event") == "applied" and line.get("woken") for _, line in worker.lines),
             "the worker to say it applied them, woken by the server")  # its log line follows its commit

    shown = subprocess.run(coordinator("task", "show", "task-101", "--json", home=worker_home), env=env,
                           check=True, capture_output=True, text=True)
    assert json.loads(shown.stdout)["task_id"] == "task-101"
    worker.stop()
    assert worker.said("stopped")


def cut_off_everyone_else(url: str) -> int:
    """End every other session on the database (as a server restart or a network cut would); how many."""
    with psycopg.connect(url, autocommit=True) as conn:
        ended = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                             " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return len(ended)


def test_a_worker_cut_off_from_the_server_listens_again_and_applies_what_was_recorded_meanwhile(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {**environment(), "COORDINATOR_STORE": postgres_url}
    worker_home, writer_home = tmp_path / "worker", tmp_path / "writer"
    worker_home.mkdir()
    worker = ProcessOf(worker_home, env)
    wait_for(lambda: worker.said("current"), "the worker to build its read models")
    assert cut_off_everyone_else(postgres_url) >= 1, "the worker holds no connection to cut"

    record(writer_home, postgres_url)
    recorded = head(postgres_url)
    wait_for(lambda: positions(postgres_url) == {recorded}, "the worker to apply what was recorded while cut off")
    assert worker.process.poll() is None, [line for _, line in worker.lines]
    worker.stop()


class ProcessOf(Process):
    """`coordinator project` on `home`, its JSON log read as it comes."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.name = home.name
        self.lines = []
        self.process = subprocess.Popen(coordinator("project", "--log-format", "json", home=home), env=env,
                                        cwd=home.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        import threading

        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self._reader.start()
