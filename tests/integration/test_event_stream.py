"""The public event stream API against stores the real coordinator wrote: typed events, subscriptions, resuming
and following.

Alerts are written as JSON Lines files, ingested with the real reader, time is advanced with `tick` and
notifications are delivered with the real dispatcher; the services are closed before the stream is read, except
where a stream follows a store still being written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.alert_file import read_alerts
from adapters.event_stream import (
    Acknowledged,
    ActivitySeen,
    AlertReceived,
    CoordinationEvent,
    CoordinationEventConsumer,
    DeEscalated,
    DeliveryFailed,
    Escalated,
    NotificationDelivered,
    NotificationRequested,
    OtherEvent,
    Reassigned,
    Resolved,
)
from cli.bootstrap import build
from cli.settings import Settings
from tests.alert_builders import assigned, crisis, heartbeat, unresponsive, warning

PM = "pm-agent"
E = TypeVar("E", bound=CoordinationEvent)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, tzinfo=UTC)


def stamp(hour: int, minute: int = 0) -> str:
    return at(hour, minute).isoformat().replace("+00:00", "Z")












@dataclass
class Home:
    """A coordinator home directory, fed through the real application one session at a time."""

    path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    files: int = 0

    def feed(self, *alerts: dict[str, Any], tick: datetime | None = None) -> None:
        """Ingest `alerts` from a JSON Lines file, advance time to `tick`, deliver, and close everything."""
        alerts_file = self.path.parent / f"alerts-{self.files}.jsonl"
        self.files += 1
        alerts_file.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
        services = build(Settings(home=self.path, **self.settings))
        try:
            services.coordinator.ingest(read_alerts(alerts_file))
            if tick is not None:
                services.coordinator.tick(tick)
            services.dispatcher().drain()
        finally:
            services.close()

    def consumer(self, **options: Any) -> CoordinationEventConsumer:
        return CoordinationEventConsumer(home=self.path, store=self.settings.get("store"), **options)


@pytest.fixture
def home(tmp_path: Path, store_url: str | None) -> Home:
    """A home on either store (each test of the stream runs on both)."""
    return Home(tmp_path / "home", {"store": store_url})


def collect(consumer: CoordinationEventConsumer, after: int = 0) -> list[CoordinationEvent]:
    async def drain() -> list[CoordinationEvent]:
        return [event async for event in consumer.stream_events(after=after)]

    return asyncio.run(drain())


def only(events: Sequence[CoordinationEvent], kind: type[E], subject: str | None = None) -> list[E]:
    return [event for event in events if isinstance(event, kind) and subject in (None, event.subject)]


def test_a_crisis_alert_streams_as_a_typed_alert_an_escalation_to_red_and_a_delivered_urgent_pm_notification(
    home: Home,
) -> None:
    home.feed(assigned("task-1", "ada", stamp(10)), crisis("task-1", "ada", "red", stamp(10, 10)), tick=at(10, 15))

    events = collect(home.consumer())

    positions = [event.position for event in events]
    assert positions == sorted(positions) and positions[0] == 1
    alert = next(e for e in only(events, AlertReceived, "task-1") if e.alert_type == "COORDINATION_CRISIS")
    assert (alert.subject_kind, alert.agent_id, alert.at) == ("task", "ada", at(10, 10))
    assert alert.alert["description"] == "stuck" and alert.alert["escalation_level"] == "red"
    assert alert.recorded_at.tzinfo is not None
    [escalated] = only(events, Escalated, "task-1")
    assert (escalated.from_level, escalated.to_level, escalated.emergency) == ("GREEN", "RED", False)
    assert (escalated.rule, escalated.at, escalated.subject_kind) == ("crisis", at(10, 10), "task")
    assert "coordination crisis: red" in escalated.reason
    [to_pm] = [e for e in only(events, NotificationRequested, "task-1") if e.recipient == PM]
    assert to_pm.message.startswith("🚨 URGENT") and (to_pm.priority, to_pm.kind) == ("urgent", "crisis")
    [delivered] = [e for e in only(events, NotificationDelivered) if e.key == to_pm.key]
    assert (delivered.subject, delivered.channel, delivered.attempt) == ("task-1", "file", 1)
    assert alert.position < escalated.position < to_pm.position < delivered.position
    registered = only(events, OtherEvent)
    assert {(e.kind, e.subject_kind, e.subject) for e in registered} == {
        ("Registered", "task", "task-1"), ("Registered", "agent", "ada")
    }


def test_a_task_past_its_deadline_streams_emergency_reassignment_acknowledgement_resolution_and_dead_letters(
    home: Home,
) -> None:
    home.settings = {
        "backup_pool": ["backup-agent"],
        "channels": {"command": {"argv": ["/nonexistent/notify-program", "{message}"]}},
        "routes": [{"recipient": "ada", "channel": "command"}],
    }
    home.feed(assigned("task-1", "ada", stamp(10), deadline=stamp(11)), tick=at(11, 5))
    services = build(Settings(home=home.path, **home.settings))
    try:
        services.coordinator.acknowledge("task-1", "lead", at(11, 10))
        services.coordinator.resolve("task-1", "lead", at(11, 20), note="shipped by backup")
    finally:
        services.close()

    events = collect(home.consumer())

    levels = [(e.to_level, e.emergency) for e in only(events, Escalated, "task-1")]
    assert levels[-1] == ("RED", True) and ("RED", False) in levels
    assert only(events, Escalated, "task-1")[-1].from_emergency is False
    [reassigned] = only(events, Reassigned, "task-1")
    assert (reassigned.from_agent, reassigned.to_agent) == ("ada", "backup-agent")
    [acknowledged] = only(events, Acknowledged, "task-1")
    assert (acknowledged.by, acknowledged.at) == ("lead", at(11, 10))
    [resolved] = only(events, Resolved, "task-1")
    assert (resolved.by, resolved.note, resolved.at) == ("lead", "shipped by backup", at(11, 20))
    failures = only(events, DeliveryFailed, "task-1")
    assert failures and all(f.dead and f.channel == "command" and f.retry_at is None for f in failures)
    assert "program not found" in failures[0].error
    to_ada = {e.key for e in only(events, NotificationRequested, "task-1") if e.recipient == "ada"}
    assert {f.key for f in failures} == to_ada
    assert reassigned.position < acknowledged.position < resolved.position


def test_agent_alerts_stream_as_agent_events_an_unresponsive_alert_and_the_activity_that_clears_it(
    home: Home,
) -> None:
    home.feed(unresponsive("bob", stamp(9), stamp(10, 5)), heartbeat("bob", stamp(10, 20)))

    events = collect(home.consumer())

    [silent] = only(events, AlertReceived, "bob")
    assert (silent.subject_kind, silent.alert_type, silent.agent_id) == ("agent", "AGENT_UNRESPONSIVE", "bob")
    assert silent.alert["last_activity"] == stamp(9)
    [seen] = only(events, ActivitySeen, "bob")
    assert (seen.subject_kind, seen.at) == ("agent", at(10, 20))
    [up] = only(events, Escalated, "bob")
    [down] = only(events, DeEscalated, "bob")
    assert (up.to_level, down.from_level, down.to_level) == ("RED", "RED", "GREEN")
    assert silent.position < up.position < seen.position < down.position


def test_every_alert_on_the_stream_carries_the_fingerprint_of_the_record_as_written(home: Home) -> None:
    records = [
        assigned("task-1", "ada", stamp(10)),
        heartbeat("ada", stamp(10, 5)),
        {**heartbeat("ada", stamp(10, 6)), "note": "busy"},
        heartbeat("ada", "2025-07-16T10:07:00+00:00"),
        heartbeat("ada", stamp(10, 1)),  # older than what the agent last recorded: applied at that later time
        {**heartbeat("ada", stamp(10, 8)), "type": "agent_heartbeat"},
        unresponsive("bob", stamp(9), stamp(10, 8)),
    ]
    for record in records:  # each read on its own, as a service following the file reads a line written alone
        home.feed(record)

    events = collect(home.consumer())

    streamed = sorted(event.fingerprint for event in events if isinstance(event, AlertReceived | ActivitySeen))
    written = sorted(digest(record) for record in records)
    assert streamed == written


def digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_heartbeats_read_together_are_one_sighting_on_the_stream_counting_them_all(home: Home) -> None:
    beats = [heartbeat("ada", stamp(10, minute)) for minute in (1, 2, 3)]
    home.feed(assigned("task-1", "ada", stamp(10)), *beats, heartbeat("bob", stamp(10, 4)),
              heartbeat("ada", stamp(10, 5)))

    seen = [event for event in collect(home.consumer()) if isinstance(event, ActivitySeen)]

    ada = [(event.sightings, event.first_at, event.at, event.fingerprint) for event in seen if event.subject == "ada"]
    assert ada == [(4, datetime.fromisoformat(stamp(10, 1)), datetime.fromisoformat(stamp(10, 5)),
                    digest(heartbeat("ada", stamp(10, 5))))]
    assert [(event.subject, event.sightings, event.first_at) for event in seen if event.subject == "bob"] == [
        ("bob", 1, None)]


def test_subscribers_get_only_what_they_asked_for_async_handlers_are_awaited_and_all_run_before_the_yield(
    home: Home,
) -> None:
    home.feed(
        assigned("task-1", "ada", stamp(10)),
        crisis("task-1", "ada", "red", stamp(10, 10)),
        warning("task-2", "bob", "30 minutes", stamp(10, 15)),
        crisis("task-3", "cy", "orange", stamp(10, 20)),
        unresponsive("dee", stamp(9), stamp(10, 25)),
    )
    consumer = home.consumer()
    crises: list[CoordinationEvent] = []
    escalations: list[CoordinationEvent] = []
    silences: list[CoordinationEvent] = []
    everything: list[CoordinationEvent] = []

    async def on_escalation(event: CoordinationEvent) -> None:
        await asyncio.sleep(0)
        escalations.append(event)

    consumer.subscribe("COORDINATION_CRISIS", crises.append)
    consumer.subscribe("Escalated", on_escalation)
    consumer.subscribe("AgentUnresponsive", silences.append)
    consumer.subscribe("*", everything.append)

    async def stream() -> list[CoordinationEvent]:
        yielded: list[CoordinationEvent] = []
        async for event in consumer.stream_events():
            assert everything and everything[-1] is event
            if isinstance(event, Escalated):
                assert escalations[-1] is event
            yielded.append(event)
        return yielded

    yielded = asyncio.run(stream())

    assert everything == yielded
    assert all(isinstance(e, AlertReceived) and e.alert_type == "COORDINATION_CRISIS" for e in crises)
    assert [e.subject for e in crises] == ["task-1", "task-3"]
    assert escalations == only(yielded, Escalated) and len(escalations) >= 3
    assert [(e.subject, e.subject_kind) for e in silences] == [("dee", "agent")]


def test_a_handler_matched_by_several_names_runs_once_per_event_and_an_unknown_name_is_refused(home: Home) -> None:
    home.feed(crisis("task-1", "ada", "red", stamp(10)))
    consumer = home.consumer()
    calls: list[CoordinationEvent] = []
    consumer.subscribe("COORDINATION_CRISIS", calls.append)
    consumer.subscribe("AlertReceived", calls.append)

    collect(consumer)

    assert len(calls) == 1
    with pytest.raises(ValueError, match="COORDINATION_CRISES"):
        consumer.subscribe("COORDINATION_CRISES", calls.append)


def test_run_drains_with_the_handlers_and_returns_the_last_position_or_the_given_one_when_nothing_is_new(
    home: Home,
) -> None:
    home.feed(crisis("task-1", "ada", "red", stamp(10)))
    consumer = home.consumer()
    seen: list[CoordinationEvent] = []
    consumer.subscribe("*", seen.append)

    last = asyncio.run(consumer.run())

    assert seen and last == seen[-1].position == consumer.latest_position()
    assert asyncio.run(consumer.run(after=last)) == last
    assert len(seen) == len(collect(home.consumer()))


def test_resuming_after_the_last_position_yields_only_the_events_recorded_since(home: Home) -> None:
    home.feed(crisis("task-1", "ada", "red", stamp(10)))
    first = collect(home.consumer())
    last = first[-1].position

    home.feed(crisis("task-2", "bob", "orange", stamp(10, 30)), crisis("task-1", "ada", "red", stamp(10)))
    resumed = collect(home.consumer(), after=last)

    assert resumed and all(event.position > last for event in resumed)
    assert {e.subject for e in only(resumed, AlertReceived)} == {"task-2"}
    assert [(e.subject, e.to_level) for e in only(resumed, Escalated)] == [("task-2", "ORANGE")]
    assert collect(home.consumer(), after=resumed[-1].position) == []


def test_following_the_stream_sees_an_event_written_after_it_started(home: Home) -> None:
    home.feed(crisis("task-1", "ada", "red", stamp(10)))
    consumer = home.consumer()
    start = consumer.latest_position()

    async def follow() -> list[CoordinationEvent]:
        async def write_later() -> None:
            await asyncio.sleep(0.1)
            await asyncio.to_thread(home.feed, crisis("task-9", "zed", "red", stamp(11)))

        writer = asyncio.create_task(write_later())
        seen: list[CoordinationEvent] = []
        async with aclosing(consumer.stream_events(after=start, follow=True, poll_interval=0.02)) as stream:
            async for event in stream:
                seen.append(event)
                if isinstance(event, AlertReceived) and event.subject == "task-9":
                    break
        await writer
        return seen

    seen = asyncio.run(asyncio.wait_for(follow(), timeout=20))

    assert all(event.position > start for event in seen)
    assert seen[-1].subject == "task-9" and isinstance(seen[-1], AlertReceived)
    assert seen[-1].alert_type == "COORDINATION_CRISIS"


def test_subject_names_stay_right_when_the_subject_cache_holds_a_single_entry(home: Home) -> None:
    home.feed(
        *(crisis(f"task-{n}", f"agent-{n}", "red", stamp(10, n)) for n in range(5)),
        *(crisis(f"task-{n}", f"agent-{n}", "orange", stamp(11, n)) for n in range(5)),
    )

    tiny = [(e.position, e.subject_kind, e.subject) for e in collect(home.consumer(subject_cache_size=1))]
    roomy = [(e.position, e.subject_kind, e.subject) for e in collect(home.consumer())]

    assert tiny == roomy
    assert {subject for _, kind, subject in tiny if kind == "task"} == {f"task-{n}" for n in range(5)}
    assert {subject for _, kind, subject in tiny if kind == "agent"} == {f"agent-{n}" for n in range(5)}


def test_a_missing_store_raises_file_not_found_naming_its_path_and_creates_nothing(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    consumer = CoordinationEventConsumer(home=str(nowhere))

    with pytest.raises(FileNotFoundError, match=re.escape(str(nowhere / "events.sqlite"))):
        collect(consumer)
    with pytest.raises(FileNotFoundError, match=re.escape(str(nowhere / "events.sqlite"))):
        asyncio.run(consumer.run())
    assert not nowhere.exists()


def test_the_home_defaults_to_coordinator_home_and_then_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_HOME", str(tmp_path / "elsewhere"))
    assert CoordinationEventConsumer().store_path == tmp_path / "elsewhere" / "events.sqlite"
    monkeypatch.delenv("COORDINATOR_HOME")
    assert CoordinationEventConsumer().store_path == Path(".coordinator") / "events.sqlite"
