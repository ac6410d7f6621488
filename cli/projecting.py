"""The projection worker's loop: catch the read models up, then wait until the event store may hold more."""

from __future__ import annotations

import signal
import threading
import time

import psycopg
from eventsourcing.persistence import OperationalError

from adapters.event_signal import Changes, Listening, Polling
from cli.bootstrap import services
from cli.service_log import Log
from cli.settings import Settings
from cli.storage import guarded

SAFETY_NET = 30.0
"""The longest the worker waits without looking, whatever it was told (a notification lost with a connection)."""
RETRY = 1.0
"""Seconds between attempts to read a store out of reach."""
PAGE = 10_000
"""Events per read-model transaction: a long-running process keeps its memory small."""


def keep_current(settings: Settings, log: Log, once: bool = False) -> None:
    """Apply new events to the read models (the home's, or a PostgreSQL store's) as they are recorded, until SIGTERM
    or SIGINT (or, with `once`, until they are current)."""
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    with guarded(settings.home), services(settings) as built:
        views = built.views
        views.page_size = PAGE
        changes: Changes = Polling()
        if settings.store is not None:
            changes = Listening(settings.store, built.ledger.channel_name)  # type: ignore[union-attr]
        def position() -> int:
            return min((views.position(projection) for projection in views.projections), default=0)

        try:
            views.catch_up()
            where = settings.home if settings.store is None else "the store"
            log(f"read models of {where} current at position {position()}", event="current",
                position=position())
            unreachable: str | None = None
            while not once and not stop.is_set():
                woken = changes.wait(stop, RETRY if unreachable else SAFETY_NET)
                started = time.perf_counter()
                try:
                    applied = views.catch_up()
                except (OperationalError, psycopg.OperationalError) as error:  # out of reach: keep trying, say so once
                    if unreachable is None:
                        log(f"cannot reach the event store ({error}); trying again", event="unreachable",
                            error=str(error))
                    unreachable = str(error)
                    continue
                if unreachable is not None:
                    log("reached the event store again", event="reachable")
                    unreachable = None
                if applied:
                    log(f"read models at position {position()} ({time.perf_counter() - started:.3f} s)",
                        event="applied", position=position(), woken=woken)
        finally:
            changes.close()
    log("stopped", event="stopped")
