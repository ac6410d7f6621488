"""Delivers queued notifications through their routed channel, with retries and dead letters.

Delivery is at least once: an attempt's outcome is recorded after the channel accepted (or
refused) the message, so a crash in between means the message is sent again on restart,
and recorded as delivered only once per idempotency key.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from domain.notifications import BatchChannel, Channel, DeliveryError, DeliveryOutcome, Notification

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
        """Rows due for an attempt at or before `now`."""
        ...


@dataclass(slots=True)
class DeliveryReport:
    """What one delivery pass did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, outcome: DeliveryOutcome) -> None:
        """Count one outcome."""
        if outcome.status == "delivered":
            self.delivered += 1
        elif outcome.status == "dead":
            self.dead += 1
        else:
            self.failed += 1


@dataclass
class Dispatcher:
    """Delivers due notifications and hands each attempt's outcome to `record`."""

    outbox: Outbox
    router: Router
    record: Callable[[list[DeliveryOutcome]], None]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default=lambda: datetime.now(UTC))
    rng: random.Random = field(default_factory=random.Random)
    observer: Observer | None = None
    record_every: int = 200

    def deliver_due(self, limit: int = 500) -> DeliveryReport:
        """One pass over the notifications due now (at most `limit`), recorded in chunks of `record_every`."""
        report = DeliveryReport()
        rows = self.outbox.due_notifications(self.clock(), limit)
        for start in range(0, len(rows), self.record_every):
            outcomes = self._attempt_all(rows[start : start + self.record_every])
            for outcome in outcomes:
                report.add(outcome)
            self.record(outcomes)
        return report

    def _attempt_all(self, rows: Sequence[Mapping[str, Any]]) -> list[DeliveryOutcome]:
        """Attempt each row; rows bound for a batch-capable channel go to it together."""
        routed: dict[int, tuple[Channel, list[tuple[Mapping[str, Any], Notification]]]] = {}
        for row in rows:
            notification = _notification(row)
            channel = self.router.channel_for(notification.recipient, notification.priority)
            routed.setdefault(id(channel), (channel, []))[1].append((row, notification))
        outcomes: list[DeliveryOutcome] = []
        for channel, items in routed.values():
            if isinstance(channel, BatchChannel):
                errors = _guarded_many(channel, [notification for _, notification in items])
            else:
                errors = [_guarded(channel, notification) for _, notification in items]
            for (row, notification), error in zip(items, errors, strict=True):
                outcomes.append(self._outcome(row, notification, channel, error))
        return outcomes

    def drain(self, limit: int = 500) -> DeliveryReport:
        """Deliver until nothing is due now (failures wait for their retry time)."""
        total = DeliveryReport()
        while True:
            report = self.deliver_due(limit)
            total.delivered += report.delivered
            total.failed += report.failed
            total.dead += report.dead
            if report.delivered + report.failed + report.dead < limit:
                return total

    def _outcome(
        self, row: Mapping[str, Any], notification: Notification, channel: Channel, error: DeliveryError | None
    ) -> DeliveryOutcome:
        attempt = int(row["attempts"]) + 1
        now = self.clock()
        reason = None if error is None else error.reason
        dead = error is not None and (not error.retryable or attempt >= self.retry.max_attempts)
        retry_at = now + self.retry.delay(attempt, self.rng) if error is not None and not dead else None
        outcome = DeliveryOutcome(
            key=notification.key, subject_kind=row["subject_kind"], subject=row["subject"], channel=channel.name,
            attempt=attempt, at=now, error=reason, dead=dead, retry_at=retry_at,
        )
        if self.observer is not None:
            self.observer(notification, outcome)
        return outcome


def _notification(row: Mapping[str, Any]) -> Notification:
    return Notification(
        key=row["key"], recipient=row["recipient"], priority=row["priority"], message=row["message"],
        kind=row["kind"], subject=row["subject"], at=datetime.fromisoformat(row["requested_at"]),
    )


def _guarded(channel: Channel, notification: Notification) -> DeliveryError | None:
    """Deliver one; a channel bug becomes a retryable failure instead of stopping the others."""
    try:
        channel.deliver(notification)
    except DeliveryError as failure:
        return failure
    except Exception as failure:
        return DeliveryError(f"{type(failure).__name__}: {failure}", retryable=True)
    return None


def _guarded_many(channel: BatchChannel, notifications: list[Notification]) -> list[DeliveryError | None]:
    try:
        return channel.deliver_many(notifications)
    except Exception as failure:
        error = DeliveryError(f"{type(failure).__name__}: {failure}", retryable=True)
        return [error] * len(notifications)
