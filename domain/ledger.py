"""The ledger port: what the coordinator keeps beside its events, written in the same transaction.

The ledger remembers which alerts were accepted (by fingerprint), what was quarantined and
why, which open tasks each agent holds and when each aggregate is next due to be re-judged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from domain.alerts import Quarantined


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
    """An alert accepted into the event store."""

    fingerprint: str
    alert_type: str
    timestamp: datetime
    source: str
    line: int | None


@dataclass(slots=True)
class LedgerBatch:
    """Everything beside the events that one save records, atomically with them."""

    accepted: list[AcceptedAlert] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    tasks: dict[str, TaskIndexEntry] = field(default_factory=dict)
    agents: dict[str, datetime | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.accepted or self.quarantined or self.tasks or self.agents)


@runtime_checkable
class Ledger(Protocol):
    """Read side of the ledger, as the coordinator needs it while deciding."""

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        """Those of `fingerprints` already accepted."""

    def tasks_swayed_by(self, agent_id: str) -> list[str]:
        """Ids of the open, unpinned tasks `agent_id` is in charge of: those its status can move."""

    def due(self, as_of: datetime) -> tuple[list[str], list[str]]:
        """Ids of tasks and agents whose next time-based crossing is at or before `as_of`."""
