"""The metrics read model and the health document, from a scenario on the real application with known answers.

Five rounds of alerts are ingested from JSON Lines files; after each, the outbox is delivered by a dispatcher
whose clock starts at the instant every event is recorded at (the recording clock is held still) and advances a
fixed step per call (one call selects what is due, then one per attempt), so each notification's wall-clock
response time, and which of them breach their SLA, is known exactly. Answers below are worked out by hand from
the scenario.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlite_utils
from prometheus_client.parser import text_string_to_metric_families

from adapters.alert_file import read_alerts
from adapters.delivery import Dispatcher, RetryPolicy, Route, Router
from app.records import Record
from cli.bootstrap import Services, build
from cli.settings import Settings
from domain.notifications import DeliveryError, Notification
from projections.health import health
from projections.metrics import MetricsProjection, metrics
from projections.prometheus import prometheus_text
from projections.queries import tasks
from projections.runner import ProjectionRunner
from projections.status import StatusProjection
from tests.integration.views_support import runner_at

Document = dict[str, Any]
RECORDED = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
"""The wall-clock instant every event of the scenario is recorded at."""
SLOP = 1e-6


def stamp(hour: int, minute: int) -> str:
    return f"2025-07-16T{hour:02d}:{minute:02d}:00Z"


class Sink:
    """Accepts everything."""

    name = "sink"

    def deliver(self, notification: Notification) -> None:
        return None


@dataclass
class Refusing:
    """Refuses everything, permanently (dead at once) or for now (retried later)."""

    name: str
    retryable: bool

    def deliver(self, notification: Notification) -> None:
        raise DeliveryError("refused", self.retryable)


class SteppingClock:
    """The recording instant at first, then `step` later at every call."""

    def __init__(self, step: float) -> None:
        self.start = RECORDED
        self.step = timedelta(seconds=step)
        self.calls = 0

    def __call__(self) -> datetime:
        moment = self.start + self.step * self.calls
        self.calls += 1
        return moment


# agent-d cannot be reached at all; urgent messages to agent-c fail and wait an hour for their retry.
ROUTER = Router(
    {"sink": Sink(), "void": Refusing("void", retryable=False), "flaky": Refusing("flaky", retryable=True)},
    [Route("void", recipient="agent-d"), Route("flaky", recipient="agent-c", priorities=("urgent",))],
    default="sink",
)


@dataclass
class Scenario:
    services: Services
    home: Path
    files: int = 0

    def feed(self, *lines: dict[str, Any] | str) -> None:
        path = self.home / f"alerts-{self.files}.jsonl"
        self.files += 1
        text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
        path.write_text(text, encoding="utf-8")
        self.services.coordinator.ingest(read_alerts(path))

    def deliver(self, step: float) -> None:
        retry = RetryPolicy(max_attempts=3, base_delay=timedelta(hours=1), max_delay=timedelta(hours=2))
        dispatcher = Dispatcher(
            self.services.ledger, ROUTER, self.services.coordinator.record_deliveries, retry,
            clock=SteppingClock(step), rng=random.Random(7),
        )
        dispatcher.drain()

    def views(self, name: str, page_size: int = 5_000) -> ProjectionRunner:
        return runner_at(self.services, self.home / name, [MetricsProjection()], page_size)

    @property
    def events(self) -> int:
        return self.services.ledger.max_notification_id() or 0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The story played once per store: the home's SQLite file, or a PostgreSQL server (read models there too)."""
    home = tmp_path_factory.mktemp("metrics")
    store = request.getfixturevalue("postgres_server").create_database() if request.param == "postgresql" else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", lambda: RECORDED)
        story = Scenario(build(Settings(home=home / "home", store=store)), home)
        story.services.ledger.clock = FixedClock()
        yield from _play(story)


class FixedClock:
    """The recording instant, always."""

    def now(self) -> datetime:
        return RECORDED

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.is_set()


