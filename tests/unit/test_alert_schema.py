from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.alert_schema import AlertRejected, to_alert
from domain.alert_types.registry import names_agent_active
from domain.alerts import MILESTONE_PREFIX, AlertType
from domain.stages import Stage

T = "2025-07-16T19:03:54Z"
MOMENT = datetime(2025, 7, 16, 19, 3, 54, tzinfo=UTC)


def crisis(**changes: Any) -> dict[str, Any]:
    item = {"type": "COORDINATION_CRISIS", "task_id": "task-1", "agent_id": "agent-1",
            "escalation_level": "red", "description": "Agent unresponsive for task", "timestamp": T}
    item.update(changes)
    return item


def rejection(raw: Any) -> str:
    with pytest.raises(AlertRejected) as caught:
        to_alert(raw, "alerts.json", 3)
    return caught.value.reason


def test_a_coordination_crisis_becomes_a_crisis_alert_at_its_stage() -> None:
    alert = to_alert(crisis(escalation_level="Orange"), "alerts.json", 7)
    assert alert.type is AlertType.COORDINATION_CRISIS
    assert (alert.task_id, alert.agent_id) == ("task-1", "agent-1")
    assert alert.crisis_stage is Stage.ORANGE
    assert alert.note == "Agent unresponsive for task"
    assert alert.timestamp == MOMENT
    assert (alert.source, alert.line) == ("alerts.json", 7)


def test_a_deadline_warning_carries_the_time_remaining() -> None:
    alert = to_alert({"type": "DEADLINE_WARNING", "task_id": "task-1", "agent_id": "agent-1",
                      "time_remaining": "30 minutes", "timestamp": T}, "s", 1)
    assert alert.type is AlertType.DEADLINE_WARNING
    assert (alert.task_id, alert.agent_id) == ("task-1", "agent-1")
    assert alert.time_remaining == timedelta(minutes=30)


def test_an_unresponsive_agent_alert_carries_the_last_activity() -> None:
    alert = to_alert({"type": "AGENT_UNRESPONSIVE", "agent_id": "agent-2", "last_activity": "2025-07-16T18:03:54Z",
                      "unresponsive_duration": "1.0 hours", "timestamp": T}, "s", 1)
    assert alert.type is AlertType.AGENT_UNRESPONSIVE
    assert (alert.task_id, alert.agent_id) == (None, "agent-2")
    assert alert.last_activity == datetime(2025, 7, 16, 18, 3, 54, tzinfo=UTC)


def test_a_reassignment_puts_the_new_agent_in_charge_and_remembers_the_old_one() -> None:
    alert = to_alert({"type": "TASK_REASSIGNMENT", "task_id": "task-1", "old_agent": "agent-1",
                      "new_agent": "agent-9", "reason": "Agent unresponsive", "timestamp": T}, "s", 1)
    assert alert.type is AlertType.TASK_REASSIGNMENT
    assert (alert.task_id, alert.agent_id, alert.old_agent) == ("task-1", "agent-9", "agent-1")
    assert alert.note == "Agent unresponsive"
    assert names_agent_active(alert)


def test_a_milestone_becomes_a_milestone_task_for_its_assigned_agent_with_its_blockers() -> None:
    alert = to_alert({"type": "PHASE1_MILESTONE", "milestone": "PR #12 XP Quality Gate", "status": "failing",
                      "blocking_issues": ["import errors", "test failures"], "assigned_agent": "agent-3",
                      "timestamp": T}, "s", 1)
    assert alert.type is AlertType.PHASE1_MILESTONE
    assert alert.task_id == MILESTONE_PREFIX + "PR #12 XP Quality Gate"
    assert alert.agent_id == "agent-3"
    assert alert.milestone_status == "failing"
    assert alert.note == "blocking: import errors, test failures"


def test_a_milestone_without_blockers_has_no_note() -> None:
    alert = to_alert({"type": "PHASE1_MILESTONE", "milestone": "M1", "status": "passing",
                      "assigned_agent": "agent-3", "timestamp": T}, "s", 1)
    assert alert.note is None
    assert alert.milestone_status == "passing"


def test_a_task_assignment_carries_its_deadline_when_given() -> None:
    with_deadline = to_alert({"type": "TASK_ASSIGNED", "task_id": "task-1", "agent_id": "agent-1",
                              "deadline": "2025-07-17T00:00:00+02:00", "timestamp": T}, "s", 1)
    without = to_alert({"type": "TASK_ASSIGNED", "task_id": "task-1", "agent_id": "agent-1", "timestamp": T}, "s", 1)
    assert with_deadline.deadline == datetime(2025, 7, 16, 22, 0, tzinfo=UTC)
    assert without.deadline is None
    assert with_deadline.type is AlertType.TASK_ASSIGNED
    assert names_agent_active(with_deadline)


def test_a_task_completion_and_a_heartbeat_are_understood() -> None:
    done = to_alert({"type": "TASK_COMPLETED", "task_id": "task-1", "timestamp": T}, "s", 1)
    beat = to_alert({"type": "AGENT_HEARTBEAT", "agent_id": "agent-1", "timestamp": T}, "s", 1)
    assert (done.type, done.task_id, done.agent_id) == (AlertType.TASK_COMPLETED, "task-1", None)
    assert (beat.type, beat.task_id, beat.agent_id) == (AlertType.AGENT_HEARTBEAT, None, "agent-1")


