"""The status read model takes a task's agent, deadline and time from its alert events, whatever the alert says."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlite_utils

from app.records import Record
from projections.status import StatusProjection

TASK = "0" * 31 + "1"


def stored(number: int, kind: str, **fields: Any) -> Record:
    state = json.dumps({"timestamp": "2025-07-16T09:00:00+00:00", **fields}, separators=(",", ":"),
                       ensure_ascii=False)
    return Record(number, TASK, number, f"domain.task:Task.{kind}", state.encode())


def alert(raw: dict[str, Any], agent: str | None, deadline: str | None, note: str = "", version: int = 3,
          number: int = 2, changes: dict[str, Any] | None = None) -> Record:
    """An alert event as version `version` stored it (3: only the facts it changed, after the agent; `changes`
    gives them outright)."""
    fields: dict[str, Any] = {
        "at": "2025-07-16T10:00:00+00:00", "alert_at": "2025-07-16T10:00:00+00:00", "alert_type": raw["type"],
        "fingerprint": "f" * 64, "alert": raw, "agent_id": agent,
    }
    facts = {"start": None, "deadline": deadline, "warned_at": None, "crisis": None, "crisis_note": note,
             "milestone_failing": False}
    if version == 3:
        fields["changes"] = changes if changes is not None else {
            name: value for name, value in facts.items() if value or name == "deadline"}
    else:
        fields.update(facts)
    if version == 1:
        del fields["alert_at"]
    return stored(number, "AlertReceived", **fields, **({"class_version": version} if version > 1 else {}))


def standing(event: Record) -> tuple[Any, ...]:
    db = sqlite_utils.Database(memory=True)
    projection = StatusProjection()
    projection.create_tables(db)
    projection.apply(db, [stored(1, "Registered", originator_topic="domain.task:Task", task_id="task-1"), event])
    return tuple(db.execute("SELECT agent_id, deadline, updated_at FROM task_status").fetchone())


@pytest.mark.parametrize("event", [
    alert({"type": "TASK_ASSIGNED", "agent_id": "someone-else", "deadline": "2030-01-01T00:00:00Z",
           "at": "2030-01-01T00:00:00Z"}, "ada", "2025-07-16T12:00:00+00:00"),
    alert({"type": "TASK_ASSIGNED", "note": "{\"agent_id\":\"x\"}"}, "ada", "2025-07-16T12:00:00+00:00",
          note='braces } and ,"deadline":"2030" in a note'),
    alert({"type": "TASK_ASSIGNED", "changes": {"deadline": "2030"}}, "ada", "2025-07-16T12:00:00+00:00",
          note='a note with ,"changes":{ in it'),
    alert({"type": "TASK_ASSIGNED"}, "ada", "2025-07-16T12:00:00+00:00", version=2),
    alert({"type": "TASK_ASSIGNED"}, "ada", "2025-07-16T12:00:00+00:00", version=1),
])
def test_an_alert_gives_the_task_the_agent_and_deadline_the_event_names_not_those_inside_the_raw_alert(
    event: Record,
) -> None:
    assert standing(event) == ("ada", "2025-07-16T12:00:00Z", "2025-07-16T10:00:00Z")


def test_an_alert_without_a_deadline_or_with_quotes_in_the_agent_name_is_shown_as_recorded() -> None:
    assert standing(alert({"type": "TASK_ASSIGNED"}, 'a "quoted" agent', None)) == (
        'a "quoted" agent', None, "2025-07-16T10:00:00Z")
    assert standing(alert({"type": "TASK_ASSIGNED"}, None, None)) == (None, None, "2025-07-16T10:00:00Z")


def test_an_alert_that_changed_no_deadline_leaves_the_one_an_earlier_alert_set() -> None:
    db = sqlite_utils.Database(memory=True)
    projection = StatusProjection()
    projection.create_tables(db)
    later = alert({"type": "AGENT_HEARTBEAT"}, "ada", None, number=3, changes={})
    projection.apply(db, [stored(1, "Registered", originator_topic="domain.task:Task", task_id="task-1"),
                          alert({"type": "TASK_ASSIGNED"}, "ada", "2025-07-16T12:00:00+00:00"), later])
    assert db.execute("SELECT deadline FROM task_status").fetchone() == ("2025-07-16T12:00:00Z",)