def _play(story: Scenario) -> Iterator[Scenario]:
    # task-1 enters ORANGE by the crisis rule: 2 notifications at ORANGE, delivered after 20 s and 40 s.
    story.feed(
        {"type": "TASK_ASSIGNED", "task_id": "task-1", "agent_id": "agent-a", "deadline": stamp(12, 0),
         "timestamp": stamp(10, 0)},
        {"type": "COORDINATION_CRISIS", "task_id": "task-1", "agent_id": "agent-a", "escalation_level": "orange",
         "description": "stuck", "timestamp": stamp(10, 10)},
        '{"type": "TASK_ASSIGNED", broken',
    )
    story.deliver(step=20)
    # task-2 gets a deadline warning and enters YELLOW: 2 notifications at YELLOW, after 35 s and 70 s.
    story.feed({"type": "DEADLINE_WARNING", "task_id": "task-2", "agent_id": "agent-b", "time_remaining": "2 hours",
                "timestamp": stamp(10, 20)})
    story.deliver(step=35)
    # agent-c, silent for 1h 30m, enters RED: it holds no task, so only the unresponsive alert's 2 notifications
    # (the health check to agent-c and the PM's notice), delivered after 4 and 8 s.
    story.feed({"type": "AGENT_UNRESPONSIVE", "agent_id": "agent-c", "last_activity": stamp(9, 0),
                "unresponsive_duration": "90 minutes", "timestamp": stamp(10, 30)})
    story.deliver(step=4)
    # agent-d, silent for 3h 30m, enters EMERGENCY holding no task: 2 notifications; the one to agent-d is dead
    # at the first attempt, the PM's is delivered after 4 s.
    story.feed({"type": "AGENT_UNRESPONSIVE", "agent_id": "agent-d", "last_activity": stamp(7, 0),
                "unresponsive_duration": "3.5 hours", "timestamp": stamp(10, 30)})
    story.deliver(step=2)
    # agent-c is back, task-1 is done; time alone takes task-2 to ORANGE at 11:20 (deadline rule): 2
    # notifications at ORANGE, delivered after 25 s and 50 s.
    story.feed({"type": "AGENT_HEARTBEAT", "agent_id": "agent-c", "timestamp": stamp(10, 40)},
               {"type": "TASK_COMPLETED", "task_id": "task-1", "timestamp": stamp(10, 50)})
    story.services.coordinator.tick(datetime(2025, 7, 16, 11, 50, tzinfo=UTC))
    story.deliver(step=25)
    yield story
    story.services.close()


@pytest.fixture(scope="module")
def document(scenario: Scenario) -> Document:
    runner = scenario.views("views.sqlite")
    runner.catch_up()
    found = metrics(runner.db)
    runner.close()
    return found


def test_upward_level_changes_are_counted_by_kind_rule_level_and_emergency(document: Document) -> None:
    assert document["escalations"] == [
        {"kind": "agent", "rule": "silence", "level": "RED", "emergency": False, "count": 1},
        {"kind": "agent", "rule": "silence", "level": "RED", "emergency": True, "count": 1},
        {"kind": "task", "rule": "crisis", "level": "ORANGE", "emergency": False, "count": 1},
        {"kind": "task", "rule": "deadline", "level": "ORANGE", "emergency": False, "count": 1},
        {"kind": "task", "rule": "deadline_warning", "level": "YELLOW", "emergency": False, "count": 1},
    ]


def test_alerts_are_counted_by_type_with_unresponsive_agents_among_them(document: Document) -> None:
    assert document["alerts"] == [
        {"alert_type": "AGENT_UNRESPONSIVE", "count": 2},
        {"alert_type": "COORDINATION_CRISIS", "count": 1},
        {"alert_type": "DEADLINE_WARNING", "count": 1},
        {"alert_type": "TASK_ASSIGNED", "count": 1},
        {"alert_type": "TASK_COMPLETED", "count": 1},
    ]


def test_notifications_are_counted_by_delivery_status_with_the_success_rate(document: Document) -> None:
    assert document["notifications"] == {
        "requested": 10, "pending": 0, "delivered": 9, "failed": 0, "dead": 1, "success_rate": 0.9,
    }


def test_response_times_run_from_the_request_to_the_first_delivery_on_the_wall_clock(document: Document) -> None:
    timing = document["response_time"]
    # 4, 4, 8, 20, 25, 35, 40, 50, 70 seconds; p90 interpolates between 50 and 70.
    assert timing["count"] == 9
    assert timing["mean_seconds"] == pytest.approx(256 / 9, abs=1e-6)
    assert timing["p50_seconds"] == pytest.approx(25, abs=SLOP)
    assert timing["p90_seconds"] == pytest.approx(54, abs=SLOP)


def test_deliveries_later_than_their_levels_sla_are_counted_as_breaches(document: Document) -> None:
    # YELLOW 70 s > 60 s; ORANGE 40 s and 50 s > 30 s. RED's (4 s, 8 s) and EMERGENCY's (4 s) are in time.
    assert document["sla_breaches"] == {"YELLOW": 1, "ORANGE": 2, "RED": 0, "total": 3}


