"""Observations and mapping rules on a real store: recorded once, with the rule in force when they were read, and
shown in the crisis audit trail, the metrics and the event stream; HTTP bodies and Alertmanager payloads alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters import alertmanager, mappings
from adapters.alert_body import parse_body
from adapters.alert_file import read_alerts
from adapters.event_stream import AlertReceived, CoordinationEventConsumer, Observed
from app.coordinator import Coordinator
from app.intake import IngestReport
from app.responder import Responder
from cli.bootstrap import Services, build
from cli.settings import CONFIG_FILE_NAME, load_settings
from cli.views import catch_up
from domain.alerts import Observation, Quarantined
from domain.hive import Hive
from domain.task import Task
from projections import queries
from projections.crisis_queries import episodes
from projections.metrics import metrics
from tests.alert_builders import crisis

T = "2025-07-17T00:50:16Z"
RED_RULE = """
[[mappings]]
name = "crisis"
when = { event_type = "coordination_alert", severity = "high" }
type = "COORDINATION_CRISIS"
[mappings.fields]
task_id = "{data.crisis_id}"
agent_id = "{data.agent_id|unknown-agent}"
escalation_level = "LEVEL"
description = "{message}"
"""


def upstream(alert_type: str, when: str = T, crisis_id: str = "crisis_1", **extra: Any) -> dict[str, Any]:
    return {"event_type": "coordination_alert", "alert_type": alert_type, "severity": "high", "timestamp": when,
            "message": f"{alert_type} for agent_timeout", "data": {"crisis_id": crisis_id}, "resolved": False,
            **extra}


def status_event(event_id: str, event_type: str, when: str = T, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": event_type, "source": "test_runner", "severity": "info",
            "timestamp": when, "message": f"{event_type} {event_id}", "metadata": {"n": 1}, **extra}


@dataclass
class HiveHome:
    """A home whose configuration may hold mapping rules, fed JSON Lines files."""

    path: Path
    files: int = 0

    def configure(self, text: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / CONFIG_FILE_NAME).write_text(text, encoding="utf-8")

    def open(self) -> Services:
        return build(load_settings(self.path))

    def write(self, *records: dict[str, Any]) -> Path:
        self.files += 1
        path = self.path.parent / f"records-{self.files}.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
        return path

    def feed(self, services: Services, *records: dict[str, Any]) -> IngestReport:
        return services.coordinator.ingest(read_alerts(self.write(*records)))


@pytest.fixture
def hive(tmp_path: Path) -> Iterator[HiveHome]:
    yield HiveHome(tmp_path / "home")
    mappings.configure(mappings.Mappings())  # building services configured the readers' rules for the process


def observed_events(services: Services) -> list[Any]:
    store = services.coordinator.repository.event_store
    return [event for event in store.get(Hive.id_for("default")) if isinstance(event, Hive.Observed)]


def test_an_observation_is_recorded_once_on_the_hive_and_reading_the_file_again_applies_nothing_twice(
    hive: HiveHome,
) -> None:
    services = hive.open()
    path = hive.write(upstream("PM_AGENT_ALERT_HIGH"), status_event("evt-1", "completion"))
    first = services.coordinator.ingest(read_alerts(path)).as_dict()
    again = services.coordinator.ingest(read_alerts(path)).as_dict()
    events = observed_events(services)
    services.close()
    assert first == {"processed": 0, "observed": 2, "duplicates": 0, "quarantined": 0}
    assert again == {"processed": 0, "observed": 0, "duplicates": 2, "quarantined": 0}
    assert [(event.source, event.line, event.record["event_type"], event.mapping) for event in events] == [
        (str(path), 1, "coordination_alert", None), (str(path), 2, "completion", None)]
    assert events[0].at.isoformat() == "2025-07-17T00:50:16+00:00"


def test_a_change_of_the_rules_never_rewrites_what_was_read_under_the_old_ones(hive: HiveHome) -> None:
    hive.configure(RED_RULE.replace("LEVEL", "red"))
    services = hive.open()
    path = hive.write(upstream("PM_AGENT_ALERT_HIGH"), upstream("CRISIS_RESPONSE_HIGH", "2025-07-17T00:50:17Z"))
    assert services.coordinator.ingest(read_alerts(path)).as_dict()["processed"] == 2
    catch_up(services.views)
    before = (queries.tasks(services.views.db), episodes(services.views.db))
    old_rule = observed_events(services)[0].mapping
    services.close()

    hive.configure(RED_RULE.replace("LEVEL", "orange"))
    services = hive.open()
    again = services.coordinator.ingest(read_alerts(path)).as_dict()
    later = hive.feed(services, upstream("PM_AGENT_ALERT_HIGH", "2025-07-17T01:00:00Z", crisis_id="crisis_2"))
    events = observed_events(services)
    task = services.coordinator.get_task("crisis_1")
    replayed = Coordinator(env=services.coordinator.env)
    try:
        assert replayed.get_task("crisis_1") == task, "the events rebuild the task as it was decided"
    finally:
        replayed.close()
    rebuilt = services.views.__class__(hive.path / "rebuilt.sqlite", services.ledger,
                                       services.views.projections)
    rebuilt.catch_up()
    after = (queries.tasks(rebuilt.db), episodes(rebuilt.db))
    rebuilt.close()
    services.close()
    assert again == {"processed": 0, "observed": 0, "duplicates": 2, "quarantined": 0}
    assert later.processed == 1
    assert task.stage.level == "RED"
    assert [event.mapping for event in events] == [old_rule, old_rule, events[2].mapping]
    assert events[2].mapping != old_rule and events[2].mapping.startswith("crisis@")
    assert [row for row in after[0] if row["task_id"] == "crisis_1"] == before[0]
    assert after[1] == before[1], "read models rebuilt from the events are what they were"


def test_a_mapped_record_whose_alert_fails_to_apply_is_quarantined_with_its_rule_and_not_observed(
    hive: HiveHome, monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Responder.after_task

    def after_task(self: Responder, task: Task, seen: int) -> None:
        original(self, task, seen)
        if task.task_id == "crisis_bad":
            raise RuntimeError("cannot respond")

    monkeypatch.setattr(Responder, "after_task", after_task)
    hive.configure(RED_RULE.replace("LEVEL", "red"))
    services = hive.open()
    report = hive.feed(services, upstream("PM_AGENT_ALERT_HIGH"), upstream("X", crisis_id="crisis_bad"),
                       status_event("evt-1", "completion"))
    rows = services.ledger.quarantined()
    events = observed_events(services)
    services.close()
    assert report.as_dict() == {"processed": 1, "observed": 1, "duplicates": 0, "quarantined": 1}
    assert [(row["line"], row["reason"]) for row in rows] == [(2, "RuntimeError: cannot respond")]
    assert [event.line for event in events] == [1, 3]


def test_an_observation_is_a_step_of_the_open_episode_of_the_task_or_of_every_one_of_the_agent_it_names(
    hive: HiveHome,
) -> None:
    services = hive.open()
    hive.feed(services, crisis("task-1", "ada", "red", "2025-07-17T00:00:00Z"),
              crisis("task-2", "ada", "red", "2025-07-17T00:01:00Z"), crisis("task-3", "bob", "red", T))
    hive.feed(services, status_event("evt-1", "note", "2025-07-17T00:02:00Z", task_id="task-1"),
              status_event("evt-2", "note", "2025-07-17T00:03:00Z", agent_id="ada"),
              status_event("evt-3", "note", "2025-07-17T00:04:00Z", task_id="task-9", agent_id="ada"))
    catch_up(services.views)
    found = {episode["task_id"]: [step["detail"]["record"]["event_id"] for step in episode["steps"]
                                  if step["step"] == "observation"] for episode in episodes(services.views.db)}
    paged = services.views.__class__(hive.path / "paged.sqlite", services.ledger, services.views.projections,
                                     page_size=3)
    paged.catch_up()
    again = {episode["task_id"]: [step["seq"] for step in episode["steps"]] for episode in episodes(paged.db)}
    whole = {episode["task_id"]: [step["seq"] for step in episode["steps"]] for episode in episodes(services.views.db)}
    paged.close()
    services.close()
    assert found == {"task-1": ["evt-1", "evt-2"], "task-2": ["evt-2"], "task-3": []}
    assert again == whole, "pages of three events give the same steps"


def test_metrics_count_observations_by_event_type_alert_type_and_severity_and_how_many_became_alerts(
    hive: HiveHome,
) -> None:
    hive.configure(RED_RULE.replace("LEVEL", "red"))
    services = hive.open()
    hive.feed(services, upstream("PM_AGENT_ALERT_HIGH"), upstream("CRISIS_RESPONSE_LOW", severity="low"),
              status_event("evt-1", "completion"), status_event("evt-2", "completion"), {"event_id": "evt-3"})
    catch_up(services.views)
    document = metrics(services.views.db)
    services.close()
    assert document["observations"] == [
        {"event_type": "", "alert_type": "", "severity": "", "count": 1, "mapped": 0},
        {"event_type": "completion", "alert_type": "", "severity": "info", "count": 2, "mapped": 0},
        {"event_type": "coordination_alert", "alert_type": "CRISIS_RESPONSE_LOW", "severity": "low", "count": 1,
         "mapped": 0},
        {"event_type": "coordination_alert", "alert_type": "PM_AGENT_ALERT_HIGH", "severity": "high", "count": 1,
         "mapped": 1},
    ]


def test_the_event_stream_yields_observations_as_typed_events_about_the_hive(hive: HiveHome) -> None:
    hive.configure(RED_RULE.replace("LEVEL", "red"))
    services = hive.open()
    hive.feed(services, upstream("PM_AGENT_ALERT_HIGH"), {"event_id": "evt-3", "agent_id": "ada"})
    services.close()

    async def drain() -> list[Any]:
        consumer = CoordinationEventConsumer(home=hive.path)
        return [event async for event in consumer.stream_events()]

    events = asyncio.run(drain())
    mapped, plain = [event for event in events if isinstance(event, Observed)]
    [alert] = [event for event in events if isinstance(event, AlertReceived)]
    assert alert.fingerprint == mapped.fingerprint, "the alert a rule made carries its record's fingerprint"
    assert (mapped.subject_kind, mapped.subject, mapped.task_id, mapped.agent_id, mapped.alert_type) == (
        "hive", "default", "crisis_1", "unknown-agent", "COORDINATION_CRISIS")
    assert mapped.mapping is not None and mapped.mapping.startswith("crisis@")
    assert mapped.record["alert_type"] == "PM_AGENT_ALERT_HIGH" and mapped.line == 1
    assert mapped.at.isoformat() == "2025-07-17T00:50:16+00:00"
    assert (plain.agent_id, plain.mapping, plain.at) == ("ada", None, plain.recorded_at), "no time of its own"


def test_request_bodies_and_alertmanager_payloads_are_mapped_and_observed_like_the_file(hive: HiveHome) -> None:
    hive.configure(RED_RULE.replace("LEVEL", "red") + """
