"""The event log as every reader sees it (read models, the event stream, the command line): records, their kind and
their plain JSON state.

Projections read the notification log as stored, without rebuilding domain objects: the
coordinator's events are stored as plain JSON (datetimes as ISO 8601, stages by name), which is
what read models keep anyway, and skipping the object round trip keeps rebuilds fast. A record's state is that
JSON text: the stores' readers unpack what they store packed before they hand a record out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from app.stored_json import decode
from domain.alerts import fingerprint, heartbeat_record
from domain.ids import agent_aggregate_id, task_aggregate_id
from domain.notifications import NotificationKey, fields_of
from domain.versions import current_version


class Record(NamedTuple):
    """One stored event as projections read it: its position, originator, version, topic and raw state."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


class RecordSource(Protocol):
    """Where projections read the stored events from, in notification order."""

    def max_notification_id(self) -> int | None:
        """The position of the newest event (None when there is none)."""
        ...

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` events after position `after`, oldest first."""
        ...


_GAP = 32
"""Wanted events at most this far apart are read in one range rather than one by one."""
_SPAN = 5_000


def records_by_id(source: RecordSource, ids: Iterable[int]) -> dict[int, Record]:
    """The stored events at these positions (those found), read in as few ranges as fit."""
    unique = set(ids)
    wanted = sorted(unique)
    found: dict[int, Record] = {}
    index = 0
    while index < len(wanted):
        first = last = wanted[index]
        index += 1
        while index < len(wanted) and wanted[index] - last <= _GAP and wanted[index] - first < _SPAN:
            last = wanted[index]
            index += 1
        for record in source.select_records(first - 1, last - first + 1):
            if record.position in unique:
                found[record.position] = record
    return found


@lru_cache(maxsize=256)
def event_kind(topic: str) -> str:
    """`Task.Escalated` for the topic `domain.task:Task.Escalated`."""
    return topic.rpartition(":")[2]


def state_of(record: Record) -> dict[str, Any]:
    """The event's stored fields as plain JSON values, upcast to the event class's current version."""
    state: dict[str, Any] = decode(record.state)
    stored = state.pop("class_version", 1)
    current = current_version(record.topic)
    if stored < current:
        cls = _event_class(record.topic)
        while stored < current:
            getattr(cls, f"upcast_v{stored}_v{stored + 1}")(state)
            stored += 1
    return state


@lru_cache(maxsize=64)
def _event_class(topic: str) -> Any:
    """The class of the events of `topic`, loaded only to upcast one stored at an older version."""
    from eventsourcing.utils import resolve_topic

    return resolve_topic(topic)


def instant(value: str | datetime) -> datetime:
    """A stored ISO 8601 instant (or a datetime) as an aware UTC datetime; naive means UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_text(stored: str | None) -> str | None:
    """A stored ISO 8601 instant as every command prints it: UTC with a `Z`."""
    if stored is None:
        return None
    if stored.endswith("Z"):  # as the codec writes UTC
        return stored
    if stored.endswith("+00:00"):  # as stores written before kept it
        return stored[:-6] + "Z"
    return datetime.fromisoformat(stored).astimezone(UTC).isoformat().replace("+00:00", "Z")


_STORED_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?\+00:00")
WALL_CLOCK_KINDS = frozenset({"NotificationDelivered", "DeliveryFailed", "Acknowledged"})
"""Events whose `at` is when something happened on the wall clock (a delivery attempt, an acknowledgement), not
the business time of the alerts."""


def zulu(value: Any) -> Any:
    """`value` with every stored UTC instant in it (nested ones too) written as every command prints them (`Z`)."""
    if isinstance(value, str):
        return value[:-6] + "Z" if _STORED_UTC.fullmatch(value) else value
    if isinstance(value, dict):
        return {key: zulu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [zulu(item) for item in value]
    return value


def clock_of(kind: str, state: dict[str, Any]) -> str:
    """`wall` when an event's `at` is wall-clock time (deliveries, acknowledgements, a resolution by hand), else
    `alert`: the business time the alerts speak in."""
    short = kind.rpartition(".")[2]
    return "wall" if short in WALL_CLOCK_KINDS or (short == "Resolved" and state.get("by")) else "alert"


def fingerprint_of(kind: str, state: dict[str, Any], agent_id: str | None = None) -> str | None:
    """The fingerprint of the alert an event of `kind` (`Task.AlertReceived`, `AlertReceived`, ...) records: as kept,
    or computed again where the event leaves it out (None): the digest of the alert it holds (`AlertReceived`,
    `MarkedUnresponsive`), or of the plain heartbeat of `agent_id` at its time (`ActivitySeen`). None for other
    events, and for an `ActivitySeen` whose agent is not known."""
    short = kind.rpartition(".")[2]
    if short not in _ALERT_EVENTS or "fingerprint" not in state:
        return None
    kept = state["fingerprint"]
    if kept:
        return str(kept)
    if short == "ActivitySeen":
        return None if agent_id is None else fingerprint(heartbeat_record(agent_id, instant(state["at"])))
    return fingerprint(state["alert"])


_ALERT_EVENTS = frozenset({"AlertReceived", "MarkedUnresponsive", "ActivitySeen"})


def with_fingerprint(kind: str, state: dict[str, Any], agent_id: str | None = None) -> dict[str, Any]:
    """`state` with the fingerprint its event left out filled in (`fingerprint_of`), for readers who show it."""
    if state.get("fingerprint", True) is None:
        found = fingerprint_of(kind, state, agent_id)
        if found is not None:
            return {**state, "fingerprint": found}
    return state


def aggregate_key(record: Record) -> str:
    """The originating aggregate's id as 32 hex digits (the read models' row key)."""
    originator: str | UUID = record.originator_id
    if isinstance(originator, UUID):
        return originator.hex
    return originator if len(originator) == 32 else UUID(originator).hex


REQUEST_NUMBER_IN_JSON = re.compile(rb'"key":"(?:[^"\\]|\\.)*#(\d+)\.\d+"')
"""The request number of the first notification key (`domain.notifications.NotificationKey`) in an event's stored
JSON, found without decoding it (quotes inside JSON strings are escaped, so this matches the key field itself)."""

DELIVERIES_KIND = "Deliveries.Recorded"
"""The kind of the delivery stream's events (`domain.deliveries`): many attempts in one stored event."""
DELIVERIES_TOPIC = f"domain.deliveries:{DELIVERIES_KIND}"
ATTEMPT_KINDS = frozenset({"Task.NotificationDelivered", "Task.DeliveryFailed", "Agent.NotificationDelivered",
                           "Agent.DeliveryFailed"})
"""Kinds of the one-attempt events that stores written before the delivery stream hold on tasks and agents."""


class Attempt:
    """One delivery attempt as every reader sees it, whichever kind of stored event recorded it."""

    __slots__ = ("_key", "state")

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        """Its fields as a one-attempt event stores them: key, channel, attempt, at (and error, dead, retry_at)."""
        self._key: NotificationKey | None = None

    @property
    def key(self) -> NotificationKey:
        """The notification's key, parsed (once, when first asked: a reader counting outcomes never needs it)."""
        if self._key is None:
            self._key = NotificationKey.parse(str(self.state["key"]))
        return self._key

    @property
    def kind(self) -> str:
        """`Task.NotificationDelivered`, `Agent.DeliveryFailed`, ...: what a one-attempt event of its subject is
        called."""
        outcome = "NotificationDelivered" if self.delivered else "DeliveryFailed"
        return f"{self.subject_kind.capitalize()}.{outcome}"

    @property
    def subject_kind(self) -> str:
        """`task` or `agent`."""
        return self.key.subject_kind

    @property
    def subject(self) -> str:
        """The task's or agent's name."""
        return self.key.subject

    @property
    def delivered(self) -> bool:
        """Whether the channel accepted the notification."""
        return "error" not in self.state


def attempts_of(record: Record, kind: str | None = None) -> list[Attempt]:
    """The delivery attempts a stored event records (none for an event of another kind), in recording order."""
    kind = kind or event_kind(record.topic)
    if kind == DELIVERIES_KIND or kind in ATTEMPT_KINDS:
        return list(_attempts(record, kind))
    return []


@lru_cache(maxsize=64)
def _attempts(record: Record, kind: str) -> tuple[Attempt, ...]:
    """`attempts_of`, read once for the several read models that follow the same page of records (a stored state's
    bytes keep their hash, so looking a record up again costs little)."""
    state = state_of(record)
    return tuple(map(Attempt, map(fields_of, state["attempts"]) if kind == DELIVERIES_KIND else [state]))


@lru_cache(maxsize=65_536)
def subject_key(subject_kind: str, subject: str) -> str:
    """The read models' row key (`aggregate_key`) of the task or agent named `subject`."""
    return (task_aggregate_id if subject_kind == "task" else agent_aggregate_id)(subject).hex
