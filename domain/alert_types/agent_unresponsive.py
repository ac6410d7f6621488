"""AGENT_UNRESPONSIVE: an agent has not been heard from since `last_activity`; its silence is judged by the agent
rule while it lasts."""

from __future__ import annotations

from domain.alert_types.kind import AlertKind
from domain.alerts import AlertType


def sample(task: str, agent: str, stamp: str) -> dict[str, object]:
    return {"agent_id": agent, "last_activity": stamp, "unresponsive_duration": "0 minutes"}


KIND = AlertKind(AlertType.AGENT_UNRESPONSIVE, "agent", sample)
