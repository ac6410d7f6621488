"""Prometheus Alertmanager webhook payloads (version 4) as coordination crises.

Each alert of the payload becomes a `COORDINATION_CRISIS` for the task and agent its labels name (`task_id`,
`agent_id`), at the level of its `escalation_level` label, else of its `severity` (critical → red, warning →
orange, info → yellow). A resolved alert becomes a `green` crisis alert, which clears the crisis rule. It is
stamped with the alert's `startsAt` (`endsAt` once resolved) and described by its `description` or `summary`
annotation (else its `alertname`). Alertmanager sends a firing alert again and again: the same alert maps to
the same crisis, so it counts once. An alert without these labels is quarantined with the reason.

Mapping rules (`adapters.mappings`) come first: an alert of the payload (as sent: `labels`, `annotations`,
`startsAt`, ...) that a rule matches becomes the alert the rule makes of it instead.
"""

from __future__ import annotations

import json
from typing import Any

from adapters import mappings
from adapters.alert_file import Item, item_of
from adapters.alert_items import item_for
from domain.alerts import Quarantined

SOURCE = "alertmanager"
SEVERITY_LEVELS = {"critical": "red", "warning": "orange", "info": "yellow"}


def alerts_of(payload: Any, source: str = SOURCE) -> list[Item]:
    """The coordination crises (or quarantined entries) of a webhook payload, one per alert, in order."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        return [Quarantined(source, None, None, _text(payload), "not an Alertmanager webhook payload: "
                            "expected an object with an 'alerts' list")]
    return [_crisis(alert, payload.get("status"), source, index) for index, alert in enumerate(payload["alerts"])]


def _crisis(alert: Any, group_status: Any, source: str, index: int) -> Item:
    raw = _text(alert)
    if not isinstance(alert, dict):
        return Quarantined(source, None, index, raw, "an Alertmanager alert must be an object")
    if mappings.first_match(mappings.current().rules, alert) is not None:
        return item_for(alert, raw, source, None, index)
    labels: dict[str, Any] = alert["labels"] if isinstance(alert.get("labels"), dict) else {}
    annotations: dict[str, Any] = alert["annotations"] if isinstance(alert.get("annotations"), dict) else {}
    for label in ("task_id", "agent_id"):
        if not labels.get(label):
            return Quarantined(source, None, index, raw, f"the Alertmanager alert has no {label} label")
    resolved = (alert.get("status") or group_status) == "resolved"
    level = "green" if resolved else labels.get("escalation_level") or SEVERITY_LEVELS.get(
        str(labels.get("severity", "")).lower())
    if level is None:
        return Quarantined(source, None, index, raw, "the Alertmanager alert has neither an escalation_level label "
                           "nor a severity of critical, warning or info")
    crisis = {
        "type": "COORDINATION_CRISIS",
        "task_id": labels["task_id"],
        "agent_id": labels["agent_id"],
        "escalation_level": level,
        "description": annotations.get("description") or annotations.get("summary") or labels.get("alertname"),
        "timestamp": alert.get("endsAt") if resolved else alert.get("startsAt"),
        "alertmanager": {"status": "resolved" if resolved else "firing", "alertname": labels.get("alertname"),
                         "fingerprint": alert.get("fingerprint")},
    }
    return item_of(crisis, raw, source, None, index)


def _text(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text[:65_536]