def test_agent_responsiveness_is_the_share_of_sightings_among_flags_and_sightings(document: Document) -> None:
    assert document["agent_responsiveness"] == [
        {"agent_id": "agent-a", "flagged": 0, "seen": 0, "rate": 1.0},
        {"agent_id": "agent-b", "flagged": 0, "seen": 0, "rate": 1.0},
        {"agent_id": "agent-c", "flagged": 1, "seen": 1, "rate": 0.5},
        {"agent_id": "agent-d", "flagged": 1, "seen": 0, "rate": 0.0},
    ]


def test_events_per_hour_add_up_to_every_event_recorded(scenario: Scenario, document: Document) -> None:
    assert document["events_processed"] == scenario.events
    assert sum(row["events"] for row in document["events_per_hour"]) == scenario.events
    for row in document["events_per_hour"]:
        assert datetime.strptime(row["hour"], "%Y-%m-%dT%H:00Z")


def test_the_document_is_plain_json(document: Document) -> None:
    assert json.loads(json.dumps(document)) == document


def test_a_rebuild_in_a_fresh_file_or_in_place_gives_the_same_document(scenario: Scenario, document: Document) -> None:
    fresh = scenario.views("fresh.sqlite")
    fresh.catch_up()
    assert metrics(fresh.db) == document
    fresh.rebuild(fresh.projections[0])
    assert metrics(fresh.db)["events_processed"] == 0
    fresh.catch_up()
    assert metrics(fresh.db) == document
    fresh.close()


def test_small_pages_give_the_same_document_as_one_page(scenario: Scenario, document: Document) -> None:
    paged = scenario.views("paged.sqlite", page_size=7)
    assert paged.catch_up() == scenario.events
    assert metrics(paged.db) == document
    paged.close()


def test_prometheus_text_parses_and_carries_the_documents_figures(document: Document) -> None:
    text = prometheus_text(document)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert all(name.startswith("coordinator_") for name, _ in samples)
    assert samples[("coordinator_events_processed_total", ())] == document["events_processed"]
    crisis = (("emergency", "false"), ("kind", "task"), ("level", "ORANGE"), ("rule", "crisis"))
    assert samples[("coordinator_escalations_total", crisis)] == 1
    emergency = (("emergency", "true"), ("kind", "agent"), ("level", "RED"), ("rule", "silence"))
    assert samples[("coordinator_escalations_total", emergency)] == 1
    assert samples[("coordinator_alerts_total", (("type", "AGENT_UNRESPONSIVE"),))] == 2
    assert samples[("coordinator_notifications_requested_total", ())] == 10
    for status, count in (("delivered", 9), ("failed", 0), ("dead", 1), ("pending", 0)):
        assert samples[("coordinator_notifications_total", (("status", status),))] == count
    for level, count in (("YELLOW", 1), ("ORANGE", 2), ("RED", 0)):
        assert samples[("coordinator_sla_breaches_total", (("level", level),))] == count
    assert samples[("coordinator_response_time_seconds_count", ())] == 9
    assert samples[("coordinator_response_time_seconds", (("quantile", "0.5"),))] == pytest.approx(25, abs=SLOP)
    assert samples[("coordinator_response_time_seconds", (("quantile", "0.9"),))] == pytest.approx(54, abs=SLOP)
    assert samples[("coordinator_agent_responsiveness_ratio", (("agent", "agent-c"),))] == 0.5
    assert prometheus_text(document) == text


def test_an_empty_store_gives_an_empty_document_and_valid_prometheus_text(tmp_path: Path) -> None:
    services = build(Settings(home=tmp_path / "home"))
    runner = ProjectionRunner(tmp_path / "v.sqlite", services.ledger, [MetricsProjection()])
    runner.catch_up()
    document = metrics(runner.db)
    assert document["events_processed"] == 0
    assert document["response_time"] == {"count": 0, "mean_seconds": None, "p50_seconds": None, "p90_seconds": None}
    assert document["notifications"]["success_rate"] is None
    assert document["sla_breaches"]["total"] == 0
    families = {family.name for family in text_string_to_metric_families(prometheus_text(document))}
    assert "coordinator_response_time_seconds" in families
    runner.close()
    services.close()


