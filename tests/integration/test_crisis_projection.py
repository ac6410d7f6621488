"""The crisis log read model against a real coordinator: episodes, their responses and timelines, statistics."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from adapters.alert_file import read_alerts
from adapters.channels.command import CommandSection
from app.records import instant, zulu
from cli.bootstrap import Services, build
from cli.settings import ChannelsConfig, Settings
from domain.notifications import fields_of
from projections.crisis import CrisisProjection
from projections.crisis_queries import crisis_log_lines, episodes, resolution_stats
from projections.runner import ProjectionRunner

PM = "pm-agent"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, tzinfo=UTC)


def stamp(hour: int, minute: int = 0) -> str:
    return at(hour, minute).isoformat().replace("+00:00", "Z")


def assigned(task: str, agent: str, when: str, deadline: str | None = None) -> dict[str, Any]:
    alert = {"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": when}
    return alert if deadline is None else {**alert, "deadline": deadline}


def crisis(task: str, agent: str, level: str, when: str, description: str = "blocked") -> dict[str, Any]:
    return {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent, "escalation_level": level,
            "description": description, "timestamp": when}


@dataclass
class Scenario:
    """A coordinator in a temporary home, fed JSON Lines files, projected into a views file on demand."""

    services: Services
    root: Path
    fed: int = 0
    runners: list[ProjectionRunner] = field(default_factory=list)

    def feed(self, *alerts: dict[str, Any]) -> None:
        self.fed += 1
        path = self.root / f"alerts-{self.fed}.jsonl"
        path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
        self.services.coordinator.ingest(read_alerts(path))

    def views(self, name: str = "views.sqlite", page_size: int = 5_000) -> sqlite_utils.Database:
        runner = ProjectionRunner(self.root / name, self.services.ledger, [CrisisProjection()],
                                  page_size=page_size)
        runner.catch_up()
        self.runners.append(runner)
        return runner.db

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
        self.services.close()


@pytest.fixture
def scenario(tmp_path: Path, store_url: str | None) -> Iterator[Scenario]:
    opened = Scenario(build(Settings(home=tmp_path / "home", store=store_url, backup_pool=["backup-agent"])),
                      tmp_path)
    yield opened
    opened.close()


def routes(episode: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["recipient"], r["priority"], r["kind"]) for r in episode["responses"]]


def test_a_deadline_crisis_that_becomes_an_emergency_and_is_resolved_is_one_episode_with_its_whole_response(
    scenario: Scenario,
) -> None:
    scenario.feed(assigned("task-1", "ada", stamp(10), deadline=stamp(12)))
    scenario.services.coordinator.tick(at(11, 50))
    scenario.services.coordinator.tick(at(12, 1))
    scenario.services.coordinator.tick(at(12, 20))
    scenario.services.coordinator.resolve("task-1", "alice", at(12, 30), "fixed")
    assert scenario.services.dispatcher().drain().delivered > 0

    [episode] = episodes(scenario.views())
    assert {key: episode[key] for key in ("task_id", "agent_id", "started_at", "severity", "ended_at", "end",
                                          "resolution_seconds", "acknowledged_by")} == {
        "task_id": "task-1", "agent_id": "ada", "started_at": stamp(11, 48), "severity": "EMERGENCY",
        "ended_at": stamp(12, 30), "end": "resolved", "resolution_seconds": 2520, "acknowledged_by": None,
    }
    assert episode["reason"] == "10% of the time left (12m 00s before the deadline)"
    assert episode["original_event"] == assigned("task-1", "ada", stamp(10), deadline=stamp(12))
    assert routes(episode) == [
        (PM, "urgent", "crisis"), ("ada", "urgent", "ping"),
        (PM, "urgent", "emergency"), ("backup-agent", "urgent", "assignment"), ("ada", "priority", "status_check"),
        (PM, "urgent", "repeat"),
    ]
    assert episode["responses"][0]["message"].startswith("🚨 URGENT: Coordination crisis for task-1 (agent ada) is RED")
    assert episode["responses"][2]["message"].startswith("🚨 EMERGENCY: task-1 (agent ada) is RED (EMERGENCY)")
    assert [r["at"] for r in episode["responses"]] == [stamp(11, 48)] * 2 + [stamp(12)] * 3 + [stamp(12, 20)]
    assert {r["status"] for r in episode["responses"]} == {"delivered"}
    assert all(instant(r["delivered_at"]) > at(12, 30) for r in episode["responses"])

    steps = episode["steps"]
    assert [step["step"] for step in steps] == [
        "escalation", "notification", "escalation", "notification", "reassigned", "notification", "resolved",
        *["delivery"] * 6,
    ]
    assert [instant(step["at"]) for step in steps] == sorted(instant(step["at"]) for step in steps)
    assert steps[2]["detail"]["to_stage"] == "EMERGENCY"
    assert steps[4]["detail"]["to_agent"] == "backup-agent"
    assert steps[6]["detail"]["by"] == "alice"
    assert steps[6]["detail"]["note"] == "fixed"


def test_a_red_crisis_alert_followed_by_a_green_one_ends_the_episode_de_escalated(scenario: Scenario) -> None:
    scenario.feed(assigned("task-2", "bob", stamp(10)), crisis("task-2", "bob", "red", stamp(10, 30)),
                  crisis("task-2", "bob", "green", stamp(10, 45), "unblocked"))
    scenario.feed({"type": "DEADLINE_WARNING", "task_id": "task-2", "agent_id": "bob", "time_remaining": "2 hours",
                   "timestamp": stamp(10, 45)})

    [episode] = episodes(scenario.views())
    assert (episode["started_at"], episode["severity"], episode["ended_at"], episode["end"]) == (
        stamp(10, 30), "RED", stamp(10, 45), "de-escalated")
    assert episode["resolution_seconds"] == 900
    assert episode["reason"] == "coordination crisis: red (blocked)"
    assert episode["original_event"] == crisis("task-2", "bob", "red", stamp(10, 30))
    assert routes(episode) == [(PM, "urgent", "crisis"), ("bob", "urgent", "ping")]
    assert {r["status"] for r in episode["responses"]} == {"pending"}
    steps = episode["steps"]
    assert [step["step"] for step in steps] == ["escalation", "notification", "alert", "de-escalated"]
    assert steps[2]["detail"]["alert"] == crisis("task-2", "bob", "green", stamp(10, 45), "unblocked")
    assert steps[-1]["detail"]["to_stage"] == "GREEN"


def test_an_acknowledgement_is_recorded_on_the_open_episode(scenario: Scenario) -> None:
    scenario.feed(crisis("task-3", "cy", "red", stamp(10, 30)))
    scenario.services.coordinator.acknowledge("task-3", "carol", at(10, 40))

    [episode] = episodes(scenario.views())
    assert (episode["acknowledged_by"], episode["acknowledged_at"]) == ("carol", stamp(10, 40))
    assert (episode["ended_at"], episode["end"], episode["resolution_seconds"]) == (None, None, None)
    assert episode["steps"][-1]["step"] == "acknowledged"
    assert episode["steps"][-1]["detail"]["by"] == "carol"


def test_two_crises_of_the_same_task_are_two_separate_episodes(scenario: Scenario) -> None:
    scenario.feed(crisis("task-4", "dee", "red", stamp(10)), crisis("task-4", "dee", "green", stamp(10, 10)),
                  crisis("task-4", "dee", "red", stamp(10, 20), "again"),
                  crisis("task-4", "dee", "green", stamp(10, 50)))

    first, second = episodes(scenario.views(), task="task-4")
    assert [(e["started_at"], e["ended_at"], e["resolution_seconds"]) for e in (first, second)] == [
        (stamp(10), stamp(10, 10), 600), (stamp(10, 20), stamp(10, 50), 1800)]
    assert second["original_event"]["description"] == "again"
    assert not {r["key"] for r in first["responses"]} & {r["key"] for r in second["responses"]}
    assert len(first["responses"]) == len(second["responses"]) == 2
    assert {step["step"] for step in first["steps"]}.isdisjoint({"acknowledged", "resolved"})
    assert [e["started_at"] for e in episodes(scenario.views(), since=at(10, 5))] == [stamp(10, 20)]
    assert [e["started_at"] for e in episodes(scenario.views(), until="2025-07-16T10:20:00+00:00")] == [
        stamp(10), stamp(10, 20)]
    assert episodes(scenario.views(), agent="someone-else") == []
    assert len(episodes(scenario.views(), agent="dee")) == 2


def test_notifications_decided_after_a_late_completion_still_belong_to_the_episode_they_answer(
    scenario: Scenario,
) -> None:
    scenario.feed(assigned("task-5", "eve", stamp(10), deadline=stamp(12)),
                  {"type": "TASK_COMPLETED", "task_id": "task-5", "timestamp": stamp(11, 55)})

    [episode] = episodes(scenario.views())
    assert (episode["started_at"], episode["ended_at"], episode["end"]) == (stamp(11, 48), stamp(11, 55), "resolved")
    assert routes(episode) == [(PM, "urgent", "crisis"), ("eve", "urgent", "ping")]


def test_crisis_log_lines_have_the_upstream_crisis_log_shape_with_task_agent_and_responses(
    scenario: Scenario,
) -> None:
    scenario.feed(crisis("task-6", "fay", "red", stamp(10)), crisis("task-6", "fay", "green", stamp(10, 25)),
                  crisis("task-7", "gus", "red", stamp(11)))
    scenario.services.dispatcher().drain()

    lines = list(crisis_log_lines(scenario.views()))
    assert [set(line) for line in lines] == [{
        "timestamp", "severity", "original_event", "coordinator_response", "resolution_time", "task_id", "agent_id",
        "responses"}] * 2
    closed, open_ = lines
    assert {key: closed[key] for key in ("timestamp", "severity", "resolution_time", "task_id", "agent_id")} == {
        "timestamp": stamp(10), "severity": "RED", "resolution_time": stamp(10, 25), "task_id": "task-6",
        "agent_id": "fay"}
    assert closed["original_event"] == crisis("task-6", "fay", "red", stamp(10))
    assert closed["coordinator_response"] == "PM notified (urgent), agent pinged; 2 of 2 delivered"
    assert [r["recipient"] for r in closed["responses"]] == [PM, "fay"]
    assert (open_["task_id"], open_["resolution_time"]) == ("task-7", None)
    assert json.loads(json.dumps(lines)) == lines


def test_resolution_statistics_are_the_count_mean_and_nearest_rank_percentiles_of_ended_episodes(
    scenario: Scenario,
) -> None:
    assert resolution_stats(scenario.views("empty.sqlite")) == {"count": 0, "mean": None, "p50": None, "p90": None}
    for task, minutes in (("task-a", 10), ("task-b", 20), ("task-c", 60)):
        scenario.feed(crisis(task, "hal", "red", stamp(10)), crisis(task, "hal", "green", stamp(10 + minutes // 60,
                                                                                                 minutes % 60)))
    scenario.feed(crisis("task-d", "hal", "red", stamp(13)))
    assert resolution_stats(scenario.views()) == {"count": 3, "mean": 1800, "p50": 1200, "p90": 3600}


def test_pages_of_seven_events_and_rebuilds_give_the_same_episodes_and_steps(scenario: Scenario) -> None:
    scenario.feed(assigned("task-1", "ada", stamp(10), deadline=stamp(12)),
                  crisis("task-2", "bob", "red", stamp(10, 30)), crisis("task-2", "bob", "green", stamp(10, 45)))
    scenario.services.coordinator.tick(at(12, 1))
    scenario.services.coordinator.acknowledge("task-1", "ivy", at(12, 5))
    scenario.feed({"type": "TASK_COMPLETED", "task_id": "task-1", "timestamp": stamp(12, 10)})
    scenario.services.dispatcher().drain()

    def tables(db: sqlite_utils.Database) -> list[list[tuple[Any, ...]]]:
        return [list(map(tuple, db.conn.execute(f"SELECT * FROM {table} ORDER BY 1")))
                for table in ("crisis_log", "crisis_steps")]

    whole = tables(scenario.views("whole.sqlite"))
    assert len(whole[0]) == 2
    assert tables(scenario.views("paged.sqlite", page_size=7)) == whole
    runner = ProjectionRunner(scenario.root / "whole.sqlite", scenario.services.ledger,
                              [CrisisProjection()])
    runner.rebuild(runner.projections[0])
    assert tables(runner.db) == [[], []]
    runner.catch_up()
    assert tables(runner.db) == whole
    runner.close()
    assert episodes(scenario.views("paged.sqlite")) == episodes(scenario.views("whole.sqlite"))


def test_a_delivery_that_fails_for_good_leaves_its_response_dead_with_the_error(tmp_path: Path) -> None:
    services = build(Settings(home=tmp_path / "home", default_channel="command",
                              channels=ChannelsConfig(command=CommandSection(argv=["false"])), max_attempts=1))
    scenario = Scenario(services, tmp_path)
    scenario.feed(crisis("task-8", "jo", "red", stamp(10)))
    assert services.dispatcher().drain().dead == 2

    [episode] = episodes(scenario.views())
    assert [(r["status"], r["delivered_at"], r["attempts"], r["channel"]) for r in episode["responses"]] == [
        ("dead", None, 1, "command")] * 2
    assert all(r["error"] for r in episode["responses"])
    [line] = crisis_log_lines(scenario.views())
    assert line["coordinator_response"] == "PM notified (urgent), agent pinged; 0 of 2 delivered, 2 dead"
    scenario.close()


def test_responses_to_levels_below_red_decided_with_the_crisis_are_not_part_of_it(scenario: Scenario) -> None:
    scenario.feed(assigned("task-9", "kim", stamp(10), deadline=stamp(12)))
    scenario.services.coordinator.tick(at(12, 5))

    [episode] = episodes(scenario.views())
    assert (episode["started_at"], episode["severity"]) == (stamp(11, 48), "EMERGENCY")
    assert routes(episode) == [(PM, "urgent", "crisis"), ("kim", "urgent", "ping"), (PM, "urgent", "emergency"),
                               ("backup-agent", "urgent", "assignment"), ("kim", "priority", "status_check")]


def test_each_step_shows_its_event_exactly_as_the_event_store_recorded_it(scenario: Scenario) -> None:
    scenario.feed(crisis("task-5", "eve", "red", stamp(10)), crisis("task-5", "eve", "orange", stamp(10, 5)))
    scenario.services.dispatcher().drain()

    [episode] = episodes(scenario.views())
    stored = scenario.services.ledger.select_records(0, 1000)
    recorded = {record.position: json.loads(record.state) for record in stored}
    assert {step["step"] for step in episode["steps"]} == {"escalation", "notification", "alert", "delivery"}
    # as recorded, its instants written as every command prints them (UTC with a `Z`) and an alert's fingerprint, left
    # out of the event as the digest of the alert it holds, filled in; a delivery step shows its own attempt among
    # those its batch of the delivery stream recorded
    for step in episode["steps"]:
        expected = zulu(recorded[step["seq"]])
        if step["step"] == "alert":
            assert expected["fingerprint"] is None
            canonical = json.dumps(expected["alert"], sort_keys=True, separators=(",", ":"))
            expected["fingerprint"] = hashlib.sha256(canonical.encode()).hexdigest()
        if step["step"] != "delivery":
            assert step["detail"] == expected
    deliveries = [step for step in episode["steps"] if step["step"] == "delivery"]
    assert all(step["detail"] in [fields_of(row) for row in zulu(recorded[step["seq"]]["attempts"])]
               for step in deliveries)
    requested = {told["key"] for step in episode["steps"] if step["step"] == "notification"
                 for told in recorded[step["seq"]]["notifications"]}
    assert sorted(step["detail"]["key"] for step in deliveries) == sorted(requested), "each attempt once"
    assert {step["clock"] for step in episode["steps"] if step["step"] == "delivery"} == {"wall"}
    assert {step["clock"] for step in episode["steps"] if step["step"] == "escalation"} == {"alert"}


def test_the_crisis_log_cannot_be_read_from_a_views_file_opened_without_its_event_store(scenario: Scenario) -> None:
    scenario.feed(crisis("task-6", "fay", "red", stamp(10)))
    scenario.views("alone.sqlite")

    with pytest.raises(TypeError, match="event store"):
        episodes(sqlite_utils.Database(scenario.root / "alone.sqlite"))


def test_a_crisis_brought_about_by_an_agents_silence_names_the_alert_that_said_it_went_silent(
    scenario: Scenario,
) -> None:
    silent = {"type": "AGENT_UNRESPONSIVE", "agent_id": "gus", "last_activity": stamp(8),
              "unresponsive_duration": "2 hours", "timestamp": stamp(10, 30)}
    scenario.feed(assigned("task-8", "gus", stamp(9)), silent)

    [line] = crisis_log_lines(scenario.views())
    assert line["task_id"] == "task-8"
    assert line["original_event"]["type"] == "AGENT_UNRESPONSIVE", "not the assignment that came before"
    assert line["original_event"]["timestamp"] == stamp(10, 30)


def test_the_silence_that_caused_a_crisis_is_found_across_pages_and_rebuilds(scenario: Scenario) -> None:
    scenario.feed(assigned("task-9", "hal", stamp(9)))
    scenario.feed({"type": "AGENT_UNRESPONSIVE", "agent_id": "hal", "last_activity": stamp(9),
                   "unresponsive_duration": "20 minutes", "timestamp": stamp(9, 20)})
    scenario.services.coordinator.tick(at(11))
    paged = list(crisis_log_lines(scenario.views("paged.sqlite", page_size=1)))
    whole = list(crisis_log_lines(scenario.views("whole.sqlite")))
    assert paged == whole
    assert [line["original_event"]["type"] for line in whole] == ["AGENT_UNRESPONSIVE"]
