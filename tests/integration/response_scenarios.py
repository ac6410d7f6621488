"""Helpers and fixtures shared by the response engine tests: a coordinator on a real store, fed JSON Lines files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapters.alert_file import read_alerts
from app.coordinator import Coordinator, IngestReport
from cli.bootstrap import build, store_environment
from cli.settings import Settings
from domain.escalation import Escalating
from domain.responses import Policy
from domain.task import Task

if TYPE_CHECKING:
    from cli.bootstrap import StoreRecorder

Row = dict[str, Any]
Route = tuple[str, str, str]
PM = "pm-agent"
KEY = re.compile(r"^(task|agent):.+#\d+\.\d+$")


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 7, 16, hour, minute, second, tzinfo=UTC)


def stamp(hour: int, minute: int = 0, second: int = 0) -> str:
    return at(hour, minute, second).isoformat().replace("+00:00", "Z")


def stored(hour: int, minute: int = 0, second: int = 0) -> str:
    """An instant as the outbox stores it."""
    return at(hour, minute, second).isoformat(timespec="microseconds")


# --- a coordinator on a real store -----------------------------------------------------------------------------------


@dataclass
class Store:
    """A coordinator on the store of `home` (its SQLite file, or a PostgreSQL server), fed from JSON Lines files
    written beside it."""

    home: Path
    coordinator: Coordinator
    closer: Callable[[], None]
    files: list[Path] = field(default_factory=list)

    @property
    def ledger(self) -> StoreRecorder:
        recorder: StoreRecorder = self.coordinator.recorder  # type: ignore[assignment]
        return recorder

    def write(self, *alerts: dict[str, Any]) -> Path:
        path = self.home.parent / f"alerts-{len(self.files)}.jsonl"
        path.write_text("".join(json.dumps(alert, ensure_ascii=False) + "\n" for alert in alerts), encoding="utf-8")
        self.files.append(path)
        return path

    def feed(self, *alerts: dict[str, Any]) -> IngestReport:
        return self.ingest(self.write(*alerts))

    def ingest(self, path: Path) -> IngestReport:
        return self.coordinator.ingest(read_alerts(path))

    def rows(self, subject: str | None = None) -> list[Row]:
        """Outbox rows, oldest first (optionally only those about `subject`)."""
        rows = list(reversed(self.ledger.notifications()))
        return [row for row in rows if subject is None or row["subject"] == subject]

    def new_rows(self, before: int) -> list[Row]:
        return self.rows()[before:]

    def close(self) -> None:
        self.closer()


def open_store(home: Path, policy: Policy | None = None, url: str | None = None) -> Store:
    """A coordinator on the store of `home`: its SQLite file, or the PostgreSQL database at `url`."""
    settings = Settings(home=home, store=url)
    if policy is None:
        services = build(settings)
        return Store(home, services.coordinator, services.close)
    home.mkdir(parents=True, exist_ok=True)
    coordinator = Coordinator(env=store_environment(settings), policy=policy)
    return Store(home, coordinator, coordinator.close)


@pytest.fixture
def store(tmp_path: Path, store_url: str | None) -> Iterator[Store]:
    opened = open_store(tmp_path / "home", url=store_url)
    yield opened
    opened.close()


def routes(rows: list[Row]) -> list[Route]:
    return [(row["recipient"], row["priority"], row["kind"]) for row in rows]


def events_of(coordinator: Coordinator, task_id: str) -> list[Any]:
    return list(coordinator.events.get(Task.id_for(task_id)))


def requested_keys(coordinator: Coordinator, aggregate_id: Any) -> list[str]:
    return [
        notification["key"]
        for event in coordinator.events.get(aggregate_id)
        if isinstance(event, Escalating.NotificationsRequested)
        for notification in event.notifications
    ]