def test_events_stored_in_other_forms_are_read_through_their_decoded_state(tmp_path: Path) -> None:
    """Another UTC offset, an escalation from before events named their rule, a key that JSON escapes."""
    db = sqlite_utils.Database(tmp_path / "v.sqlite")
    projection = MetricsProjection()
    projection.create_tables(db)
    task = uuid4().hex
    key = 'task:say "hi"#3.0'
    states = [
        ("Registered", {"timestamp": "2025-07-16T12:30:00+02:00", "originator_topic": "domain.task:Task",
                        "task_id": 'say "hi"'}),
        ("Escalated", {"timestamp": "2025-07-16T10:31:00+00:00", "from_stage": "GREEN", "to_stage": "RED",
                       "at": "2025-07-16T10:31:00+00:00", "reason": "stuck"}),
        ("NotificationsRequested", {"timestamp": "2025-07-16T10:32:00.250000+00:00", "at": "2025-07-16T10:31:00Z",
                                    "notifications": [{"key": key, "recipient": "pm", "priority": "urgent",
                                                       "kind": "crisis", "message": "{\"key\":\"x\"}"}],
                                    "urgent": True}),
        ("NotificationDelivered", {"timestamp": "2025-07-16T10:32:20+00:00", "key": key, "channel": "file",
                                   "attempt": 1, "at": "2025-07-16T10:32:12.250000+00:00"}),
    ]
    records = [
        Record(number, task, number, f"domain.task:Task.{kind}", json.dumps(state).encode())
        for number, (kind, state) in enumerate(states, start=1)
    ]
    with db.atomic():
        projection.apply(db, records)
    document = metrics(db)
    assert document["events_per_hour"] == [{"hour": "2025-07-16T10:00Z", "events": 4}]
    assert document["escalations"] == [{"kind": "task", "rule": "unknown", "level": "RED", "emergency": False,
                                        "count": 1}]
    assert document["notifications"]["delivered"] == 1
    assert document["response_time"]["mean_seconds"] == 12.0
    assert document["sla_breaches"] == {"YELLOW": 0, "ORANGE": 0, "RED": 1, "total": 1}


# Health -------------------------------------------------------------------------------------------------------------


def test_health_reports_the_coordinators_indicators(scenario: Scenario, document: Document) -> None:
    projections = [StatusProjection(), MetricsProjection()]
    runner = runner_at(scenario.services, scenario.home / "health.sqlite", projections)
    runner.catch_up()
    report = health(
        runner.db,
        events_recorded=scenario.events,
        projection_lag=runner.lag(),
        quarantined=len(scenario.services.ledger.quarantined()),
        crises=len(tasks(runner.db, level="RED", status="open")),
        service={"pid": 4242, "started_at": "2025-07-16T10:00:00Z"},
        now=datetime(2025, 7, 16, 11, 30, tzinfo=UTC),
    )
    assert report == {
        "coordinator_status": "running",
        "pid": 4242,
        "uptime": 5400.0,
        "events_processed": scenario.events,
        "coordination_crises": 0,
        "deadline_warnings": 1,
        "responses_sent": 9,
        "avg_response_time": pytest.approx(document["response_time"]["mean_seconds"], abs=1e-3),
        "quarantined": 1,
        "projection_lag": 0,
    }
    runner.close()


def test_health_says_stopped_with_no_uptime_without_a_running_service(tmp_path: Path) -> None:
    report = health(
        sqlite_utils.Database(memory=True), events_recorded=0, projection_lag=0, quarantined=0, crises=0
    )
    assert report == {
        "coordinator_status": "stopped",
        "pid": None,
        "uptime": None,
        "events_processed": 0,
        "coordination_crises": 0,
        "deadline_warnings": 0,
        "responses_sent": 0,
        "avg_response_time": None,
        "quarantined": 0,
        "projection_lag": 0,
    }


def test_health_counts_uptime_from_the_services_start_and_reads_naive_times_as_utc() -> None:
    db = sqlite_utils.Database(memory=True)
    service = {"pid": 1, "started_at": "2025-07-16T10:00:00"}
    report = health(db, events_recorded=5, projection_lag=2, quarantined=0, crises=1, service=service,
                    now=datetime(2025, 7, 16, 10, 0, 30, tzinfo=UTC))
    assert (report["coordinator_status"], report["uptime"]) == ("running", 30.0)
    assert (report["events_processed"], report["projection_lag"], report["coordination_crises"]) == (5, 2, 1)
