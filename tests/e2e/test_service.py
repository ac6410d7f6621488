"""The long-running coordinator (`coordinator run` without --once) as a user runs it, following its alerts file and
escalating on time: the real executable, real files and real signals. Where time matters, the services read it
from a clock file the test moves (`COORDINATOR_CLOCK_FILE`), so no outcome depends on how fast the machine is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.service_support import (
    FileClock,
    Run,
    Service,
    Services,
    alerts_received,
    append,
    assigned,
    crisis,
    history,
    notifications,
    subjects,
    task,
    wait_for,
    watching,
)
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import clock as clock  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture

# Following the file ----------------------------------------------------------------------------


def following_one_crisis(services: Services, alerts: Path) -> Service:
    """A service following `alerts`, once it has sent the notifications of the crisis of task-1 written there."""
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    service = services.run("--alerts-file", str(alerts))
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the first line's notifications")
    return service


def test_follow_mode_delivers_notifications_for_lines_appended_after_it_started(
    services: Services, alerts: Path,
) -> None:
    service = following_one_crisis(services, alerts)
    append(alerts, crisis("task-2"))
    wait_for(lambda: subjects(services.home).count("task-2") == 2, "the appended line's notifications")
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
    assert again.json() == {"processed": 0, "observed": 0, "duplicates": 1, "quarantined": 0}


def test_follow_mode_waits_for_a_file_that_does_not_exist_yet_and_reads_it_once_it_is_created(
    services: Services, alerts: Path,
) -> None:
    service = services.run("--alerts-file", str(alerts))
    wait_for(lambda: f"waiting for {alerts} to be created" in service.stderr(), "the service to say it waits")
    assert service.process.poll() is None, "a missing file is waited for, not an error"
    assert notifications(services.home) == []
    alerts.write_text(crisis("task-1"), encoding="utf-8")
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the new file's notifications")


def test_follow_mode_keeps_running_when_its_file_becomes_a_directory_says_why_and_reads_the_file_once_it_is_back(
    services: Services, alerts: Path,
) -> None:
    service = following_one_crisis(services, alerts)
    alerts.unlink()
    alerts.mkdir()
    wait_for(lambda: f"{alerts} is not a regular file" in service.stderr(), "the service to say why it waits")
    assert service.process.poll() is None, "a directory in the file's place is waited out, not a crash"
    alerts.rmdir()
    alerts.write_text(crisis("task-2"), encoding="utf-8")
    wait_for(lambda: subjects(services.home).count("task-2") == 2, "the new file's notifications")
    assert f"reading {alerts} again" in service.stderr()
    assert "Traceback" not in service.stderr()


def test_lines_written_after_the_file_is_truncated_while_the_service_runs_are_processed(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    alerts.write_text(crisis("task-1") + crisis("task-2") + crisis("task-3"), encoding="utf-8")
    services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 6, "the first lines' notifications")

    alerts.write_text(crisis("task-9"), encoding="utf-8")  # truncated and rewritten, shorter than before
    wait_for(lambda: subjects(services.home).count("task-9") == 2, "the new line's notifications")
    append(alerts, crisis("task-10"))
    wait_for(lambda: subjects(services.home).count("task-10") == 2, "the next line's notifications")
    assert len(notifications(services.home)) == 10
    document = task(coordinator, "task-9")
    assert document is not None and document["level"] == "RED"


def test_a_restarted_service_resumes_after_what_it_recorded_and_processes_only_the_new_alerts(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    # The broken line is a probe: every ingest that meets it logs "1 quarantined", so a restarted service that read
    # the file from its start again (even if fingerprints then discarded the old alerts) would say so.
    alerts.write_text(crisis("task-1") + "this line is not JSON\n" + crisis("task-2"), encoding="utf-8")
    first = services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 4, "the first run's notifications")
    assert first.terminate() == 0
    assert "1 quarantined (see `coordinator quarantine`)" in first.stderr()

    append(alerts, crisis("task-3") + crisis("task-4"))
    second = services.run("--alerts-file", str(alerts))
    wait_for(lambda: len(notifications(services.home)) == 8, "the second run's notifications")
    assert second.terminate() == 0
    assert "1 quarantined" not in second.stderr(), "the lines before the recorded position are not read again"
    assert "2 processed, 0 duplicates, 0 quarantined" in second.stderr()
    assert sorted(subjects(services.home)) == sorted(["task-1", "task-2", "task-3", "task-4"] * 2)
    received = alerts_received(coordinator)
    assert sorted(event["subject"] for event in received) == ["task-1", "task-2", "task-3", "task-4"]
    assert len({event["data"]["fingerprint"] for event in received}) == 4
    quarantine = coordinator("quarantine", "--json")
    assert quarantine.code == 0, quarantine.err
    assert [row["line"] for row in quarantine.json()] == [2]


# Time --------------------------------------------------------------------------------------------


def test_a_deadline_escalates_the_task_to_red_and_emergency_on_the_clock_without_any_new_alert(
    services: Services, alerts: Path, coordinator: Run, clock: FileClock,
) -> None:
    services.run("--alerts-file", str(alerts))
    start = clock.moment
    deadline = start + timedelta(seconds=3)
    append(alerts, assigned("T", start, deadline))
    wait_for(lambda: task(coordinator, "T") is not None, "the assignment to be recorded")

    clock.set(start + timedelta(seconds=2.5))  # past the YELLOW (1.5 s) and ORANGE (2.25 s) crossings only
    document = wait_for(lambda: (found := task(coordinator, "T")) is not None and len(found["history"]) == 2
                        and found, "the crossings up to the clock's time")
    assert document["level"] == "ORANGE", "nothing is recorded ahead of the clock"

    clock.set(start + timedelta(seconds=10))
    document = wait_for(lambda: (found := task(coordinator, "T")) is not None and found["emergency"] and found,
                        "the task to reach EMERGENCY")
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
    assert len([event for event in result.json() if event["subject"] == "T"]) == 4


def test_crossings_missed_while_the_service_was_down_are_recorded_at_their_true_instants_on_restart(
    services: Services, alerts: Path, coordinator: Run, clock: FileClock,
) -> None:
    first = services.run("--alerts-file", str(alerts))
    start = clock.moment
    deadline = start + timedelta(seconds=6)
    yellow = start + timedelta(seconds=3)  # f = 0.5
    append(alerts, assigned("T", start, deadline))
    wait_for(lambda: task(coordinator, "T") is not None, "the assignment to be recorded")
    assert first.terminate() == 0
    document = task(coordinator, "T")
    assert document is not None and document["history"] == []

    restarted = clock.advance(4)  # past YELLOW, before ORANGE (4.5 s)
    services.run("--alerts-file", str(alerts))
    document = wait_for(lambda: (found := task(coordinator, "T")) is not None and found["history"] and found,
                        "the missed crossing to be recorded")
    assert history(document) == [(yellow, "GREEN", "YELLOW", False)]
    assert yellow < restarted, "recorded at the instant it happened, not when the service came back"


# Start-up race -----------------------------------------------------------------------------------


def test_a_line_appended_as_soon_as_the_service_says_it_is_following_is_delivered_without_a_restart(
    services: Services, alerts: Path,
) -> None:
    service = services.run("--alerts-file", str(alerts), wait_ready=False)
    wait_for(lambda: "following" in service.stderr(), "the service to start", step=0.002)
    assert watching(service.pid), "the service says it is following only once its file watch is in place"
    append(alerts, crisis("task-1"))
    wait_for(lambda: subjects(services.home).count("task-1") == 2, "the notifications")
