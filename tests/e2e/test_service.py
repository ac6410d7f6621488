"""The long-running coordinator (`coordinator run` without --once, `start`, `stop`, `status`, `test-event`) as a
user runs it: the real executable, real files, real signals and the real clock."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result, coordinator_executable

Run = Callable[..., Result]
STOP_TIMEOUT = 10.0


# Helpers ---------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll `condition` until it returns something truthy (returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


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
        """SIGTERM, then its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT)


class Services:
    """Starts `coordinator run` processes in the test's directory and always stops them afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.executable = coordinator_executable()
        self.env = {**os.environ, "COORDINATOR_HOME": str(self.home), "COLUMNS": "200"}
        self.started: list[Service] = []
        self.adopted: list[int] = []

    def run(self, *args: str, wait_ready: bool = True) -> Service:
        number = len(self.started) + 1
        out, err = self.tmp_path / f"service-{number}.out", self.tmp_path / f"service-{number}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([self.executable, "run", *args], cwd=self.tmp_path, env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
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
def alerts(tmp_path: Path) -> Path:
    return tmp_path / "alerts.jsonl"


# Following the file ----------------------------------------------------------------------------


def test_follow_mode_delivers_notifications_for_lines_appended_after_it_started_within_a_second(
    services: Services, alerts: Path,
) -> None:
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    service = services.run("--alerts-file", str(alerts))
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the backlog's notifications")

    started = time.monotonic()
    append(alerts, crisis("task-2"))
    wait_for(lambda: subjects(services.home).count("task-2") == 2, "the appended line's notifications", timeout=1.0,
             step=0.01)
    assert time.monotonic() - started < 1.0
    delivered = [row for row in notifications(services.home) if row["subject"] == "task-2"]
    assert {row["recipient"] for row in delivered} == {"pm-agent", "agent-1"}
    assert any("URGENT" in row["message"] and "task-2" in row["message"] for row in delivered)
    assert subjects(services.home).count("task-1") == 2, "the backlog is not delivered again"
    assert service.process.poll() is None


def test_a_second_writer_on_the_same_home_exits_3_naming_the_running_services_pid(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    service = services.run("--alerts-file", str(alerts))
    second = coordinator("run", "--once", "--alerts-file", str(alerts))
    assert second.code == 3
    assert f"pid {service.pid}" in second.err
    assert service.process.poll() is None, "the running service is not disturbed"


def test_sigterm_stops_the_service_with_exit_code_0_and_a_stopped_line_and_frees_the_home(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    service = services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 2, "the notifications")
    assert service.terminate() == 0
    lines = service.stderr().splitlines()
    assert any("received SIGTERM" in row for row in lines)
    assert lines[-1].endswith(" stopped")
    again = coordinator("run", "--once", "--alerts-file", str(alerts), "--json")
    assert again.code == 0, again.err
    assert again.json() == {"processed": 0, "duplicates": 1, "quarantined": 0}


def test_follow_mode_waits_for_a_file_that_does_not_exist_yet_and_reads_it_once_it_is_created(
    services: Services, alerts: Path,
) -> None:
    service = services.run("--alerts-file", str(alerts))
    time.sleep(0.3)
    assert service.process.poll() is None, "a missing file is waited for, not an error"
    assert notifications(services.home) == []
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the new file's notifications", timeout=5.0)


def test_lines_written_after_the_file_is_truncated_while_the_service_runs_are_processed(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    alerts.write_text(crisis("task-1") + crisis("task-2") + crisis("task-3"), encoding="utf-8")
    services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 6, "the first lines' notifications")

    alerts.write_text(crisis("task-9"), encoding="utf-8")  # truncated and rewritten, shorter than before
    wait_for(lambda: subjects(services.home).count("task-9") == 2, "the new line's notifications", timeout=5.0)
    append(alerts, crisis("task-10"))
    wait_for(lambda: subjects(services.home).count("task-10") == 2, "the next line's notifications", timeout=5.0)
    assert len(notifications(services.home)) == 10
    document = task(coordinator, "task-9")
    assert document is not None and document["level"] == "RED"


def test_a_restarted_service_resumes_after_what_it_recorded_and_processes_only_the_new_alerts(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    # The broken line is a probe: every ingest that meets it logs "quarantined", so a restarted service that read
    # the file from its start again (even if fingerprints then discarded the old alerts) would say so.
    alerts.write_text(crisis("task-1") + "this line is not JSON\n" + crisis("task-2"), encoding="utf-8")
    first = services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 4, "the first run's notifications")
    assert first.terminate() == 0
    assert "1 item(s) quarantined" in first.stderr()

    append(alerts, crisis("task-3") + crisis("task-4"))
    second = services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 8, "the second run's notifications")
    assert second.terminate() == 0
    assert "quarantined" not in second.stderr(), "the lines before the recorded position are not read again"
    assert sorted(subjects(services.home)) == sorted(["task-1", "task-2", "task-3", "task-4"] * 2)
    received = alerts_received(coordinator)
    assert sorted(event["subject"] for event in received) == ["task-1", "task-2", "task-3", "task-4"]
    assert len({event["data"]["fingerprint"] for event in received}) == 4
    quarantine = coordinator("quarantine", "--json")
    assert quarantine.code == 0, quarantine.err
    assert [row["line"] for row in quarantine.json()] == [2]


# Time --------------------------------------------------------------------------------------------


def test_a_deadline_escalates_the_task_to_red_and_emergency_on_the_clock_without_any_new_alert(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    services.run("--alerts-file", str(alerts))
    start = now_seconds()
    deadline = start + timedelta(seconds=3)
    append(alerts, assigned("T", start, deadline))

    document = wait_for(lambda: (found := task(coordinator, "T")) is not None and found["emergency"] and found,
                        "the task to reach EMERGENCY", timeout=8.0, step=0.1)
    assert (document["level"], document["emergency"], document["status"]) == ("RED", True, "open")
    assert len(alerts.read_text(encoding="utf-8").splitlines()) == 1, "no alert but the assignment"
    assert history(document) == [
        (start + timedelta(seconds=1.5), "GREEN", "YELLOW", False),
        (start + timedelta(seconds=2.25), "YELLOW", "ORANGE", False),
        (start + timedelta(seconds=2.7), "ORANGE", "RED", False),
        (deadline, "RED", "RED", True),
    ]
    result = coordinator("events", "100", "--type", "Escalated", "--json")
    assert result.code == 0, result.err
    escalations = [event for event in result.json() if event["subject"] == "T"]
    assert len(escalations) == 4
    for event in escalations:
        lag = at(event["recorded_at"]) - at(event["at"])
        assert timedelta(0) <= lag < timedelta(seconds=1), f"recorded live, on time: {event}"


def test_crossings_missed_while_the_service_was_down_are_recorded_at_their_true_instants_on_restart(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    first = services.run("--alerts-file", str(alerts))
    start = now_seconds()
    deadline = start + timedelta(seconds=6)
    yellow = start + timedelta(seconds=3)  # f = 0.5
    later = {start + timedelta(seconds=4.5), start + timedelta(seconds=5.4), deadline}
    append(alerts, assigned("T", start, deadline))
    wait_for(lambda: task(coordinator, "T") is not None, "the assignment to be recorded", step=0.05)
    assert first.terminate() == 0
    stopped = datetime.now(UTC)
    if stopped >= yellow:
        pytest.fail(f"the first run stopped only at {stamp(stopped)}, after the YELLOW crossing at {stamp(yellow)}")
    document = task(coordinator, "T")
    assert document is not None and document["history"] == []

    time.sleep(max(0.0, (yellow - datetime.now(UTC)).total_seconds()) + 0.5)
    restarted = datetime.now(UTC)
    services.run("--alerts-file", str(alerts))
    document = wait_for(lambda: (found := task(coordinator, "T")) is not None and found["history"] and found,
                        "the missed crossing to be recorded", timeout=5.0, step=0.05)
    crossings = history(document)
    assert crossings[0] == (yellow, "GREEN", "YELLOW", False)
    assert crossings[0][0] < restarted, "recorded at the instant it happened, not when the service came back"
    assert all(moment in later for moment, *_ in crossings[1:])


# start / status / stop / test-event ------------------------------------------------------------------


def start_in_background(coordinator: Run, services: Services) -> int:
    started = coordinator("start")
    assert started.code == 0, started.err
    found = re.search(r"started \(pid (\d+)\)", started.out)
    assert found is not None, started.out
    pid = int(found.group(1))
    services.adopt(pid)
    log = services.home / "coordinator.log"
    wait_for(lambda: ready(pid, lambda: log.read_text(encoding="utf-8", errors="replace")),
             "the background service to follow its file")
    return pid


def test_start_status_test_event_and_stop_drive_the_background_service(
    services: Services, tmp_path: Path, coordinator: Run,
) -> None:
    pid = start_in_background(coordinator, services)
    assert alive(pid)

    again = coordinator("start")
    assert again.code == 3
    assert f"already running (pid {pid}" in again.err

    status = coordinator("status", "--json")
    assert status.code == 0, status.err
    document = status.json()
    assert document["coordinator_status"] == "running"
    assert isinstance(document["uptime"], float | int) and 0 <= document["uptime"] < 60

    event = coordinator("test-event", "--type", "COORDINATION_CRISIS", "--task", "task-7")
    assert event.code == 0, event.err
    written = json.loads((tmp_path / "coordination_alerts.json").read_text(encoding="utf-8").splitlines()[-1])
    assert (written["type"], written["task_id"], written["escalation_level"]) == ("COORDINATION_CRISIS", "task-7",
                                                                                  "red")
    assert written["timestamp"].endswith("Z")
    crisis_task = wait_for(lambda: (found := task(coordinator, "task-7")) is not None and found["level"] == "RED"
                           and found, "task-7 to be escalated", timeout=5.0, step=0.05)
    assert crisis_task["status"] == "open"

    stopped = coordinator("stop")
    assert stopped.code == 0, stopped.err
    assert f"stopped (pid {pid})" in stopped.out
    assert not alive(pid)
    after = coordinator("status", "--json").json()
    assert (after["coordinator_status"], after["uptime"]) == ("stopped", None)
    assert coordinator("stop").out.strip() == "not running"
    assert (services.home / "coordinator.log").read_text(encoding="utf-8").splitlines()[-1].endswith(" stopped")


def test_status_names_the_pid_of_the_running_service(services: Services, coordinator: Run) -> None:
    pid = start_in_background(coordinator, services)
    status = coordinator("status", "--json")
    assert status.code == 0, status.err
    assert status.json().get("pid") == pid


# Test mode -------------------------------------------------------------------------------------


def test_run_in_test_mode_prints_each_delivery_on_stdout_and_delivers_to_the_console(
    services: Services, alerts: Path,
) -> None:
    service = services.run("--test-mode", "--alerts-file", str(alerts))
    append(alerts, crisis("task-5"))
    wait_for(lambda: service.stdout().count("delivery task:task-5#") == 2, "the deliveries to be printed",
             timeout=5.0)
    out = service.stdout()
    assert re.search(r"^delivery task:task-5#\S+ via console \(attempt 1\): ok$", out, re.MULTILINE)
    assert re.search(r"^\[urgent\] pm-agent \S+ .*URGENT.*task-5", out, re.MULTILINE)
    assert re.search(r"^\[urgent\] agent-1 \S+ .*task-5", out, re.MULTILINE)
    assert notifications(services.home) == [], "test mode delivers to the console, not the file"
    assert service.terminate() == 0


def test_run_in_test_mode_also_prints_each_notification_decided(services: Services, alerts: Path) -> None:
    service = services.run("--test-mode", "--alerts-file", str(alerts))
    append(alerts, crisis("task-5"))
    wait_for(lambda: service.stdout().count("delivery task:task-5#") == 2, "the deliveries to be printed",
             timeout=5.0)
    assert service.stdout().count("decided  task:task-5#") == 2


# Start-up race -----------------------------------------------------------------------------------


def test_a_line_appended_as_soon_as_the_service_says_it_is_following_is_delivered_within_a_second(
    services: Services, alerts: Path,
) -> None:
    service = services.run("--alerts-file", str(alerts), wait_ready=False)
    wait_for(lambda: "following" in service.stderr(), "the service to start", step=0.002)
    assert watching(service.pid), "the service says it is following only once its file watch is in place"
    append(alerts, crisis("task-1"))
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the notifications", timeout=1.0)
