"""The composition root: builds the coordinator and its read models from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from adapters import home_files, input_limits, mappings
from adapters.clock import Clock, clock_from_environment
from adapters.delivery import Dispatcher, Observer, RetryPolicy
from adapters.home_lock import HomeLock
from app.coordinator import Coordinator
from app.cycle import Cycle
from cli.channels_setup import build_router
from cli.settings import Settings
from domain.responses import Policy
from projections.parallel import SecondProcess
from projections.registry import projections
from projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from adapters.postgres_lease import WriterLease
    from adapters.postgres_store import PostgresStore
    from adapters.sqlite_store import LedgerRecorder

    StoreRecorder = LedgerRecorder | PostgresStore

@dataclass
class Services:
    """Everything a command needs, wired together."""

    settings: Settings
    coordinator: Coordinator
    views: ProjectionRunner
    clock: Clock
    lock: HomeLock | None = None
    """The home's writer lock, when these services write."""
    lease: WriterLease | None = None
    """The PostgreSQL store's writer lease, when these services write to one."""

    @property
    def ledger(self) -> StoreRecorder:
        """The event store with its ledger (accepted alerts, quarantine, indexes, outbox)."""
        return self.coordinator.recorder  # type: ignore[return-value]  # one of the two, by `store_environment`

    def dispatcher(
        self, test_mode: bool = False, observer: Observer | None = None, console: TextIO | None = None,
    ) -> Dispatcher:
        """Delivers the outbox through the configured channels (built on first use; `console`: where the console
        channel prints, standard output by default)."""
        settings = self.settings
        retry = RetryPolicy(settings.max_attempts, settings.retry_base_delay, settings.retry_max_delay)
        return Dispatcher(
            self.ledger, build_router(settings, test_mode, console), self.coordinator.record_deliveries, retry,
            clock=self.clock.now, observer=observer,
            hive=None if settings.hive == home_files.DEFAULT_HIVE else settings.hive,
        )

    def cycle(self, dispatcher: Dispatcher) -> Cycle:
        """The coordinator's cycle delivering through `dispatcher`; it settles the read models at once (with a
        progress bar on standard error for a long catch-up)."""
        from cli.views import catch_up

        return Cycle(self.coordinator, dispatcher, partial(catch_up, self.views), self.settings.batch_size)

    def close(self) -> None:
        """Release every database handle."""
        self.views.close()
        self.coordinator.close()


def policy_for(settings: Settings) -> Policy:
    """The response policy the settings describe."""
    return Policy(settings.pm_agent, settings.repeat_interval, settings.auto_reassign, tuple(settings.backup_pool))


def build(settings: Settings) -> Services:
    """Open (creating if needed) the home directory, event store and read models."""
    settings.home.mkdir(parents=True, exist_ok=True)
    clock = clock_from_environment()
    input_limits.configure(settings.limits)  # the alerts readers apply them from here on
    mappings.configure(settings.mapping_rules)  # and these rules
    coordinator = Coordinator(env=store_environment(settings), policy=policy_for(settings))
    recorder: Any = coordinator.recorder
    recorder.clock = clock
    return Services(settings, coordinator, read_models(settings, recorder), clock)


def store_environment(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment of the configured event store: the PostgreSQL server `store` names, else the
    SQLite file of the home."""
    if settings.store is not None:
        from adapters import postgres_open

        return postgres_open.probed_environment(settings.store)
    from adapters import sqlite_store

    return sqlite_store.environment(settings.event_store_path)


def event_source(settings: Settings) -> Any:
    """A way to open the configured event store for reading in another process (picklable)."""
    if settings.store is not None:
        from adapters import postgres_open

        return partial(postgres_open.EventSource, settings.store)
    from adapters import sqlite_store

    return partial(sqlite_store.EventSource, settings.event_store_path)


def read_models(settings: Settings, recorder: StoreRecorder, path: Path | None = None) -> ProjectionRunner:
    """The read models over `recorder`: in `path` if given, else where the store keeps them (the home's views
    file; on a PostgreSQL store, a schema of its server: `adapters.postgres_views`). Long rebuilds of a file may
    lend part of the work to a second process."""
    if path is None and settings.store is not None:
        from adapters.postgres_views import PostgresViews

        return ProjectionRunner(PostgresViews(settings.store, recorder), recorder, projections())
    return ProjectionRunner(path or settings.views_path, recorder, projections(),
                            second_process=SecondProcess(event_source(settings)))


@contextmanager
def services(
    settings: Settings, writer: str | None = None, lease: WriterLease | None = None, lock: HomeLock | None = None,
) -> Iterator[Services]:
    """`build`, closing everything afterwards. `writer` names a command that changes the event store: it
    holds the home's writer lock meanwhile (`lock` if already taken; `HomeLocked` if another process holds it)
    and, on a PostgreSQL store, the store's writer lease (`lease` if already taken; `LeaseHeld` if another
    coordinator holds it). The lease is released afterwards, and the lock if taken here (one given stays held)."""
    taken = lock is None and writer is not None
    if taken:
        lock = HomeLock(settings.home, writer or "").acquire()
    try:
        if writer is not None and settings.store is not None and lease is None:
            from adapters.postgres_lease import WriterLease

            lease = WriterLease(settings.store, writer).acquire()
        built = build(settings)
        built.lock, built.lease = lock, lease
        if lease is not None:
            built.ledger.write_under(lease)  # type: ignore[union-attr]  # a PostgreSQL store's
        try:
            yield built
        finally:
            built.close()
    finally:
        if lease is not None:
            lease.release()
        if taken and lock is not None:
            lock.release()
