"""The store port in memory: eventsourcing's plain-Python recorder with the ledger and outbox kept in dictionaries.

For fast tests of the application and its process manager with no database. It keeps what the SQLite store keeps
(accepted fingerprints, quarantine, task and agent indexes, input marks, the outbox) and saves each batch with its
events all or nothing. Snapshots are not kept: they only shorten loading, and replay gives the same aggregates.

`environment()` is the eventsourcing environment of a `Coordinator` over it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from adapters.clock import Clock, SystemClock
from adapters.event_codec import EventMapper
from adapters.outbox_table import utc
from app.ledger import AcceptedAlert, LedgerBatch, TaskIndexEntry
from domain.alerts import Quarantined, quarantine_digest
from domain.sources import SourceMark

WAITING = ("pending", "failed")


class MemoryStore(POPOApplicationRecorder):
    """Events, ledger and outbox in memory (see `app.ledger.Store` and `adapters.delivery.Outbox`)."""

    clock: Clock = SystemClock()
    """Where recording times come from (a notification is due from when it was recorded), as for the SQLite store."""

    def __init__(self) -> None:
        super().__init__()
        self.digests: set[str] = set()
        self.accepted: dict[str, AcceptedAlert] = {}
        self.quarantined: list[Quarantined] = []
        self.tasks: dict[str, TaskIndexEntry] = {}
        self.agents: dict[str, datetime | None] = {}
        self.sources: dict[str, SourceMark] = {}
        self.outbox: dict[str, dict[str, Any]] = {}
        """Notifications by key, as rows with the SQLite outbox's columns (instants as its sortable UTC text)."""

    def save(self, events: Sequence[StoredEvent], batch: LedgerBatch) -> None:
        """Record `events` and the batch's ledger rows, all or nothing: a version conflict records neither, and
        applying the rows cannot fail once the events are in."""
        with self._database_lock:
            self.insert_events(events)
            self._apply(batch, utc(self.clock.now()))

    def _apply(self, batch: LedgerBatch, now: str | None) -> None:
        for alert in batch.accepted:
            self.accepted[alert.fingerprint] = alert
        for item in batch.quarantined:  # the same bad item read again is not recorded twice
            digest = quarantine_digest(item)
            if digest not in self.digests:
                self.digests.add(digest)
                self.quarantined.append(item)
        self.tasks.update(batch.tasks)
        self.agents.update(batch.agents)
        if batch.source is not None:
            self.sources[batch.source.path] = batch.source
        for entry in batch.outbox:
            self.outbox.setdefault(entry.key, {
                "id": len(self.outbox) + 1, "key": entry.key, "subject_kind": entry.subject_kind,
                "subject": entry.subject, "recipient": entry.recipient, "priority": entry.priority,
                "kind": entry.kind, "message": entry.message, "requested_at": utc(entry.requested_at),
                "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
                "channel": None, "delivered_at": None, "created_at": now,
            })
        for update in batch.deliveries:
            row = self.outbox.get(update.key)
            if row is None or row["status"] == "delivered":
                continue  # nothing queued under that key, or delivered: never reopened by a late outcome
            row.update(status=update.status, attempts=update.attempts, channel=update.channel,
                       next_attempt_at=utc(update.next_attempt_at), last_error=update.last_error)
            if update.status == "delivered":
                row["delivered_at"] = utc(update.at)

    # Ledger ---------------------------------------------------------------------------------------

    def known_quarantine(self, digests: Collection[str]) -> set[str]:
        return {digest for digest in digests if digest in self.digests}

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        return {fingerprint for fingerprint in fingerprints if fingerprint in self.accepted}

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        return {aggregate_id for aggregate_id in aggregate_ids if self.select_events(aggregate_id, limit=1)}

    def open_tasks(self) -> list[tuple[str, str | None, bool]]:
        return [(entry.task_id, entry.agent_id, entry.pinned) for entry in self.tasks.values() if entry.open]

    def agent_ids(self) -> list[str]:
        return list(self.agents)

    def source_mark(self, path: str) -> SourceMark | None:
        return self.sources.get(path)

    def next_due(self) -> datetime | None:
        moments = [entry.next_due for entry in self.tasks.values() if entry.next_due is not None]
        moments += [due for due in self.agents.values() if due is not None]
        return min(moments, default=None)

    def due(self, as_of: datetime) -> tuple[list[str], list[str]]:
        tasks = sorted((entry.next_due, task_id) for task_id, entry in self.tasks.items()
                       if entry.next_due is not None and entry.next_due <= as_of)
        agents = sorted((due, agent_id) for agent_id, due in self.agents.items() if due is not None and due <= as_of)
        return [task_id for _, task_id in tasks], [agent_id for _, agent_id in agents]

    def quarantine_count(self) -> int:
        """How many items are in quarantine."""
        return len(self.quarantined)

    # Outbox ---------------------------------------------------------------------------------------

    def due_notifications(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Notifications waiting for an attempt at or before `now`, the earliest first."""
        moment = utc(now)
        return self._waiting(lambda row: row["next_attempt_at"] <= moment)[:limit]

    def upcoming_notifications(self, limit: int) -> list[tuple[str, datetime]]:
        """The key and due time of the first `limit` notifications waiting for an attempt."""
        return [(row["key"], datetime.fromisoformat(row["next_attempt_at"]))
                for row in self._waiting(lambda row: True)[:limit]]

    def _waiting(self, wanted: Any) -> list[dict[str, Any]]:
        rows = [row for row in self.outbox.values() if row["status"] in WAITING and wanted(row)]
        return sorted(rows, key=lambda row: (row["next_attempt_at"], row["id"]))


class MemoryFactory(POPOFactory):
    """eventsourcing's plain-Python persistence, with `MemoryStore` as the application recorder."""

    def application_recorder(self) -> ApplicationRecorder:
        return MemoryStore()


def environment() -> dict[str, str]:
    """The eventsourcing environment of a coordinator kept in memory (with the stored-JSON codec of the files)."""
    return {
        "PERSISTENCE_MODULE": f"{MemoryFactory.__module__}:{MemoryFactory.__qualname__}",
        "MAPPER_TOPIC": f"{EventMapper.__module__}:{EventMapper.__qualname__}",
    }
