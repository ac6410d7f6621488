"""Every alert type's meaning, by type: a new alert type is one module in this package (its `KIND`) plus one line
here, its name in `domain.alerts.AlertType`, and its schema in `adapters/alert_schema.py`."""

from __future__ import annotations

from collections.abc import Mapping

from domain.alert_types import (
    agent_heartbeat,
    agent_unresponsive,
    coordination_crisis,
    deadline_warning,
    phase1_milestone,
    task_assigned,
    task_completed,
    task_reassignment,
)
from domain.alert_types.kind import AlertKind
from domain.alerts import Alert, AlertType

KINDS: Mapping[AlertType, AlertKind] = {
    kind.type: kind
    for kind in (
        coordination_crisis.KIND,
        deadline_warning.KIND,
        agent_unresponsive.KIND,
        task_reassignment.KIND,
        phase1_milestone.KIND,
        task_assigned.KIND,
        task_completed.KIND,
        agent_heartbeat.KIND,
    )
}


def kind_of(alert: Alert) -> AlertKind:
    """What the alert's type means."""
    return KINDS[alert.type]


def names_agent_active(alert: Alert) -> bool:
    """The alert shows the agent it names at work."""
    return alert.agent_id is not None and kind_of(alert).shows_activity
