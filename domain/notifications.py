"""Notifications the coordinator decides to send, and the port every delivery channel implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

STANDARD = "standard"
PRIORITY = "priority"
URGENT = "urgent"
PRIORITIES = (STANDARD, PRIORITY, URGENT)


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one recipient, identified by its idempotency key (within its hive: `hive` names one besides
    the home's own, whose keys may repeat another hive's)."""

    key: str
    recipient: str
    priority: str
    message: str
    kind: str
    subject: str
    at: datetime
    hive: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON fields (the instant as ISO 8601; `hive` only when it names one)."""
        fields = {
            "key": self.key,
            "recipient": self.recipient,
            "priority": self.priority,
            "message": self.message,
            "kind": self.kind,
            "subject": self.subject,
            "at": self.at.isoformat(),
        }
        return fields if self.hive is None else {**fields, "hive": self.hive}

    @property
    def identity(self) -> str:
        """What tells this notification apart from every other on a channel that hives share (`identity_of`)."""
        return identity_of(self.key, self.hive)


def identity_of(key: str, hive: str | None) -> str:
    """A notification's key, after its hive's name and `/` when it names one: unique among every hive's."""
    return key if hive is None else f"{hive}/{key}"


class DeliveryError(Exception):
    """A channel could not deliver; `retryable` says whether trying again may help."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Channel(Protocol):
    """Delivers a notification, or raises `DeliveryError`."""

    name: str

    def deliver(self, notification: Notification) -> None:
        """Send it; return only once the channel has accepted it."""
        ...


@runtime_checkable
class BatchChannel(Channel, Protocol):
    """A channel that can accept many notifications at once (e.g. one fsync for many lines)."""

    def deliver_many(self, notifications: Sequence[Notification]) -> list[DeliveryError | None]:
        """Send them all; for each, None when accepted or the error that refused it."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """How one delivery attempt of a queued notification went."""

    key: str
    subject_kind: str
    subject: str
    channel: str
    attempt: int
    at: datetime
    error: str | None = None
    dead: bool = False
    retry_at: datetime | None = None

    @property
    def status(self) -> str:
        """`delivered`, `failed` (will be retried) or `dead`."""
        if self.error is None:
            return "delivered"
        return "dead" if self.dead else "failed"


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

    def total(self) -> int:
        """How many attempts were counted."""
        return self.delivered + self.failed + self.dead


ATTEMPT_FIELDS = ("key", "channel", "attempt", "at", "error", "dead", "retry_at")
"""What the delivery stream holds of an attempt, in this order (`domain.deliveries`): a delivered one has the first
four, a failed one all of them."""


def fields_of(row: Sequence[Any]) -> dict[str, Any]:
    """An attempt of the delivery stream by name, as a one-attempt event of older stores kept it."""
    return dict(zip(ATTEMPT_FIELDS, row, strict=False))


@dataclass(frozen=True, slots=True)
class NotificationKey:
    """The idempotency key of one requested notification, `<subject kind>:<subject>#<request number>.<index>`: the
    `index`-th notification of the subject's `request`-th decision to notify. Formatted and parsed only here."""

    subject_kind: str
    subject: str
    request: int
    index: int

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject}#{self.request}.{self.index}"

    @classmethod
    def parse(cls, text: str) -> NotificationKey:
        """The key written as `text` (ValueError when it is not one); a subject may itself hold `:` and `#`."""
        kind, colon, rest = text.partition(":")
        subject, hash_mark, numbers = rest.rpartition("#")
        request, dot, index = numbers.partition(".")
        if not (colon and hash_mark and dot and request.isdigit() and index.isdigit() and kind):
            raise ValueError(f"not a notification key: {text!r}")
        return cls(kind, subject, int(request), int(index))

