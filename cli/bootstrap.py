"""The composition root: builds the coordinator and its read models from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adapters.event_codec import EventMapper
from adapters.sqlite_store import LedgerRecorder
from cli.settings import Settings
from domain.coordinator import Coordinator
from projections.runner import ProjectionRunner
from projections.status import StatusProjection


@dataclass
class Services:
    """Everything a command needs, wired together."""

    settings: Settings
    coordinator: Coordinator
    views: ProjectionRunner

    @property
    def ledger(self) -> LedgerRecorder:
        """The event store's ledger (accepted alerts, quarantine, indexes)."""
        recorder = self.coordinator.recorder
        assert isinstance(recorder, LedgerRecorder)
        return recorder

    def close(self) -> None:
        """Release every database handle."""
        self.views.close()
        self.coordinator.close()


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for the embedded SQLite store."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.event_store_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{LedgerRecorder.__module__}:{LedgerRecorder.__qualname__}",
        "MAPPER_TOPIC": f"{EventMapper.__module__}:{EventMapper.__qualname__}",
    }


def build(settings: Settings) -> Services:
    """Open (creating if needed) the home directory, event store and read models."""
    settings.home.mkdir(parents=True, exist_ok=True)
    coordinator = Coordinator(env=event_store_env(settings))
    views = ProjectionRunner(
        settings.views_path, coordinator.recorder, [StatusProjection()]
    )
    return Services(settings, coordinator, views)


@contextmanager
def services(settings: Settings) -> Iterator[Services]:
    """`build`, closing everything afterwards."""
    built = build(settings)
    try:
        yield built
    finally:
        built.close()