[[mappings]]
name = "stuck"
when = { "labels.alertname" = "AgentStuck" }
type = "COORDINATION_CRISIS"
[mappings.fields]
task_id = "{labels.service}"
agent_id = "{labels.instance}"
escalation_level = "orange"
timestamp = "{startsAt}"
""")
    hive.open().close()  # building the services configures the readers
    body = parse_body(json.dumps({"events": [upstream("PM_AGENT_ALERT_HIGH"), status_event("e", "done")]}).encode(),
                      False, "http")
    payload = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "AgentStuck", "service": "api", "instance": "agent-3"},
         "startsAt": T},
        {"status": "firing", "labels": {"alertname": "Orphan"}, "startsAt": T},
    ]}
    mapped_body, observed = body.items
    stuck, orphan = alertmanager.alerts_of(payload)
    assert isinstance(mapped_body, Observation) and mapped_body.alert is not None
    assert (mapped_body.source, mapped_body.index, mapped_body.alert.task_id) == ("http", 0, "crisis_1")
    assert isinstance(observed, Observation) and observed.alert is None and observed.index == 1
    assert isinstance(stuck, Observation) and stuck.alert is not None and stuck.rule is not None
    assert (stuck.alert.task_id, stuck.alert.agent_id, stuck.alert.crisis_stage.level) == (  # type: ignore[union-attr]
        "api", "agent-3", "ORANGE")
    assert isinstance(orphan, Quarantined) and orphan.reason == "the Alertmanager alert has no task_id label"


def test_the_hive_keeps_a_count_and_is_snapshotted_so_a_long_stream_of_observations_loads_quickly(
    hive: HiveHome,
) -> None:
    services = hive.open()
    hive.feed(services, *(status_event(f"evt-{n}", "completion", f"2025-07-17T00:{n // 60:02d}:{n % 60:02d}Z")
                          for n in range(450)))
    snapshots = services.coordinator.snapshots
    assert snapshots is not None
    taken = [snapshot.originator_version for snapshot in snapshots.get(Hive.id_for("default"))]
    reopened = Coordinator(env=services.coordinator.env)
    try:
        loaded = reopened.get_hive()
    finally:
        reopened.close()
    services.close()
    assert taken == [451], "a save that passes a multiple of 200 versions takes a snapshot of what it saved"
    assert loaded.observations == 450
