"""Helpers and fixtures shared by the long-running service tests: `coordinator run` processes and their output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ISOLATED, Result, coordinator_executable
from tests.waiting import GENEROUS, wait_for

Run = Callable[..., Result]
STOP_TIMEOUT = GENEROUS
"""Seconds a stopping service may take before a test gives up on it: generous, like every wait, since a loaded
machine may take long to finish a batch, hand back deliveries and close the HTTP server."""


# Helpers ---------------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Whether the process still runs (a zombie that exited but was not yet reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] != "Z"


def watching(pid: int) -> bool:
    """Whether the process has set up its file-system watch (an inotify watch on Linux; assumed elsewhere)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        names = os.listdir(fds)
    except OSError:
        time.sleep(0.3)
        return True
    for name in names:
        try:
            if os.readlink(fds / name) == "anon_inode:inotify" and "inotify wd:" in Path(
                f"/proc/{pid}/fdinfo/{name}"
            ).read_text():
                return True
        except OSError:
            continue
    return False


def ready(pid: int, log: Callable[[], str]) -> bool:
    """The service has logged that it follows its file and will be woken by a change to it."""
    text = log()
    return "following" in text and ("file notifications unavailable" in text or watching(pid))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_seconds() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def crisis(task: str, agent: str = "agent-1") -> str:
    return json.dumps({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent,
                       "escalation_level": "red", "timestamp": stamp(now_seconds())}) + "\n"


def assigned(task: str, at: datetime, deadline: datetime, agent: str = "agent-1") -> str:
    return json.dumps({"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": stamp(at),
                       "deadline": stamp(deadline)}) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)
        out.flush()


def notifications(home: Path) -> list[dict[str, Any]]:
    path = home / "notifications.jsonl"
    if not path.exists():
        return []
    return [json.loads(row) for row in path.read_text(encoding="utf-8").splitlines() if row.endswith("}")]


def subjects(home: Path) -> list[str]:
    return [str(row["subject"]) for row in notifications(home)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def task(coordinator: Run, task_id: str) -> dict[str, Any] | None:
    result = coordinator("task", "show", task_id, "--json")
    if result.code != 0:
        return None
    document: dict[str, Any] = result.json()
    return document


def history(document: dict[str, Any]) -> list[tuple[datetime, str, str, bool]]:
    return [(at(h["at"]), h["from"], h["to"], h["emergency"]) for h in document["history"]]


def alerts_received(coordinator: Run) -> list[dict[str, Any]]:
    result = coordinator("events", "1000", "--type", "AlertReceived", "--json")
    assert result.code == 0, result.err
    events: list[dict[str, Any]] = result.json()
    return events


class FileClock:
    """The time of every coordinator process a test starts with `COORDINATOR_CLOCK_FILE` set: moved by hand."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.moment = start
        self.set(start)

    def set(self, moment: datetime) -> None:
        """Make `moment` the current time (written whole, then renamed into place, so never read half-done)."""
        self.moment = moment
        scratch = self.path.with_suffix(".next")
        scratch.write_text(stamp(moment), encoding="utf-8")
        os.replace(scratch, self.path)

    def advance(self, seconds: float) -> datetime:
        """Move time forward by `seconds`; the new current time."""
        self.set(self.moment + timedelta(seconds=seconds))
        return self.moment

    @property
    def env(self) -> dict[str, str]:
        return {"COORDINATOR_CLOCK_FILE": str(self.path)}


@dataclass
class Service:
    """One `coordinator run` process, its standard output and error captured in files."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> int:
        """SIGTERM, then its exit code; a service that does not stop is asked for every thread's stack (SIGUSR1),
        which the failure then shows."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired as timed_out:
            self.process.send_signal(signal.SIGUSR1)
            wait_for(lambda: "most recent call first" in self.stderr(), "the service's stacks", timeout=GENEROUS)
            raise AssertionError("the service did not stop on SIGTERM; its standard error:\n"
                                 + self.stderr()[-20_000:]) from timed_out


class Services:
    """Starts `coordinator run` processes in the test's directory and always stops them afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.executable = coordinator_executable()
        self.env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(self.home)}
        self.started: list[Service] = []
        self.adopted: list[int] = []

    def run(self, *args: str, wait_ready: bool = True, env: dict[str, str] | None = None) -> Service:
        number = len(self.started) + 1
        out, err = self.tmp_path / f"service-{number}.out", self.tmp_path / f"service-{number}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([self.executable, "run", *args], cwd=self.tmp_path,
                                       env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL, stdout=stdout,
                                       stderr=stderr)
        service = Service(process, out, err)
        self.started.append(service)
        if wait_ready:
            wait_for(lambda: ready(service.pid, service.stderr) or process.poll() is not None,
                     "the service to follow its alerts file")
            assert process.poll() is None, f"the service exited at once: {service.stderr()}"
        return service

    def adopt(self, pid: int) -> None:
        """A service started in the background by `coordinator start`: stopped at the end if still running."""
        self.adopted.append(pid)

    def stop_all(self) -> None:
        for service in self.started:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
                try:
                    service.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    service.process.kill()
                    service.process.wait()
        for pid in self.adopted:
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    launched = Services(tmp_path)
    try:
        yield launched
    finally:
        launched.stop_all()


@pytest.fixture
def clock(tmp_path: Path, services: Services) -> FileClock:
    """A hand-moved clock for the services (and the `coordinator` commands given its `env`), from tomorrow on."""
    moved = FileClock(tmp_path / "clock.txt", now_seconds() + timedelta(days=1))
    services.env.update(moved.env)
    return moved


@pytest.fixture
def alerts(tmp_path: Path) -> Path:
    return tmp_path / "alerts.jsonl"
