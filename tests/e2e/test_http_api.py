"""The running service's HTTP API as its clients use it: a real `coordinator run` process, real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.http_support import crisis, post, serve, sse_events
from tests.e2e.service_support import FileClock, Run, Services, notifications, task
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import clock as clock  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture
from tests.waiting import wait_for

TOKEN = "s3cret-token-for-tests"


# Alerts in -----------------------------------------------------------------------------------------------------------


def test_alerts_posted_are_recorded_before_the_answer_and_answer_the_same_as_the_command_line(
    services: Services, alerts: Path, coordinator: Run, clock: FileClock,
) -> None:
    _, url = serve(services, alerts)
    response = post(f"{url}/api/v1/alerts", [crisis("task-1", clock.moment), {"type": "NOPE"}])
    assert response.status_code == 202, response.text
    assert response.json() == {"processed": 1, "observed": 0, "duplicates": 0, "quarantined": 1,
                               "rejects": [{"index": 1, "reason": "unknown alert type 'NOPE'"}]}

    shown = httpx.get(f"{url}/api/v1/tasks/task-1").json()
    assert shown == coordinator("task", "show", "task-1", "--json").json()
    assert shown["level"] == "RED"
    assert httpx.get(f"{url}/api/v1/tasks").json() == coordinator("task", "list", "--json").json()
    assert httpx.get(f"{url}/api/v1/agents/agent-1").json() == coordinator("agent", "show", "agent-1", "--json").json()
    assert httpx.get(f"{url}/api/v1/quarantine").json() == coordinator("quarantine", "--json").json()
    quarantined = httpx.get(f"{url}/api/v1/quarantine").json()
    assert [(row["source"], row["reason"]) for row in quarantined] == [("http", "unknown alert type 'NOPE'")]
    wait_for(lambda: len(notifications(services.home)) >= 2, "the crisis to be delivered")


def test_every_body_form_of_the_alerts_file_is_accepted_and_the_same_alert_counts_once(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    _, url = serve(services, alerts)
    one = crisis("task-1", clock.moment)
    assert post(f"{url}/api/v1/alerts", one).json()["processed"] == 1
    assert post(f"{url}/api/v1/alerts", [one, crisis("task-2", clock.moment)]).json()["processed"] == 1
    assert post(f"{url}/api/v1/alerts", {"alerts": [crisis("task-3", clock.moment)]}).json()["processed"] == 1
    assert post(f"{url}/api/v1/alerts", {"events": [crisis("task-4", clock.moment)]}).json()["processed"] == 1
    lines = "\n".join(json.dumps(crisis(f"task-{n}", clock.moment)) for n in (5, 6)) + "\nnot json\n"
    response = httpx.post(f"{url}/api/v1/alerts", content=lines, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 202
    assert response.json()["processed"] == 2
    assert response.json()["rejects"][0]["index"] == 2
    again = post(f"{url}/api/v1/alerts", one).json()
    assert (again["processed"], again["duplicates"]) == (0, 1)
    assert {row["task_id"] for row in httpx.get(f"{url}/api/v1/tasks").json()} == {f"task-{n}" for n in range(1, 7)}


def test_a_body_that_is_not_json_is_refused_with_400_and_quarantined(services: Services, alerts: Path) -> None:
    _, url = serve(services, alerts)
    response = httpx.post(f"{url}/api/v1/alerts", content=b"{broken", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    [kept] = httpx.get(f"{url}/api/v1/quarantine").json()
    assert (kept["source"], kept["raw"]) == ("http", "{broken")


def test_a_wrong_content_type_is_refused_with_415_and_a_body_over_the_limit_with_413(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    _, url = serve(services, alerts, env={"COORDINATOR_HTTP__MAX_BODY": "2048"})
    wrong = httpx.post(f"{url}/api/v1/alerts", content=b"task-1 is red", headers={"content-type": "text/plain"})
    assert wrong.status_code == 415
    big = [crisis(f"task-{n}", clock.moment) for n in range(100)]
    assert post(f"{url}/api/v1/alerts", big).status_code == 413
    chunked = httpx.post(f"{url}/api/v1/alerts", content=iter([json.dumps(big).encode()]),
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert httpx.get(f"{url}/api/v1/tasks").json() == [], "nothing of a refused body is recorded"
    assert httpx.get(f"{url}/api/v1/tasks/nobody").status_code == 404


def test_alertmanager_firing_alerts_escalate_and_resolved_ones_clear_the_crisis(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    _, url = serve(services, alerts)
    started = clock.moment.isoformat().replace("+00:00", "Z")
    firing = {"version": "4", "status": "firing", "receiver": "coordinator", "alerts": [
        {"status": "firing", "labels": {"alertname": "AgentStuck", "task_id": "task-7", "agent_id": "agent-3",
                                        "severity": "critical"},
         "annotations": {"summary": "agent-3 stopped reporting"}, "startsAt": started,
         "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc"},
        {"status": "firing", "labels": {"alertname": "Orphan", "severity": "warning"}, "startsAt": started},
    ]}
    response = post(f"{url}/api/v1/alertmanager", firing)
    assert response.status_code == 202, response.text
    assert response.json()["processed"] == 1
    assert response.json()["rejects"] == [{"index": 1, "reason": "the Alertmanager alert has no task_id label"}]
    assert httpx.get(f"{url}/api/v1/tasks/task-7").json()["level"] == "RED"
    assert post(f"{url}/api/v1/alertmanager", firing).json()["duplicates"] == 1, "re-sent alerts count once"

    ended = (clock.moment + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    resolved = {**firing, "status": "resolved", "alerts": [{**firing["alerts"][0], "status": "resolved",  # type: ignore[index]
                                                              "endsAt": ended}]}
    assert post(f"{url}/api/v1/alertmanager", resolved).json()["processed"] == 1
    assert httpx.get(f"{url}/api/v1/tasks/task-7").json()["level"] == "GREEN"


def test_posted_records_of_other_shapes_are_mapped_by_the_homes_rules_or_observed_and_streamed(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    services.home.mkdir(parents=True, exist_ok=True)
    (services.home / "coordinator.toml").write_text(
        (Path(__file__).resolve().parents[2] / "examples" / "upstream-mappings.toml").read_text())
    _, url = serve(services, alerts)
    at = clock.moment.isoformat().replace("+00:00", "Z")
    crisis_record = {"event_type": "coordination_alert", "alert_type": "PM_AGENT_ALERT_HIGH", "severity": "high",
                     "message": "agent_timeout", "data": {"crisis_id": "crisis_7"}, "resolved": False, "timestamp": at}
    completion = {"event_id": "evt-1", "event_type": "completion", "source": "api", "severity": "info",
                  "timestamp": at}
    response = post(f"{url}/api/v1/alerts", {"alerts": [crisis_record, completion]})
    assert response.json() == {"processed": 1, "observed": 1, "duplicates": 0, "quarantined": 0, "rejects": []}
    assert httpx.get(f"{url}/api/v1/tasks/crisis_7").json()["level"] == "RED"
    observed = sse_events(f"{url}/api/v1/events/stream?type=Observed", 2)
    assert [event["event"] for event in observed] == ["Observed", "Observed"]
    mapped, plain = (json.loads(event["data"]) for event in observed)
    assert (mapped["subject_kind"], mapped["task_id"], mapped["alert_type"]) == ("hive", "crisis_7",
                                                                                 "COORDINATION_CRISIS")
    assert mapped["mapping"].startswith("upstream-crisis-high@") and plain["mapping"] is None


# Security ------------------------------------------------------------------------------------------------------------


def test_with_a_token_writes_need_it_and_reads_need_it_only_when_protected(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    _, url = serve(services, alerts, env={"COORDINATOR_HTTP__TOKEN": TOKEN})
    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment)).status_code == 401
    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment), token="wrong-token-wrong").status_code == 401
    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment), token=TOKEN).status_code == 202
    assert httpx.get(f"{url}/api/v1/tasks").status_code == 200


def test_protected_reads_need_the_token_but_liveness_never_does(services: Services, alerts: Path) -> None:
    _, url = serve(services, alerts, env={"COORDINATOR_HTTP__TOKEN": TOKEN, "COORDINATOR_HTTP__PROTECT_READS": "true"})
    assert httpx.get(f"{url}/api/v1/tasks").status_code == 401
    assert httpx.get(f"{url}/api/v1/tasks", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_serving_beyond_loopback_without_a_token_is_refused_at_start_up(coordinator: Run, tmp_path: Path) -> None:
    result = coordinator("run", "--alerts-file", str(tmp_path / "alerts.jsonl"), "--http", "0.0.0.0:0")
    assert result.code == 2
    assert "without a token" in result.err


def test_an_address_in_use_is_a_start_up_error_naming_it_and_the_option(coordinator: Run, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = coordinator("run", "--alerts-file", str(tmp_path / "alerts.jsonl"), "--http", f"127.0.0.1:{port}")
    assert result.code == 2
    assert f"127.0.0.1:{port}" in result.err and "--http" in result.err


# Commands from the command line while the service runs ------------------------------------------------------------


def test_ack_and_resolve_reach_the_running_service_and_the_pm_is_reminded_no_more(
    services: Services, alerts: Path, coordinator: Run, clock: FileClock,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    wait_for(lambda: len(notifications(services.home)) == 2, "the crisis notifications")

    acked = coordinator("ack", "task-1", "--by", "alice", env_extra=clock.env)
    assert acked.code == 0, acked.err
    assert acked.out.startswith("task-1 acknowledged by alice at ")
    clock.advance(3600)
    wait_for(lambda: "acknowledged" in json.dumps(httpx.get(f"{url}/api/v1/audit?task=task-1").json()),
             "the acknowledgement in the audit trail")
    assert [row for row in notifications(services.home) if row["kind"] == "repeat"] == []

    unknown = coordinator("ack", "task-404", "--by", "alice")
    assert (unknown.code, unknown.err.strip()) == (1, "Error: unknown task 'task-404': no alert has named it")
    resolved = coordinator("resolve", "task-1", "--by", "bob", "--note", "replaced", "--json")
    assert resolved.code == 0, resolved.err
    assert (resolved.json()["status"], resolved.json()["resolved_by"]) == ("completed", "bob")
    document = task(coordinator, "task-1")
    assert document is not None and document["status"] == "completed"


@pytest.mark.parametrize("name", [".", "..", "a/b", "50% done"])
def test_ack_reaches_the_running_service_for_a_task_whose_id_is_dots_or_a_path(
    services: Services, alerts: Path, coordinator: Run, clock: FileClock, name: str,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis(name, clock.moment))
    wait_for(lambda: len(notifications(services.home)) == 2, "the crisis notifications")
    acked = coordinator("ack", name, "--by", "alice", env_extra=clock.env)
    assert acked.code == 0, acked.err
    assert acked.out.startswith(f"{name} acknowledged by alice at ")


def test_a_service_without_its_api_makes_writing_commands_exit_3_saying_so(
    services: Services, alerts: Path, coordinator: Run,
) -> None:
    services.run("--alerts-file", str(alerts), "--no-http")
    result = coordinator("ack", "task-1", "--by", "alice")
    assert result.code == 3
    assert "serves no HTTP API" in result.err


# Status, events and restarts ------------------------------------------------------------------------------------------


def test_status_names_the_api_address_and_start_returns_once_it_answers(coordinator: Run, services: Services,
                                                                          tmp_path: Path) -> None:
    started = coordinator("start", "--alerts-file", str(tmp_path / "alerts.jsonl"))
    assert started.code == 0, started.err
    status = coordinator("status", "--json").json()
    services.adopt(int(status["pid"]))
    assert status["http"].startswith("http://127.0.0.1:")
    assert f"HTTP API at {status['http']}" in started.out
    assert httpx.get(f"{status['http']}/healthz").status_code == 200, "ready as soon as start returns"
    assert httpx.get(f"{status['http']}/api/v1/status").json()["pid"] == status["pid"]
    assert coordinator("stop").code == 0


def test_the_event_stream_resumes_after_the_last_event_id_with_nothing_missed_or_doubled(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", [crisis(f"task-{n}", clock.moment) for n in range(3)])
    everything = sse_events(f"{url}/api/v1/events/stream", 12)
    first = sse_events(f"{url}/api/v1/events/stream", 5)
    rest = sse_events(f"{url}/api/v1/events/stream", 7, headers={"Last-Event-ID": first[-1]["id"]})
    assert [event["id"] for event in first + rest] == [event["id"] for event in everything]
    assert len({event["id"] for event in everything}) == 12

    escalations = sse_events(f"{url}/api/v1/events/stream?type=Escalated", 3)
    assert [json.loads(event["data"])["subject"] for event in escalations] == ["task-0", "task-1", "task-2"]
    assert {event["event"] for event in escalations} == {"Escalated"}
    later = post(f"{url}/api/v1/alerts", crisis("task-9", clock.moment, level="orange"))
    assert later.status_code == 202
    live = sse_events(f"{url}/api/v1/events/stream?type=Escalated&after={escalations[-1]['id']}", 1)
    assert json.loads(live[0]["data"])["subject"] == "task-9"


def test_a_restarted_service_serves_everything_recorded_before(
    services: Services, alerts: Path, clock: FileClock,
) -> None:
    first, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    before = httpx.get(f"{url}/api/v1/tasks/task-1").json()
    assert first.terminate() == 0
    _, url = serve(services, alerts)
    assert httpx.get(f"{url}/api/v1/tasks/task-1").json() == before
    assert post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment)).json()["duplicates"] == 1


def test_metrics_are_served_in_the_prometheus_text_format(services: Services, alerts: Path, clock: FileClock) -> None:
    _, url = serve(services, alerts)
    post(f"{url}/api/v1/alerts", crisis("task-1", clock.moment))
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert "coordinator_events_processed_total" in response.text
    assert httpx.get(f"{url}/api/v1/openapi.json").json()["info"]["title"] == "hive-coordinator"
