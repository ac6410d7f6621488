"""A home directory opened by a benchmark through the application package and its adapters (never the CLI).

It wires the same parts the command line does, with their defaults: the SQLite event store and its ledger, the
read models, and delivery through the channels a benchmark names.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from adapters.channels.kind import Context
from adapters.channels.registry import build_channels
from adapters.delivery import Dispatcher, RetryPolicy, Router
from adapters.home_files import EVENTS_FILE, VIEWS_FILE
from adapters.sqlite_store import EventSource, LedgerRecorder, environment
from app.coordinator import Coordinator
from projections.parallel import SecondProcess
from projections.registry import projections
from projections.runner import ProjectionRunner


class Home:
    """The coordinator, its ledger and its read models in `path`; `channels`: `[channels.*]` sections by name."""

    def __init__(self, path: Path, channels: Mapping[str, Any] | None = None, default: str = "file") -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.coordinator = Coordinator(env=environment(path / EVENTS_FILE))
        recorder = self.coordinator.recorder
        assert isinstance(recorder, LedgerRecorder)
        self.ledger = recorder
        self.channels = dict(channels or {})
        self.default = default
        self.views = self.read_models(path / VIEWS_FILE)

    def read_models(self, path: Path) -> ProjectionRunner:
        """Every projection over this home's events, kept in `path`."""
        return ProjectionRunner(path, self.ledger, projections(),
                                second_process=SecondProcess(partial(EventSource, self.path / EVENTS_FILE)))

    def dispatcher(self) -> Dispatcher:
        """Delivers the outbox through the channels named (and `file`, `console`), to `default` unless routed."""
        router = Router(build_channels(self.channels, Context(self.path)), (), self.default)
        return Dispatcher(self.ledger, router, self.coordinator.record_deliveries, RetryPolicy())

    def close(self) -> None:
        """Release every database handle."""
        self.views.close()
        self.coordinator.close()