def test_the_alert_type_is_accepted_in_any_case() -> None:
    assert to_alert(crisis(type="coordination_crisis"), "s", 1).type is AlertType.COORDINATION_CRISIS
    assert to_alert(crisis(type="Coordination_Crisis"), "s", 1).crisis_stage is Stage.RED


def test_extra_fields_are_kept_in_the_raw_item() -> None:
    raw = crisis(overdue_hours=9.99e-05, severity="CRITICAL")
    alert = to_alert(raw, "s", 1)
    assert alert.raw["overdue_hours"] == 9.99e-05
    assert alert.raw["severity"] == "CRITICAL"


def test_the_same_content_has_the_same_fingerprint_whatever_the_key_order() -> None:
    forward = crisis()
    backward = dict(reversed(list(crisis().items())))
    assert list(forward) != list(backward)
    assert to_alert(forward, "a", 1).fingerprint == to_alert(backward, "b", 99).fingerprint


def test_different_content_has_a_different_fingerprint() -> None:
    assert to_alert(crisis(), "s", 1).fingerprint != to_alert(crisis(task_id="task-2"), "s", 1).fingerprint
    assert len(to_alert(crisis(), "s", 1).fingerprint) == 64


def test_an_alert_with_text_that_is_not_ascii_is_fingerprinted() -> None:
    assert to_alert(crisis(description="Überfällig ⏰"), "s", 1).fingerprint


def test_an_alert_with_text_that_is_not_even_valid_unicode_is_refused_naming_the_field() -> None:
    assert rejection(crisis(description="half a pair \ud800")).startswith("field 'description': lone surrogate")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (crisis(timestamp="2025-07-16T21:44:26.3NZ"),
         "field 'timestamp': invalid timestamp '2025-07-16T21:44:26.3NZ' (expected ISO 8601)"),
        (crisis(escalation_level="purple"),
         "field 'escalation_level': 'purple' is not one of red, orange, yellow, green"),
        ({k: v for k, v in crisis().items() if k != "task_id"}, "missing field 'task_id'"),
        ({"type": "COORDINATION_CRISIS", "timestamp": T},
         "missing fields 'task_id', 'agent_id', 'escalation_level'"),
        ({"type": "NO_SUCH_TYPE", "timestamp": T}, "unknown alert type 'NO_SUCH_TYPE'"),
        ({"task_id": "task-1"}, "missing field 'type'"),
        ({"alert_type": "PM_AGENT_ALERT_HIGH", "event_type": "coordination_alert", "timestamp": T},
         "missing field 'type' (found alert_type 'PM_AGENT_ALERT_HIGH', not a supported alert type)"),
        ({"event_type": "completion", "timestamp": T},
         "missing field 'type' (found event_type 'completion', not a supported alert type)"),
        ([1, 2, 3], "expected a JSON object, got array"),
        ("COORDINATION_CRISIS", "expected a JSON object, got string"),
        (None, "expected a JSON object, got null"),
        (crisis(type=7), "field 'type': expected a string, got number"),
        (crisis(task_id=""), "field 'task_id': must not be empty"),
        (crisis(agent_id="   "), "field 'agent_id': must not be empty"),
        (crisis(agent_id=42), "field 'agent_id': expected a string, got number"),
        (crisis(timestamp=1752702616), "field 'timestamp': expected an ISO 8601 timestamp string, got number"),
        (crisis(escalation_level=None), "field 'escalation_level': None is not one of red, orange, yellow, green "
                                        "(got null)"),
        (crisis(description=["x"]), "field 'description': expected a string, got array"),
    ],
)
def test_a_rejection_names_the_field_and_the_problem(raw: Any, reason: str) -> None:
    assert rejection(raw) == reason


def test_a_duration_that_is_not_a_duration_is_rejected_naming_the_field() -> None:
    reason = rejection({"type": "DEADLINE_WARNING", "task_id": "t", "agent_id": "a", "time_remaining": "soon",
                        "timestamp": T})
    assert reason.startswith("field 'time_remaining': invalid duration 'soon'")


def test_every_problem_of_an_item_is_reported_in_one_line() -> None:
    reason = rejection({"type": "DEADLINE_WARNING", "task_id": "task-1", "time_remaining": "soon", "timestamp": T})
    assert reason.startswith("missing field 'agent_id'; field 'time_remaining': invalid duration 'soon'")
    assert "\n" not in reason


def test_a_blocking_issue_that_is_not_text_is_rejected_with_its_position() -> None:
    reason = rejection({"type": "PHASE1_MILESTONE", "milestone": "M", "status": "failing",
                        "blocking_issues": ["ok", 3], "assigned_agent": "a", "timestamp": T})
    assert reason == "field 'blocking_issues': item 1 is not a string but number"


def test_a_supported_type_given_only_as_alert_type_is_rejected_with_a_hint() -> None:
    reason = rejection({"alert_type": "DEADLINE_WARNING", "timestamp": T})
    assert reason == "missing field 'type' (found alert_type 'DEADLINE_WARNING'; the alert type belongs in 'type')"


def test_a_rejection_never_shows_a_validation_library_dump() -> None:
    reason = rejection({"type": "AGENT_UNRESPONSIVE", "agent_id": {}, "last_activity": [], "timestamp": None,
                        "unresponsive_duration": True})
    assert "validation error" not in reason.lower()
    assert "pydantic" not in reason.lower()
    assert "field 'agent_id': expected a string, got object" in reason
