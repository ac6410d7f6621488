"""AGENT_HEARTBEAT: an agent is alive (it clears an unresponsive flag)."""

from __future__ import annotations

from domain.alert_types.kind import AlertKind
from domain.alerts import AlertType


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"agent_id": agent}


KIND = AlertKind(AlertType.AGENT_HEARTBEAT, "agent", sample, shows_activity=True)
