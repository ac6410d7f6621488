"""The alert-type registry: every type the coordinator reads has exactly one declared meaning, and its sample is an
alert the schema accepts, about the aggregate the type targets."""

from __future__ import annotations

import pytest

from adapters.alert_schema import to_alert
from domain.alert_types.registry import KINDS, kind_of, names_agent_active
from domain.alerts import Alert, AlertType

T = "2025-07-16T19:00:00Z"


def test_every_alert_type_has_a_declared_meaning_and_no_other_is_declared() -> None:
    assert set(KINDS) == set(AlertType)
    assert all(kind.type is alert_type for alert_type, kind in KINDS.items())


@pytest.mark.parametrize("alert_type", list(AlertType), ids=[t.value for t in AlertType])
def test_each_type_s_sample_is_an_alert_the_schema_accepts_about_its_target(alert_type: AlertType) -> None:
    kind = KINDS[alert_type]
    alert = to_alert({"type": alert_type.value, "timestamp": T, **kind.sample("task-1", "agent-1", T)}, "sample")
    assert kind_of(alert) is kind
    if kind.on_task:
        assert alert.task_id is not None
    else:
        assert alert.task_id is None and alert.agent_id == "agent-1"
    assert names_agent_active(alert) is kind.shows_activity


def test_only_an_assignment_or_a_failing_milestone_reopens_and_only_a_completion_or_a_reached_milestone_completes(
) -> None:
    def alert(alert_type: AlertType, **fields: object) -> Alert:
        return to_alert({"type": alert_type.value, "timestamp": T, **KINDS[alert_type].sample("t", "a", T),
                         **fields}, "sample")

    reopening = {t for t in AlertType if KINDS[t].reopens(alert(t))}
    completing = {t for t in AlertType if KINDS[t].completes(alert(t))}
    assert reopening == {AlertType.TASK_ASSIGNED, AlertType.PHASE1_MILESTONE}  # the sample milestone is failing
    assert completing == {AlertType.TASK_COMPLETED}
    milestone, reached = KINDS[AlertType.PHASE1_MILESTONE], alert(AlertType.PHASE1_MILESTONE, status="passing")
    assert milestone.completes(reached) and not milestone.reopens(reached)
