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

from domain.notifications import Channel, DeliveryError, DeliveryOutcome, Notification

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
        """Exponential backoff after `attempt` failures, capped, with ± `jitter` spread."""
        growth = 2.0 ** min(attempt - 1, 64)
        seconds = min(self.base_delay.total_seconds() * growth, self.max_delay.total_seconds())
        return timedelta(seconds=seconds * (1 + self.jitter * (2 * rng.random() - 1)))


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
    record_every: int = 50

    def deliver_due(self, limit: int = 500) -> DeliveryReport:
        """One pass over the notifications due now (at most `limit`)."""
        report = DeliveryReport()
        pending: list[DeliveryOutcome] = []
        for row in self.outbox.due_notifications(self.clock(), limit):
            outcome = self._attempt(row)
            report.add(outcome)
            pending.append(outcome)
            if len(pending) >= self.record_every:
                self.record(pending)
                pending = []
        if pending:
            self.record(pending)
        return report

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

    def _attempt(self, row: Mapping[str, Any]) -> DeliveryOutcome:
        notification = Notification(
            key=row["key"], recipient=row["recipient"], priority=row["priority"], message=row["message"],
            kind=row["kind"], subject=row["subject"], at=datetime.fromisoformat(row["requested_at"]),
        )
        attempt = int(row["attempts"]) + 1
        channel = self.router.channel_for(notification.recipient, notification.priority)
        error: str | None = None
        retryable = True
        try:
            channel.deliver(notification)
        except DeliveryError as failure:
            error, retryable = failure.reason, failure.retryable
        except Exception as failure:  # a channel bug must not stop delivery of the others
            error = f"{type(failure).__name__}: {failure}"
        now = self.clock()
        dead = error is not None and (not retryable or attempt >= self.retry.max_attempts)
        retry_at = now + self.retry.delay(attempt, self.rng) if error is not None and not dead else None
        outcome = DeliveryOutcome(
            key=notification.key, subject_kind=row["subject_kind"], subject=row["subject"], channel=channel.name,
            attempt=attempt, at=now, error=error, dead=dead, retry_at=retry_at,
        )
        if self.observer is not None:
            self.observer(notification, outcome)
        return outcome
