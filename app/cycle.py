"""The coordinator's one cycle: ingest → tick → deliver → catch up.

`run --once` and `tick` go through it whole; the service and the HTTP API take its steps one by one (the service
between waits, the API's alerts between the service's batches), so every way in applies alerts, records crossings
and hands on notifications the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.coordinator import DEFAULT_BATCH_SIZE, Coordinator
from app.intake import IngestReport
from domain.alerts import Item
from domain.notifications import DeliveryReport
from domain.sources import SourceMark


class Deliveries(Protocol):
    """Where requested notifications go out (the outbox's dispatcher)."""

    def drain(self) -> DeliveryReport:
        """Deliver everything due now, returning once each attempt is recorded."""
        ...

    def pump(self) -> DeliveryReport:
        """Record the attempts that came back and hand on what is due, never waiting for a channel."""
        ...


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one whole cycle did."""

    ingested: IngestReport
    moved: int
    """Tasks and agents whose level time alone changed."""
    delivered: DeliveryReport


@dataclass
class Cycle:
    """The steps of the cycle over one coordinator; `settle` brings the read models up to date."""

    coordinator: Coordinator
    deliveries: Deliveries
    settle: Callable[[], object]
    batch_size: int = DEFAULT_BATCH_SIZE

    def take(self, items: Iterable[Item], mark: SourceMark | None = None) -> IngestReport:
        """Apply alerts, record observations and quarantine the rejects (`mark`: where the input then stands)."""
        return self.coordinator.ingest(items, self.batch_size, mark=mark)

    def advance(self, now: datetime) -> int:
        """Record every crossing time alone has caused up to `now`; how many tasks and agents moved."""
        return self.coordinator.tick(now)

    def advance_if_due(self, now: datetime) -> int:
        """`advance`, only when some crossing or reminder is due by `now` (cheap to ask often)."""
        due = self.coordinator.ledger.next_due()
        return 0 if due is None or due > now else self.advance(now)

    def deliver(self, wait: bool) -> DeliveryReport:
        """Deliver what is due: waiting for every attempt to be recorded, or handing it on without waiting."""
        return self.deliveries.drain() if wait else self.deliveries.pump()

    def once(self, items: Iterable[Item], now: datetime, decided: Callable[[], None] | None = None) -> CycleReport:
        """The whole cycle: ingest `items`, advance to `now`, (tell `decided`), deliver and settle."""
        ingested = self.take(items)
        moved = self.advance(now)
        if decided is not None:
            decided()
        delivered = self.deliver(wait=True)
        self.settle()
        return CycleReport(ingested, moved, delivered)

    def tick(self, now: datetime) -> CycleReport:
        """The cycle with no new input: advance to `now`, deliver and settle."""
        return self.once((), now)
