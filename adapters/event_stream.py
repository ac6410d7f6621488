"""A public, read-only API for programs that follow the coordinator's event stream.

Every decision the coordinator makes is an event in `<home>/events.sqlite` (or on the PostgreSQL server the
home's settings name: `store`). This module reads that store read-only, in recording order, and turns each stored
event into a typed, frozen dataclass: an alert received, a level change, a notification requested, delivered or
failed, an acknowledgement, a reassignment, a resolution. It never writes, so any number of consumers may run
beside a live coordinator.

Example::

    import asyncio

    from adapters.event_stream import AlertReceived, CoordinationEvent, CoordinationEventConsumer, Escalated

    consumer = CoordinationEventConsumer(home=".coordinator")   # default: COORDINATOR_HOME or ./.coordinator

    def on_crisis(event: CoordinationEvent) -> None:          # plain functions are called...
        assert isinstance(event, AlertReceived)
        print(f"crisis on {event.subject}: {event.alert.get('description')}")

    async def on_level(event: CoordinationEvent) -> None:     # ...coroutine functions are awaited
        assert isinstance(event, Escalated)
        print(f"{event.subject_kind} {event.subject} -> {event.to_level}{' (EMERGENCY)' if event.emergency else ''}")

    consumer.subscribe("COORDINATION_CRISIS", on_crisis)      # an alert type
    consumer.subscribe("Escalated", on_level)                 # an event kind ("*" for everything)

    async def main() -> None:
        position = 0                                          # keep it somewhere to resume after a restart
        async for event in consumer.stream_events(after=position, follow=True, poll_interval=0.5):
            position = event.position                         # handlers have already run for this event

    asyncio.run(main())

`stream_events(follow=False)` stops at the end of the store; `await consumer.run(after=position)` drains with
the handlers only and returns the last position seen.

What is yielded:

- `AlertReceived`: an alert accepted for a task (`Task.AlertReceived`), or an `AGENT_UNRESPONSIVE` alert for an
  agent (`Agent.MarkedUnresponsive`, with `alert_type` `"AGENT_UNRESPONSIVE"`).
- `ActivitySeen`: an agent was seen at work (a heartbeat, or an assignment or reassignment naming it);
  `sightings` in a row read together are one event, from `first_at` to `at`.
- `Escalated` / `DeEscalated`: a task's or agent's level changed. Levels are GREEN, YELLOW, ORANGE and RED;
  RED's EMERGENCY stage is level `"RED"` with `emergency=True`.
- `NotificationRequested`: one per notification the coordinator decided to send (several may share a
  position: they were recorded together), `NotificationDelivered` and `DeliveryFailed` for each attempt.
- `Acknowledged`, `Reassigned`, `Resolved`.
- `Observed`: the hive wrote a record that is none of the alert types (`subject_kind` `"hive"`): the record as
  written, the task and agent it names, and the mapping rule that made it an alert, if one did.
- `OtherEvent(kind, data)`: everything else about a task, agent or hive, as stored: `Registered` (first heard of),
  `Reopened`, and any event kind added later, so that `"*"` subscribers see the whole history.

Subscription names are alert types (`AlertType` values such as `"COORDINATION_CRISIS"`; they match
`AlertReceived` events of that type), event kinds (`"AlertReceived"`, `"Escalated"`, `"DeEscalated"`,
`"NotificationRequested"`, `"NotificationDelivered"`, `"DeliveryFailed"`, `"Resolved"`, `"Acknowledged"`,
`"Reassigned"`, `"AgentUnresponsive"`, `"ActivitySeen"`, `"Observed"`, `"Registered"`, `"Reopened"`) or `"*"`.
Handlers run in the order they were subscribed, before the event is yielded, each at most once per event; an
exception from a handler propagates out of `stream_events` (the event is not yielded; resume from the previous
position to retry it).

Every event has `position` (its place in the store: resume with `after=position`), `subject_kind` (`"task"`,
`"agent"` or `"hive"`), `subject` (the task, agent or hive id), `at` (the business time the coordinator recorded
it for) and `recorded_at` (the wall-clock time it was written). All instants are timezone-aware.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeAlias

from adapters import home_files, store_url
from adapters.store_reader import SQLiteReader, StoreReader
from adapters.stream_events import (
    Acknowledged,
    ActivitySeen,
    AlertReceived,
    CoordinationEvent,
    DeEscalated,
    DeliveryFailed,
    Escalated,
    LevelChange,
    NotificationDelivered,
    NotificationRequested,
    Observed,
    OtherEvent,
    Reassigned,
    Resolved,
    SubjectKind,
    optional_instant,
    other_event,
    typed_events,
)
from app.records import DELIVERIES_KIND, Record, attempts_of, event_kind, state_of
from domain.alerts import AlertType

__all__ = [
    "ALERT_TYPES",
    "EVENT_KINDS",
    "Acknowledged",
    "ActivitySeen",
    "AlertReceived",
    "CoordinationEvent",
    "CoordinationEventConsumer",
    "DeEscalated",
    "DeliveryFailed",
    "Escalated",
    "Handler",
    "LevelChange",
    "NotificationDelivered",
    "NotificationRequested",
    "Observed",
    "OtherEvent",
    "Reassigned",
    "Resolved",
    "SubjectKind",
    "names_of",
]


DEFAULT_HOME: Final = home_files.DEFAULT_HOME
EVENT_STORE_NAME: Final = home_files.EVENTS_FILE
WILDCARD: Final = "*"
AGENT_UNRESPONSIVE_KIND: Final = "AgentUnresponsive"

EVENT_KINDS: Final = frozenset(
    {
        "AlertReceived",
        "Escalated",
        "DeEscalated",
        "NotificationRequested",
        "NotificationDelivered",
        "DeliveryFailed",
        "Resolved",
        "Acknowledged",
        "Reassigned",
        AGENT_UNRESPONSIVE_KIND,
        "ActivitySeen",
        "Observed",
        "Registered",
        "Reopened",
    }
)
"""Event kinds `subscribe` accepts (besides alert types and `"*"`)."""

ALERT_TYPES: Final = frozenset(alert_type.value for alert_type in AlertType)
"""Alert types `subscribe` accepts: they match `AlertReceived` events of that type."""

_SUBJECT_KINDS: Final[dict[str, SubjectKind]] = {"Task": "task", "Agent": "agent", "Hive": "hive"}
_NAME_FIELDS: Final[dict[str, str]] = {"task": "task_id", "agent": "agent_id", "hive": "name"}


Handler: TypeAlias = Callable[[CoordinationEvent], Awaitable[None] | None]
"""A subscriber: a function of one event, either plain or a coroutine function (which is awaited)."""


# --- the consumer ----------------------------------------------------------------------------------------------------


class CoordinationEventConsumer:
    """Reads the coordinator's event store read-only and streams typed events to handlers and iterators.

    `home` is the coordinator's home directory (default: `COORDINATOR_HOME`, else `./.coordinator`); the store
    is `<home>/events.sqlite`, or the PostgreSQL server `store` names (default: the home's settings,
    `COORDINATOR_STORE` or `store` in its coordinator.toml). Subject names are looked up once per task or agent
    and kept in a least-recently-used cache of `subject_cache_size` entries, so memory stays bounded however long
    it runs.
    """

    def __init__(self, home: str | os.PathLike[str] | None = None, *, subject_cache_size: int = 4096,
                 store: str | None = None) -> None:
        if subject_cache_size < 1:
            raise ValueError("subject_cache_size must be at least 1")
        chosen = home if home is not None else os.environ.get("COORDINATOR_HOME") or DEFAULT_HOME
        self.home = Path(chosen)
        self.store = store_url.check(store) if store else store_url.configured(self.home)
        self.subject_cache_size = subject_cache_size
        self._subscriptions: list[tuple[str, Handler]] = []
        self._subjects: OrderedDict[str, tuple[SubjectKind, str]] = OrderedDict()

    @property
    def store_path(self) -> Path:
        """The event store this consumer reads: `<home>/events.sqlite`."""
        return self.home / EVENT_STORE_NAME

    def subscribe(self, name: str, handler: Handler) -> Handler:
        """Call `handler` for every streamed event `name` matches; returns `handler`.

        `name` is an alert type (e.g. `"COORDINATION_CRISIS"`: `AlertReceived` events of that type), an event
        kind (`"Escalated"`, `"NotificationRequested"`, `"AgentUnresponsive"`, ...; see `EVENT_KINDS`) or `"*"`
        for every event. Raises `ValueError` for any other name.
        """
        if name != WILDCARD and name not in EVENT_KINDS and name not in ALERT_TYPES:
            known = ", ".join(sorted(EVENT_KINDS | ALERT_TYPES))
            raise ValueError(f"cannot subscribe to {name!r}: use '*', an alert type or an event kind ({known})")
        self._subscriptions.append((name, handler))
        return handler

    def unsubscribe(self, name: str, handler: Handler) -> None:
        """Stop calling `handler` for `name` (nothing happens if it was not subscribed)."""
        self._subscriptions = [(n, h) for n, h in self._subscriptions if not (n == name and h == handler)]

    def latest_position(self) -> int:
        """The position of the newest stored event (0 when there is none): `after=` this streams only new events."""
        with self._connect() as db:
            try:
                return db.max_notification_id() or 0
            except sqlite3.OperationalError as error:
                if _no_table(error):
                    return 0
                raise

    async def stream_events(
        self, after: int = 0, follow: bool = False, poll_interval: float = 0.2, batch: int = 1000
    ) -> AsyncGenerator[CoordinationEvent, None]:
        """Yield every event with a position greater than `after`, oldest first.

        Subscribed handlers run for each matching event before it is yielded. With `follow`, wait for new events
        (checking every `poll_interval` seconds) until the caller stops iterating; otherwise stop at the end of
        the store. Events are read `batch` stored events at a time. Raises `FileNotFoundError` when the store
        does not exist.

        Stop a following stream by breaking out (close it with `contextlib.aclosing` to release the store at
        once) or by cancelling the task iterating it.
        """
        if poll_interval < 0:
            raise ValueError("poll_interval must not be negative")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        position = after
        with self._connect() as db:
            while True:
                records = self._read(db, position, batch)
                for record in records:
                    position = record.position
                    for event in self._events_of(db, record):
                        await self._dispatch(event)
                        yield event
                if len(records) == batch:
                    continue
                if not follow:
                    return
                await asyncio.sleep(poll_interval)

    async def run(self, after: int = 0, batch: int = 1000) -> int:
        """Run the handlers for every event after `after` (no following); return the last position read.

        Returns `after` when there was nothing new. From synchronous code: `asyncio.run(consumer.run(after))`.
        """
        last = after
        async for event in self.stream_events(after=after, follow=False, batch=batch):
            last = event.position
        return last

    def aggregate_events(self, aggregate_id: str) -> list[CoordinationEvent]:
        """Every event of one task or agent (its aggregate id, as the read models key it), oldest first; handlers
        are not run."""
        with self._connect() as db:
            events = [event for record in db.records_of(aggregate_id) for event in self._events_of(db, record)]
            keys = {event.key for event in events if isinstance(event, NotificationRequested)}
            if not keys:
                return events
            try:
                positions = db.attempt_positions(sorted(keys))
            except sqlite3.OperationalError as error:
                if not _no_table(error):  # a store written before the delivery stream: attempts are its own events
                    raise
                positions = []
            attempts = [event for record in db.records_at(positions)
                        for event in self._events_of(db, record)
                        if isinstance(event, NotificationDelivered | DeliveryFailed) and event.key in keys]
        return sorted([*events, *attempts], key=lambda event: event.position)

    # Internals -------------------------------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[StoreReader]:
        if self.store is not None:
            from adapters.postgres_open import EventSource

            source = EventSource(self.store)
            try:
                yield source.recorder
            finally:
                source.application.close()
            return
        path = self.store_path
        if not path.is_file():
            raise FileNotFoundError(f"no coordinator event store at {path}")
        try:
            connection = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True, timeout=5.0)
        except sqlite3.OperationalError as error:
            raise FileNotFoundError(f"cannot open the coordinator event store at {path}: {error}") from error
        with closing(connection):
            yield SQLiteReader(connection)

    @staticmethod
    def _read(db: StoreReader, after: int, limit: int) -> list[Record]:
        try:
            return db.select_records(after, limit)
        except sqlite3.OperationalError as error:
            if _no_table(error):  # created, but the coordinator has not made its tables yet
                return []
            raise

    async def _dispatch(self, event: CoordinationEvent) -> None:
        if not self._subscriptions:
            return
        names = names_of(event)
        called: list[Handler] = []
        for name, handler in self._subscriptions:
            if name not in names or any(handler == seen for seen in called):
                continue
            called.append(handler)
            result = handler(event)
            if inspect.isawaitable(result):
                await result

    def _subject(self, db: StoreReader, originator_id: str) -> tuple[SubjectKind, str] | None:
        """The task or agent an aggregate is, from its first event (cached, least recently used dropped first)."""
        cached = self._subjects.get(originator_id)
        if cached is not None:
            self._subjects.move_to_end(originator_id)
            return cached
        row = db.first_record(originator_id)
        if row is None:
            return None
        subject = _registered_subject(row[0], bytes(row[1]))
        if subject is not None:
            self._remember(originator_id, subject)
        return subject

    def _remember(self, originator_id: str, subject: tuple[SubjectKind, str]) -> None:
        self._subjects[originator_id] = subject
        self._subjects.move_to_end(originator_id)
        while len(self._subjects) > self.subject_cache_size:
            self._subjects.popitem(last=False)

    def _events_of(self, db: StoreReader, record: Record) -> list[CoordinationEvent]:
        """The typed events one stored event stands for (none for events about no task, agent or hive)."""
        kind = event_kind(record.topic)
        if kind == DELIVERIES_KIND:
            return self._attempts(record)
        aggregate, _, name = kind.partition(".")
        subject_kind = _SUBJECT_KINDS.get(aggregate)
        if subject_kind is None or not name:
            return []
        state = state_of(record)
        originator_id = str(record.originator_id)
        if record.originator_version == 1 and name == "Registered":
            subject_name = state.get(_NAME_FIELDS[subject_kind])
            if isinstance(subject_name, str):
                self._remember(originator_id, (subject_kind, subject_name))
        known = self._subject(db, originator_id)
        subject = known[1] if known is not None else originator_id
        recorded_at = optional_instant(state.get("timestamp")) or datetime.fromtimestamp(0, UTC)
        common: dict[str, Any] = {
            "position": record.position,
            "subject_kind": subject_kind,
            "subject": subject,
            "recorded_at": recorded_at,
        }
        try:
            return typed_events(name, subject_kind, subject, state, common)
        except (KeyError, TypeError, ValueError, AttributeError):  # a shape this version does not know: as stored
            return [other_event(name, state, common)]


    @staticmethod
    def _attempts(record: Record) -> list[CoordinationEvent]:
        """A `NotificationDelivered` or `DeliveryFailed` for each attempt a batch of the delivery stream records."""
        recorded_at = optional_instant(state_of(record).get("timestamp")) or datetime.fromtimestamp(0, UTC)
        found: list[CoordinationEvent] = []
        for attempt in attempts_of(record, DELIVERIES_KIND):
            subject_kind: Any = attempt.subject_kind
            common = {"position": record.position, "subject_kind": subject_kind, "subject": attempt.subject,
                      "recorded_at": recorded_at}
            name = attempt.kind.partition(".")[2]
            try:
                found += typed_events(name, subject_kind, attempt.subject, attempt.state, common)
            except (KeyError, TypeError, ValueError, AttributeError):
                found.append(other_event(name, attempt.state, common))
        return found


# --- decoding --------------------------------------------------------------------------------------------------------


def _no_table(error: sqlite3.OperationalError) -> bool:
    return "no such table" in str(error)


def _registered_subject(topic: str, state: bytes) -> tuple[SubjectKind, str] | None:
    """`("task", "task-1")` from a task's or agent's `Registered` event."""
    aggregate, _, name = event_kind(topic).partition(".")
    subject_kind = _SUBJECT_KINDS.get(aggregate)
    if subject_kind is None or name != "Registered":
        return None
    record = Record(0, "", 1, topic, state)
    subject_name = state_of(record).get(_NAME_FIELDS[subject_kind])
    return (subject_kind, subject_name) if isinstance(subject_name, str) else None


def names_of(event: CoordinationEvent) -> frozenset[str]:
    """Every subscription name that matches `event` (`subscribe` names: "*", its kind, its alert type)."""
    if isinstance(event, OtherEvent):
        return frozenset({WILDCARD, event.kind})
    kind = type(event).__name__
    if isinstance(event, AlertReceived):
        if event.alert_type == AlertType.AGENT_UNRESPONSIVE.value:
            return frozenset({WILDCARD, kind, event.alert_type, AGENT_UNRESPONSIVE_KIND})
        return frozenset({WILDCARD, kind, event.alert_type})
    return frozenset({WILDCARD, kind})
