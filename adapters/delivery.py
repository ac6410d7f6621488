"""Delivers queued notifications through their routed channel, with retries and dead letters.

Sending happens off the writer's thread, in one lane per channel (`adapters.sending`): a channel that hangs
holds up only its own notifications, never the others nor the ingestion of new alerts. Recording stays on
the writer's thread: attempts come back through a queue and `collect` records them. A notification being
sent is never handed out again until its attempt is recorded.

Delivery is at least once: an attempt's outcome is recorded after the channel accepted (or
refused) the message, so a crash in between means the message is sent again on restart,
and recorded as delivered only once per idempotency key.
"""

from __future__ import annotations

import fnmatch
import queue
import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from adapters.sending import IN_FLIGHT, Attempt, Item, Lane
from domain.notifications import Channel, DeliveryOutcome, DeliveryReport, Notification

Clock = Callable[[], datetime]
Observer = Callable[[Notification, DeliveryOutcome], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failed delivery is retried."""

    max_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        """Exponential backoff after `attempt` failures, capped at `max_delay`, spread by ± `jitter`; never
        beyond the cap (near it the spread lies below it, so retries still scatter)."""
        cap = self.max_delay.total_seconds()
        nominal = min(self.base_delay.total_seconds() * 2.0 ** min(attempt - 1, 64), cap)
        low = max(0.0, nominal * (1 - self.jitter))
        high = max(low, min(nominal * (1 + self.jitter), cap))
        return min(timedelta(seconds=low + (high - low) * rng.random()), self.max_delay)


@dataclass(frozen=True, slots=True)
class Route:
    """Send notifications for matching recipients (glob) and priorities through `channel`."""

    channel: str
    recipient: str = "*"
    priorities: tuple[str, ...] = ()

    def matches(self, recipient: str, priority: str) -> bool:
        """Whether this route applies."""
        return fnmatch.fnmatchcase(recipient, self.recipient) and (not self.priorities or priority in self.priorities)


@dataclass(slots=True)
class Router:
    """Picks the channel for each notification: the first matching route, else the default channel."""

    channels: Mapping[str, Channel]
    routes: Sequence[Route] = ()
    default: str = "file"

    def __post_init__(self) -> None:
        for name in [self.default, *(route.channel for route in self.routes)]:
            if name not in self.channels:
                raise ValueError(f"no channel named {name!r} is configured (known: {', '.join(sorted(self.channels))})")

    def channel_for(self, recipient: str, priority: str) -> Channel:
        """The channel a notification to `recipient` at `priority` goes through."""
        for route in self.routes:
            if route.matches(recipient, priority):
                return self.channels[route.channel]
        return self.channels[self.default]


class Outbox(Protocol):
    """Where queued notifications wait."""

    def due_notifications(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Rows due for an attempt at or before `now`, the earliest first."""
        ...

    def upcoming_notifications(self, limit: int) -> list[tuple[str, datetime]]:
        """The key and due time of the first `limit` rows waiting for an attempt, the earliest first."""
        ...


class DeliveryStopped(RuntimeError):
    """Delivery stopped before the attempts waited for were recorded (they are sent again after a restart)."""


@dataclass(slots=True)
class _Watch:
    """Keys someone waits for, what their attempts came to so far, and the answer once all are recorded."""

    keys: set[str]
    report: DeliveryReport = field(default_factory=DeliveryReport)
    answer: Future[DeliveryReport] = field(default_factory=Future)


def _nothing() -> None:
    """The default wake-up: nobody to wake."""


@dataclass
class Dispatcher:
    """Hands due notifications to their channels' lanes and records each attempt's outcome through `record`.

    Every method is called on the writer's thread; only the lanes' threads send. `wake` is called (on a lane's
    thread) whenever attempts come back, so the writer can `collect` them.
    """

    outbox: Outbox
    router: Router
    record: Callable[[list[DeliveryOutcome]], None]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default=lambda: datetime.now(UTC))
    rng: random.Random = field(default_factory=random.Random)
    observer: Observer | None = None
    record_every: int = 200
    per_channel: int = IN_FLIGHT
    """Attempts under way at once in one channel."""
    wake: Callable[[], None] = _nothing
    hive: str | None = None
    """The hive the notifications are of (None: the home's own), told to the channels."""
    _lanes: dict[int, Lane] = field(default_factory=dict, init=False, repr=False)
    _sending: set[str] = field(default_factory=set, init=False, repr=False)
    _returned: queue.SimpleQueue[list[Attempt]] = field(default_factory=queue.SimpleQueue, init=False, repr=False)
    _watches: list[_Watch] = field(default_factory=list, init=False, repr=False)

    @property
    def sending(self) -> frozenset[str]:
        """Keys handed to a channel whose attempt is not recorded yet."""
        return frozenset(self._sending)

    def send_due(self, limit: int = 500) -> list[str]:
        """Hand the notifications due now, at most `limit` of those not already being sent, to their channels;
        their keys. Never waits for a channel."""
        rows = self.outbox.due_notifications(self.clock(), limit + len(self._sending))
        fresh = [row for row in rows if row["key"] not in self._sending][:limit]
        routed: dict[int, tuple[Channel, list[Item]]] = {}
        for row in fresh:
            notification = _notification(row, self.hive)
            channel = self.router.channel_for(notification.recipient, notification.priority)
            routed.setdefault(id(channel), (channel, []))[1].append((row, notification))
            self._sending.add(notification.key)
        for channel, items in routed.values():
            self._lane(channel).put(items)
        return [row["key"] for row in fresh]

    def collect(self, wait: Collection[str] = (), timeout: float | None = None) -> list[DeliveryOutcome]:
        """Record the attempts that have come back, in chunks of `record_every`; first wait (at most `timeout`
        seconds) until the attempts for the keys in `wait` have come back."""
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting = set(wait) & self._sending
        outcomes: list[DeliveryOutcome] = []
        while waiting:
            try:
                first = self._returned.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            recorded = self._record([*first, *self._ready()])
            outcomes += recorded
            waiting.difference_update(outcome.key for outcome in recorded)
        return outcomes + self._record(self._ready())

    def deliver_due(self, limit: int = 500) -> DeliveryReport:
        """One pass: send what is due now (see `send_due`) and wait until every attempt of it is recorded."""
        keys = self.send_due(limit)
        return _report(self.collect(keys), set(keys))

    def drain(self, limit: int = 500) -> DeliveryReport:
        """Deliver until nothing is due now (failures wait for their retry time)."""
        total = DeliveryReport()
        while True:
            keys = self.send_due(limit)
            wanted = set(keys)
            for outcome in self.collect(wanted):
                if outcome.key in wanted:
                    total.add(outcome)
            if len(keys) < limit:
                return total

    def pump(self, limit: int = 500) -> DeliveryReport:
        """The service's step, which never waits for a channel: record what came back, then send what is due."""
        report = _report(self.collect())
        self.send_due(limit)
        return report

    def send_all_due(self, limit: int = 500) -> Future[DeliveryReport]:
        """Send everything due now; what its attempts came to, answered once `collect` has recorded them all."""
        keys: list[str] = []
        while True:
            sent = self.send_due(limit)
            keys += sent
            if len(sent) < limit:
                break
        watch = _Watch(set(keys))
        if keys:
            self._watches.append(watch)
        else:
            watch.answer.set_result(watch.report)
        return watch.answer

    def next_attempt(self) -> datetime | None:
        """When the earliest notification not being sent falls due (None when none waits)."""
        for key, moment in self.outbox.upcoming_notifications(len(self._sending) + 1):
            if key not in self._sending:
                return moment
        return None

    def finish(self, timeout: float) -> None:
        """Record the attempts under way as they come back, for at most `timeout` seconds; whoever still waits
        for some then gets `DeliveryStopped` (they are sent again after a restart)."""
        self.collect(self._sending, timeout)
        watches, self._watches = self._watches, []
        for watch in watches:
            watch.answer.set_exception(DeliveryStopped("the coordinator stopped before these were delivered"))

    def _lane(self, channel: Channel) -> Lane:
        lane = self._lanes.get(id(channel))
        if lane is None:
            lane = self._lanes[id(channel)] = Lane(channel, self._come_back, self.per_channel, self.record_every)
        return lane

    def _come_back(self, attempts: list[Attempt]) -> None:
        """On a lane's thread: queue the finished attempts for the writer and wake it."""
        self._returned.put(attempts)
        self.wake()

    def _ready(self) -> list[Attempt]:
        attempts: list[Attempt] = []
        while True:
            try:
                attempts += self._returned.get_nowait()
            except queue.Empty:
                return attempts

    def _record(self, attempts: Sequence[Attempt]) -> list[DeliveryOutcome]:
        """Record `attempts`; their keys may be handed out again afterwards, recorded or not (at least once)."""
        if not attempts:
            return []
        outcomes = [self._outcome(attempt) for attempt in attempts]
        try:
            for start in range(0, len(outcomes), self.record_every):
                self.record(outcomes[start : start + self.record_every])
        finally:
            self._sending.difference_update(outcome.key for outcome in outcomes)
        self._answer_watches(outcomes)
        return outcomes

    def _answer_watches(self, outcomes: Iterable[DeliveryOutcome]) -> None:
        if not self._watches:
            return
        for outcome in outcomes:
            for watch in self._watches:
                if outcome.key in watch.keys:
                    watch.keys.discard(outcome.key)
                    watch.report.add(outcome)
        for watch in [watch for watch in self._watches if not watch.keys]:
            self._watches.remove(watch)
            watch.answer.set_result(watch.report)

    def _outcome(self, attempt: Attempt) -> DeliveryOutcome:
        row, error = attempt.row, attempt.error
        number = int(row["attempts"]) + 1
        now = self.clock()
        reason = None if error is None else error.reason
        dead = error is not None and (not error.retryable or number >= self.retry.max_attempts)
        retry_at = now + self.retry.delay(number, self.rng) if error is not None and not dead else None
        outcome = DeliveryOutcome(
            key=attempt.notification.key, subject_kind=row["subject_kind"], subject=row["subject"],
            channel=attempt.channel.name, attempt=number, at=now, error=reason, dead=dead, retry_at=retry_at,
        )
        if self.observer is not None:
            self.observer(attempt.notification, outcome)
        return outcome


def _report(outcomes: Iterable[DeliveryOutcome], keys: Collection[str] | None = None) -> DeliveryReport:
    """The outcomes counted (only those for `keys`, if given)."""
    report = DeliveryReport()
    for outcome in outcomes:
        if keys is None or outcome.key in keys:
            report.add(outcome)
    return report


def _notification(row: Mapping[str, Any], hive: str | None = None) -> Notification:
    return Notification(
        key=row["key"], recipient=row["recipient"], priority=row["priority"], message=row["message"],
        kind=row["kind"], subject=row["subject"], at=datetime.fromisoformat(row["requested_at"]), hive=hive,
    )
