"""The ledger port: what the coordinator keeps beside its events, written in the same transaction.

The ledger remembers which alerts were accepted (by fingerprint), what was quarantined and
why, which open tasks each agent holds and when each aggregate is next due to be re-judged.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent

from domain.alerts import Quarantined
from domain.sources import SourceMark


class LeaseLost(PersistenceError):
    """A store shared by several coordinators no longer takes this one's writes (its writer lease ended; another
    may write now): it must stop. Nothing was recorded by the save or claim that found out."""


@dataclass(frozen=True, slots=True)
class TaskIndexEntry:
    """Where a task stands, for finding it by agent or by due time."""

    task_id: str
    agent_id: str | None
    open: bool
    next_due: datetime | None
    pinned: bool = False
    """True while the task is recorded at EMERGENCY past its deadline: no agent change can move it."""


@dataclass(frozen=True, slots=True)
class AcceptedAlert:
    """An alert (or observation) accepted into the event store; `timestamp` None for an observation without one."""

    fingerprint: str
    alert_type: str
    timestamp: datetime | None
    source: str
    line: int | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A requested notification, waiting for delivery."""

    key: str
    subject_kind: str
    subject: str
    recipient: str
    priority: str
    kind: str
    message: str
    requested_at: datetime
    origin: tuple[str, int] | None = None
    """The event that requested it (aggregate id as 32 hex digits, version), where its text is kept: a store keeps
    the text once, there, and reads it from there (without one, beside the entry)."""
    item: int = 0
    """Its place among the notifications that event requested."""


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """Where a notification's delivery stands after an attempt."""

    key: str
    status: str
    attempts: int
    channel: str
    at: datetime
    next_attempt_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class LedgerBatch:
    """Everything beside the events that one save records, atomically with them."""

    accepted: list[AcceptedAlert] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    tasks: dict[str, TaskIndexEntry] = field(default_factory=dict)
    agents: dict[str, datetime | None] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    deliveries: list[DeliveryUpdate] = field(default_factory=list)
    source: SourceMark | None = None
    snapshots: list[StoredEvent] = field(default_factory=list)
    """Snapshots of aggregates saved in this batch, at the versions this save brings them to."""

    def __bool__(self) -> bool:
        return bool(
            self.accepted or self.quarantined or self.tasks or self.agents or self.outbox or self.deliveries
            or self.source
        )


@runtime_checkable
class Ledger(Protocol):
    """Read side of the ledger, as the coordinator needs it while deciding."""

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        """Those of `fingerprints` already accepted."""

    def known_quarantine(self, digests: Collection[str]) -> set[str]:
        """Those of `digests` (`domain.alerts.quarantine_digest`) of items already in quarantine."""

    def open_tasks(self) -> list[tuple[str, str | None, bool]]:
        """Every open task as (task id, agent in charge, pinned)."""

    def agent_ids(self) -> list[str]:
        """Every agent the coordinator knows."""

    def source_mark(self, path: str) -> SourceMark | None:
        """How far the input file at `path` has been read and recorded."""

    def next_due(self) -> datetime | None:
        """The earliest time any task or agent is next due to be re-judged."""

    def due(self, as_of: datetime) -> tuple[list[str], list[str]]:
        """Ids of tasks and agents whose next time-based crossing is at or before `as_of`."""

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        """Those of `aggregate_ids` with events recorded (one query, however many are asked about)."""



@runtime_checkable
class Store(Ledger, Protocol):
    """The event store the coordinator writes through: it keeps the ledger, and saves events with a ledger batch."""

    def save(self, events: Sequence[StoredEvent], batch: LedgerBatch) -> None:
        """Record `events` (in this order), the batch's ledger rows and snapshots, all or nothing; a snapshot
        replaces the earlier ones of its aggregate."""
