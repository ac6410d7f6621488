"""The operations the coordinator offers to the outside (an HTTP API, a dashboard), as ports.

Driving adapters depend on these protocols only; the composition root gives them implementations: queries
over the read models, and commands carried out by the home's single writer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.alerts import Item

Document = dict[str, Any]


class NotFound(LookupError):
    """No such task, agent or notification; the message says which."""

    @classmethod
    def named(cls, kind: str, name: str, when: str = "") -> NotFound:
        """No alert has named the task or agent `name` (by `when`, e.g. " by 2025-07-16T10:00:00Z")."""
        return cls(f"unknown {kind} {name!r}: no alert has named it{when}")


class Unavailable(RuntimeError):
    """Commands cannot be carried out here now (a standby: another coordinator writes); the message says who."""


class Queries(Protocol):
    """What can be read: the same documents the command line prints with `--json`."""

    def tasks(self, level: str | None = None, agent: str | None = None, limit: int | None = None) -> list[Document]:
        """Tasks, most severe first (only those at `level`, held by `agent`, if given; at most `limit`)."""
        ...

    def task(self, task_id: str) -> Document | None:
        """One task with its history, or None when no alert named it."""
        ...

    def agents(self) -> list[Document]:
        """Agents, most severe first, with the open tasks each holds."""
        ...

    def agent(self, agent_id: str) -> Document | None:
        """One agent with its history, or None when no alert named it."""
        ...

    def notifications(self, status: str | None = None, limit: int = 50) -> list[Document]:
        """Notifications, newest first."""
        ...

    def audit(
        self, task: str | None = None, agent: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Document]:
        """Crisis episodes with their steps."""
        ...

    def quarantine(self) -> list[Document]:
        """Input that was refused, oldest first."""
        ...

    def health(self) -> Document:
        """The health indicators."""
        ...

    def prometheus(self) -> str:
        """The metrics in the Prometheus text exposition format."""
        ...

    def metrics(self) -> Document:
        """The metrics document of `coordinator metrics --json`."""
        ...

    def crisis_log(self) -> list[Document]:
        """The crisis log lines in the upstream `coordination_crisis_log.json` shape."""
        ...

    def cards(self, task_ids: Collection[str] | None = None, completed_since: datetime | None = None) -> list[Document]:
        """Tasks as a board shows them, most severe first: open ones and those completed since `completed_since`
        (or, given `task_ids`, those tasks), each with its acknowledgement and when it reached its level."""
        ...

    def task_events(self, task_id: str) -> list[Document] | None:
        """Every event of one task, oldest first, as the event stream's data with its kind as `event` (None when no
        alert named it)."""
        ...

    def response_times(self, limit: int = 2_000) -> list[Document]:
        """The newest delivered notifications' response times: {requested_at, level, seconds}, oldest first."""
        ...

    def position(self) -> int:
        """The position in the event stream up to which every answer is current."""
        ...


class Commands(Protocol):
    """What can be done: carried out by the writer, each answered once it is recorded."""

    def ingest(self, items: Sequence[Item]) -> Document:
        """Apply alerts, record observations and quarantine the rejects: `{"processed", "observed", "duplicates",
        "quarantined"}`."""
        ...

    def acknowledge(self, task_id: str, by: str) -> Document:
        """Someone takes charge of the task's crisis (`NotFound` for an unknown task)."""
        ...

    def resolve(self, task_id: str, by: str, note: str | None) -> Document:
        """Close the task by hand (`NotFound` for an unknown task)."""
        ...

    def retry(self, notification: str | None) -> Document:
        """Deliver one dead (or failed) notification again, by id or key, or every dead one when None."""
        ...

    def catch_up(self) -> None:
        """Bring the read models up to date with every event recorded so far; return once they are."""
        ...
