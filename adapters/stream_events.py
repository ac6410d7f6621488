"""The typed events `CoordinationEventConsumer` yields, and how stored events become them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeAlias

from app.records import fingerprint_of, instant
from domain.alerts import AlertType

SubjectKind: TypeAlias = Literal["task", "agent", "hive"]
"""What an event is about: a task (or Phase 1 milestone), an agent, or the hive itself (its observations)."""

# --- the events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationEvent:
    """What every event carries.

    `position`: the stored event's place in the store (resume with `stream_events(after=position)`);
    `subject_kind` and `subject`: the task, agent or hive it is about (`"task"`/`"agent"`/`"hive"` and its id);
    `at`: the business time it was recorded for; `recorded_at`: the wall-clock time it was written.
    """

    position: int
    subject_kind: SubjectKind
    subject: str
    at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertReceived(CoordinationEvent):
    """An alert was accepted: `alert_type` (an `AlertType` value), the alert as written, and its fingerprint.

    For a task, `agent_id` is the agent in charge once the alert was applied; for an `AGENT_UNRESPONSIVE`
    alert (an agent event), it is the agent itself.
    """

    alert_type: str
    alert: dict[str, Any]
    agent_id: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivitySeen(CoordinationEvent):
    """The agent was seen at work at `at` (a heartbeat, or an alert assigning it work); clears unresponsiveness.

    `sightings`: how many alerts in a row showed it, from `first_at` to `at`, with nothing else recorded on the agent
    between them (alerts read together, as from a file taken in at once, are kept as one event); `fingerprint` is
    the last one's.
    """

    fingerprint: str
    sightings: int = 1
    first_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelChange(CoordinationEvent):
    """A task's or agent's level changed from `from_level` to `to_level` because of `reason`, as `rule` decided.

    Levels are GREEN, YELLOW, ORANGE, RED; `emergency` is True for RED's EMERGENCY stage (and
    `from_emergency` when the move started there).
    """

    from_level: str
    to_level: str
    emergency: bool
    from_emergency: bool
    reason: str
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalated(LevelChange):
    """The level went up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeEscalated(LevelChange):
    """The level went down."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved(CoordinationEvent):
    """The task was closed (level GREEN, status completed): by hand (`by`, `note`) or by an alert (`by` None)."""

    from_level: str
    by: str | None
    note: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reassigned(CoordinationEvent):
    """The coordinator moved the task from `from_agent` to `to_agent` (emergency reassignment)."""

    from_agent: str | None
    to_agent: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledged(CoordinationEvent):
    """`by` took charge of the crisis: repeated reminders stop."""

    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRequested(CoordinationEvent):
    """The coordinator decided to send `message` to `recipient`.

    `key` is the notification's idempotency key (delivery events name it); `priority` is standard, priority
    or urgent; `kind` says what it is (crisis, reminder, ping, repeat, ...). Notifications decided together
    share a position; `index` is this one's place among them.
    """

    key: str
    recipient: str
    priority: str
    kind: str
    message: str
    index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationDelivered(CoordinationEvent):
    """Attempt `attempt` delivered notification `key` through `channel` at `at`."""

    key: str
    channel: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryFailed(CoordinationEvent):
    """Attempt `attempt` to deliver notification `key` through `channel` failed with `error`.

    `dead`: no more attempts will be made (a dead letter); otherwise the next is due at `retry_at`.
    """

    key: str
    channel: str
    attempt: int
    error: str
    dead: bool
    retry_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed(CoordinationEvent):
    """The hive wrote a well-formed record that is none of the alert types (its subject is the hive).

    `record` is the record as written, read from `source` (at `line`, if known), with its `fingerprint`; `at` is its
    own timestamp, else when it was recorded. `task_id` and `agent_id` are the task and agent it names, if any.
    When a mapping rule turned it into an alert, `mapping` is the rule's identity and `alert_type` the alert's
    type (the alert itself is an `AlertReceived` of that task or agent).
    """

    record: dict[str, Any]
    source: str
    line: int | None
    fingerprint: str
    task_id: str | None
    agent_id: str | None
    mapping: str | None
    alert_type: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherEvent(CoordinationEvent):
    """Any other event about a task, agent or hive, as stored: `kind` is e.g. `Registered` or `Reopened`.

    `data` holds the stored fields as plain JSON values. Events without a business time of their own
    (such as `Registered`) have `at` equal to `recorded_at`.
    """

    kind: str
    data: dict[str, Any]



def optional_instant(value: Any) -> datetime | None:
    """A stored ISO 8601 instant as an aware datetime (naive means UTC), None for none."""
    return None if value is None else instant(str(value))


def _required_instant(value: Any) -> datetime:
    moment = optional_instant(value)
    if moment is None:
        raise ValueError("missing instant")
    return moment


def _level(stage: str) -> tuple[str, bool]:
    """`("RED", True)` for the EMERGENCY stage, `(stage, False)` otherwise."""
    return ("RED", True) if stage == "EMERGENCY" else (stage, False)


def _move(state: dict[str, Any]) -> dict[str, Any]:
    from_level, from_emergency = _level(str(state["from_stage"]))
    to_level, emergency = _level(str(state["to_stage"]))
    return {
        "at": _required_instant(state["at"]),
        "from_level": from_level,
        "to_level": to_level,
        "emergency": emergency,
        "from_emergency": from_emergency,
        "reason": str(state["reason"]),
        "rule": str(state.get("rule") or "unknown"),
    }


def typed_events(
    name: str, subject_kind: SubjectKind, subject: str, state: dict[str, Any], common: dict[str, Any]
) -> list[CoordinationEvent]:
    """The typed events for one stored event, by its kind (`name` is e.g. `Escalated`)."""
    if name == "AlertReceived":
        return [AlertReceived(
            **common, at=_required_instant(state["at"]), alert_type=str(state["alert_type"]),
            alert=dict(state["alert"]), agent_id=state.get("agent_id"), fingerprint=str(fingerprint_of(name, state)),
        )]
    if name == "MarkedUnresponsive":
        return [AlertReceived(
            **common, at=_required_instant(state["at"]), alert_type=AlertType.AGENT_UNRESPONSIVE.value,
            alert=dict(state["alert"]), agent_id=subject if subject_kind == "agent" else None,
            fingerprint=str(fingerprint_of(name, state)),
        )]
    if name == "ActivitySeen":
        first_at = state.get("first_at")
        return [ActivitySeen(**common, at=_required_instant(state["at"]),
                             fingerprint=str(fingerprint_of(name, state, subject)),
                             sightings=int(state.get("sightings", 1)),
                             first_at=None if first_at is None else _required_instant(first_at))]
    if name == "Escalated":
        return [Escalated(**common, **_move(state))]
    if name == "DeEscalated":
        return [DeEscalated(**common, **_move(state))]
    if name == "Resolved":
        return [Resolved(
            **common, at=_required_instant(state["at"]), from_level=_level(str(state["from_stage"]))[0],
            by=state.get("by"), note=state.get("note"), reason=str(state["reason"]),
        )]
    if name == "Reassigned":
        return [Reassigned(
            **common, at=_required_instant(state["at"]), from_agent=state.get("from_agent"),
            to_agent=str(state["to_agent"]), reason=str(state["reason"]),
        )]
    if name == "Acknowledged":
        return [Acknowledged(**common, at=_required_instant(state["at"]), by=str(state["by"]))]
    if name == "NotificationsRequested":
        at = _required_instant(state["at"])
        return [
            NotificationRequested(
                **common, at=at, key=str(item["key"]), recipient=str(item["recipient"]),
                priority=str(item["priority"]), kind=str(item["kind"]), message=str(item["message"]), index=index,
            )
            for index, item in enumerate(state["notifications"])
        ]
    if name == "NotificationDelivered":
        return [NotificationDelivered(
            **common, at=_required_instant(state["at"]), key=str(state["key"]), channel=str(state["channel"]),
            attempt=int(state["attempt"]),
        )]
    if name == "Observed":
        return [Observed(
            **common, at=optional_instant(state.get("at")) or common["recorded_at"], record=dict(state["record"]),
            source=str(state["source"]), line=state.get("line"), fingerprint=str(state["fingerprint"]),
            task_id=state.get("task_id"), agent_id=state.get("agent_id"), mapping=state.get("mapping"),
            alert_type=state.get("alert_type"),
        )]
    if name == "DeliveryFailed":
        return [DeliveryFailed(
            **common, at=_required_instant(state["at"]), key=str(state["key"]), channel=str(state["channel"]),
            attempt=int(state["attempt"]), error=str(state["error"]), dead=bool(state["dead"]),
            retry_at=optional_instant(state.get("retry_at")),
        )]
    return [other_event(name, state, common)]


def other_event(name: str, state: dict[str, Any], common: dict[str, Any]) -> OtherEvent:
    data = {key: value for key, value in state.items() if key not in ("timestamp", "originator_topic")}
    try:
        at = optional_instant(state.get("at")) or common["recorded_at"]
    except (TypeError, ValueError):
        at = common["recorded_at"]
    return OtherEvent(**common, at=at, kind=name, data=data)

