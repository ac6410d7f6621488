"""Event schema evolution and projection versions: old events still replay and rebuild; a schema change
rebuilds only the projection that changed."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from adapters.alert_file import read_alerts
from adapters.state_packing import unpack
from cli.bootstrap import build
from cli.settings import Settings
from domain.task import FACTS, Task
from projections.runner import ProjectionRunner
from projections.status import StatusProjection

ALERTS = [
    {"type": "TASK_ASSIGNED", "task_id": "task-1", "agent_id": "ada", "deadline": "2025-07-16T12:00:00Z",
     "timestamp": "2025-07-16T10:00:00Z"},
    {"type": "COORDINATION_CRISIS", "task_id": "task-1", "agent_id": "ada", "escalation_level": "orange",
     "description": "stuck", "timestamp": "2025-07-16T10:30:00Z"},
    {"type": "TASK_COMPLETED", "task_id": "task-1", "timestamp": "2025-07-16T11:00:00Z"},
]


def store_with_alerts(tmp_path: Path) -> Path:
    source = tmp_path / "alerts.jsonl"
    source.write_text("".join(json.dumps(alert) + "\n" for alert in ALERTS), encoding="utf-8")
    home = tmp_path / "home"
    services = build(Settings(home=home))
    services.coordinator.ingest(read_alerts(source))
    services.close()
    return home


def downgrade_to_version_1(home: Path) -> int:
    """Rewrite the stored events as the first version of their classes wrote them (an alert then recorded every
    fact of its task, not only those it changed)."""
    changed = 0
    facts: dict[str, dict[str, object]] = {}
    with sqlite3.connect(home / "events.sqlite") as db:
        rows = db.execute("SELECT rowid, originator_id, state FROM stored_events ORDER BY rowid").fetchall()
        for rowid, originator_id, state in rows:
            fields = json.loads(unpack(state))
            if fields.pop("class_version", 1) == 1:
                continue
            if "changes" in fields:
                known = facts.setdefault(originator_id, {name: None for name in FACTS} | {"milestone_failing": False})
                known.update(fields.pop("changes"))
                fields.update(known)
            for newer in ("alert_at", "rule", "by", "note"):
                fields.pop(newer, None)
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (json.dumps(fields).encode(), rowid))
            changed += 1
    return changed


def test_version_1_events_replay_into_the_current_aggregate(tmp_path: Path) -> None:
    home = store_with_alerts(tmp_path)
    current = build(Settings(home=home))
    expected = current.coordinator.get_task("task-1")
    current.close()
    assert downgrade_to_version_1(home) >= 4, "alerts, escalations and the resolution were all version 2"

    services = build(Settings(home=home))
    replayed = services.coordinator.get_task("task-1")
    stored = list(services.coordinator.repository.event_store.get(Task.id_for("task-1")))
    services.close()
    assert replayed.history == expected.history
    assert (replayed.stage, replayed.status, replayed.resolved_by) == (expected.stage, "completed", None)
    received = [event for event in stored if isinstance(event, Task.AlertReceived)]
    assert [event.alert_at for event in received] == [event.at for event in received]
    escalations = [event for event in stored if isinstance(event, Task.Escalated)]
    assert escalations and {event.rule for event in escalations} == {"unknown"}


def test_version_1_events_rebuild_the_read_models(tmp_path: Path) -> None:
    home = store_with_alerts(tmp_path)
    downgrade_to_version_1(home)
    services = build(Settings(home=home))
    views = ProjectionRunner(tmp_path / "fresh-views.sqlite", services.coordinator.recorder, [StatusProjection()])
    views.catch_up()
    row = views.db.execute("SELECT level, status, agent_id, deadline FROM task_status WHERE task_id = 'task-1'")
    assert row.fetchone() == ("GREEN", "completed", "ada", "2025-07-16T12:00:00Z")
    views.close()
    services.close()


class StatusProjectionV99(StatusProjection):
    """The same projection after a schema change."""

    version = 99


class Untouched(StatusProjection):
    """A second projection that must be left alone when another one's schema changes."""

    name = "untouched"
    tables = ("untouched_tasks", "untouched_agents")

    def create_tables(self, db: object) -> None:  # type: ignore[override]
        db["untouched_tasks"].create({"id": str}, pk="id", if_not_exists=True)  # type: ignore[index]
        db["untouched_agents"].create({"id": str}, pk="id", if_not_exists=True)  # type: ignore[index]

    def apply(self, db: object, records: object) -> None:  # type: ignore[override]
        db["untouched_tasks"].insert({"id": f"page-{datetime.now(UTC).timestamp()}"})  # type: ignore[index]


def test_a_projection_whose_version_changed_is_dropped_and_rebuilt_and_no_other_is_touched(tmp_path: Path) -> None:
    home = store_with_alerts(tmp_path)
    services = build(Settings(home=home))
    path = tmp_path / "views.sqlite"
    first = ProjectionRunner(path, services.coordinator.recorder, [StatusProjection(), Untouched()])
    first.catch_up()
    untouched_before = first.db.execute("SELECT id FROM untouched_tasks").fetchall()
    first.db.execute("UPDATE task_status SET level = 'TAMPERED'")
    first.db.conn.commit()
    first.close()

    second = ProjectionRunner(path, services.coordinator.recorder, [StatusProjectionV99(), Untouched()])
    assert second.reset == ["status"]
    assert second.position(StatusProjectionV99()) == 0
    second.catch_up()
    assert second.db.execute("SELECT level FROM task_status").fetchall() == [("GREEN",)]
    assert second.db.execute("SELECT id FROM untouched_tasks").fetchall() == untouched_before
    assert {row["name"]: row["version"] for row in second.status()} == {"status": 99, "untouched": Untouched.version}
    second.close()
    services.close()
