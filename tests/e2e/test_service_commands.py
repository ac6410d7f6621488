"""`coordinator start`, `status`, `stop`, `test-event` and `run --test-mode` driving the real background service."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

from tests.e2e.service_support import (
    Run,
    Services,
    alive,
    append,
    crisis,
    notifications,
    ready,
    task,
    wait_for,
)
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture
from tests.waiting import GENEROUS

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
             timeout=GENEROUS)
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
             timeout=GENEROUS)
    assert service.stdout().count("decided  task:task-5#") == 2


def test_a_running_service_prints_every_thread_s_stack_on_sigusr1_and_keeps_serving(services: Services,
                                                                                   alerts: Path) -> None:
    service = services.run("--alerts-file", str(alerts))
    service.process.send_signal(signal.SIGUSR1)
    # the dump is written a thread at a time: wait for the main loop's frames themselves, not only the first header
    wait_for(lambda: "most recent call first" in service.stderr() and "cli/service.py" in service.stderr(),
             "the stacks on standard error, the main loop's frames among them", timeout=GENEROUS)
    append(alerts, crisis("task-6"))
    wait_for(lambda: any(line["subject"] == "task-6" for line in notifications(services.home)),
             "the service to go on and notify", timeout=GENEROUS)
    assert service.terminate() == 0
