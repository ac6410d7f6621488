"""`coordinator run` on a store with hives: the coordinators on the store share the hives out among themselves.

Each hive has a writer lease of its own (an advisory lock on the store's server: see `adapters.postgres_lease`).
Every `TAKE_EVERY` seconds a coordinator takes the leases that are free, up to `max_hives_per_writer`, and writes
each hive it holds on a thread of its own: a service following that hive's alerts file, exactly as `coordinator
run` follows one. When a coordinator dies the server frees its leases, and the others take its hives at their next
look (each as its room allows). One HTTP API serves every hive (`/api/v1/hives/{hive}/...`): a hive written
here takes commands; the others answer queries from their read models and refuse commands, naming
who writes them.
"""

from __future__ import annotations

import faulthandler
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.service_log import Log, log_from_handler
from cli.settings import Settings

if TYPE_CHECKING:
    from adapters.home_lock import HomeLock
    from adapters.http.deps import Side
    from adapters.http.server import HttpServer
    from adapters.postgres_lease import WriterLease
    from cli.service import Service

TAKE_EVERY = 1.0
"""Seconds between two looks for free hives (a dead coordinator's hives are taken within about this)."""
RETRY_AFTER = 5.0
"""Seconds a hive whose writer failed (its store out of reach, say) is left before it is taken again."""
READY_WAIT = 30.0
"""Seconds start-up waits for the hives it took to follow their files before it says it is ready."""


class HiveWriter:
    """One hive written by this coordinator: its service, on a thread of its own, from `start` until it stops
    (`halt`, or its lease lost, or a failure, which it logs)."""

    def __init__(
        self, settings: Settings, lease: WriterLease, lock: HomeLock | None, test_mode: bool, log: Log,
        serve: Callable[[Any, Service, Any], None],
    ) -> None:
        self.settings = settings
        self.lease = lease
        self.lock = lock
        """The home's lock, for the default hive (whose directory is the home); None: the hive's own is taken."""
        self.test_mode = test_mode
        self.log = log
        self.serve = serve
        """Called with the built services, the service and its dispatcher once it is about to run."""
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.failed = False
        self._halt = threading.Event()
        self._service: Service | None = None
        self.thread = threading.Thread(target=self._run, name=f"hive-{settings.hive}", daemon=True)

    def start(self) -> HiveWriter:
        self.thread.start()
        return self

    def halt(self) -> None:
        """Ask the service to finish its batch and stop."""
        self._halt.set()
        service = self._service
        if service is not None:
            service.stop.set()
            service.wake.set()

    def _run(self) -> None:
        from cli.bootstrap import services
        from cli.running import serving

        try:
            with services(self.settings, writer="run", lease=self.lease, lock=self.lock) as built:
                service, dispatcher = serving(built, self.settings.alerts_file, self.test_mode, self.log)
                self._service = service
                if self._halt.is_set():
                    service.stop.set()
                self.serve(built, service, dispatcher)
                service.run(ready=self.ready.set)
        except Exception as error:  # logged, and the hive is left free for whoever can write it
            self.failed = True
            self.log(f"stopped writing, after a failure: {type(error).__name__}: {error}", event="hive_failed",
                     error=str(error))
        finally:
            self.lease.release()
            self.ready.set()
            self.ended.set()


class Sharing:
    """The hives of one home's store, as this coordinator shares them with the others: which it writes, which it
    stands by for."""

    def __init__(self, settings: Settings, alerts_file: Path, test_mode: bool, log: Log, lock: HomeLock) -> None:
        from adapters.postgres_lease import WriterLease

        self.log = log
        self.lock = lock
        self.test_mode = test_mode
        self.hives = {name: settings.for_hive(name) for name in settings.hive_names}
        """Each hive's settings, by name (the default hive following `alerts_file`)."""
        self.hives[settings.hive] = settings.model_copy(update={"alerts_file": alerts_file})
        self.room = settings.max_hives_per_writer or len(self.hives)
        self.leases = {name: WriterLease(hive.store or "", "run") for name, hive in self.hives.items()}
        self.writers: dict[str, HiveWriter] = {}
        self.sides: dict[str, Side] = {}
        """Each hive's side of the HTTP API (empty when it is off)."""
        self._failed_at: dict[str, float] = {}
        self._unreachable: dict[str, str] = {}

    def serve(self, server: HttpServer | None) -> None:
        """Serve every hive on `server`, as a standby's until this coordinator writes it."""
        from cli.running import standby_side

        if server is None:
            return
        self.sides = server.app.state.hives
        for name, hive in self.hives.items():
            self.sides[name] = standby_side(hive)

    def look(self) -> list[HiveWriter]:
        """Let go of the hives whose writers stopped, and take free ones while there is room; the writers
        started."""
        for name, writer in list(self.writers.items()):
            if writer.ended.is_set():
                writer.thread.join()
                del self.writers[name]
                if writer.failed:
                    self._failed_at[name] = time.monotonic()
                if name in self.sides:
                    from cli.running import standby_side

                    self.sides[name] = standby_side(self.hives[name])
                self.log(f"hive {name}: no longer written here", event="hive_released", hive=name)
        started = []
        for name in self.hives:
            if len(self.writers) >= self.room:
                break
            if name in self.writers or time.monotonic() - self._failed_at.get(name, -RETRY_AFTER) < RETRY_AFTER:
                continue
            if self._take(name):
                started.append(self._start(name))
        return started

    def _take(self, name: str) -> bool:
        import psycopg

        from adapters.store_url import redacted

        try:
            taken = self.leases[name].try_acquire()
        except psycopg.Error as error:
            why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            if self._unreachable.get(name) != why:
                where = redacted(self.hives[name].store or "")
                self.log(f"hive {name}: cannot reach {where} ({why}); trying again", event="standby", hive=name,
                         error=why)
            self._unreachable[name] = why
            return False
        self._unreachable.pop(name, None)
        return taken

    def _start(self, name: str) -> HiveWriter:
        hive = self.hives[name]
        lease = self.leases[name]
        self.log(f"hive {name}: writing it (holding its writer lease), following {hive.alerts_file}",
                 event="hive_taken", hive=name, session=lease.session)
        lock = self.lock if hive.home == self.lock.home else None
        writer = HiveWriter(hive, lease, lock, self.test_mode, _tagged(self.log, name), self._writing(name))
        self.writers[name] = writer
        return writer.start()

    def _writing(self, name: str) -> Callable[[Any, Service, Any], None]:
        def serve(built: Any, service: Service, dispatcher: Any) -> None:
            side = self.sides.get(name)
            if side is not None:
                from cli.running import take_over_api

                take_over_api(side, built, service, dispatcher)

        return serve

    def announce(self, **facts: Any) -> None:
        """Say in the home's lock which hives this coordinator writes (standing by for all when none)."""
        self.lock.announce(hives=sorted(self.writers), standby=not self.writers, **facts)

    def stop(self) -> None:
        """Stop every writer (each finishes its batch) and close the leases of hives not written."""
        for writer in self.writers.values():
            writer.halt()
        for writer in self.writers.values():
            writer.thread.join()
        for lease in self.leases.values():
            lease.close()


def share(settings: Settings, alerts_file: Path, test_mode: bool, log: Log, listen: tuple[str, int] | None) -> None:
    """Run the coordinator on a store with hives until SIGTERM or SIGINT: write the hives it can take, stand by
    for the rest, serve them all over HTTP (`listen`; None: no API)."""
    from cli.running import home_lock, serve_http, standby_side

    lock = home_lock(settings)  # this home's one coordinator; the default hive's directory is the home
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _: _stop(stopping, log, signum))
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    sharing = Sharing(settings, alerts_file, test_mode, log, lock)
    server = None
    try:
        if listen is not None:
            side = standby_side(settings)
            server = serve_http(settings, side.queries, side.commands, *listen, log, None)
        sharing.serve(server)
        address = None if server is None else server.address
        log(f"sharing hives {', '.join(sharing.hives)} with the coordinators on the store "
            f"(at most {sharing.room} written here)", event="sharing", hives=list(sharing.hives),
            most=sharing.room)
        first = sharing.look()
        deadline = time.monotonic() + READY_WAIT
        while not stopping.is_set() and time.monotonic() < deadline and not all(w.ready.is_set() for w in first):
            stopping.wait(0.05)  # a SIGTERM while the hives start is heeded at once
        sharing.announce(http=address, ready=True)
        held = sorted(sharing.writers)
        while not stopping.wait(TAKE_EVERY):
            sharing.look()
            if sorted(sharing.writers) != held:
                held = sorted(sharing.writers)
                sharing.announce()
    finally:
        sharing.stop()
        if server is not None:
            server.stop()
        lock.release()
    log("stopped", event="stopped")


def _stop(stopping: threading.Event, log: Log, signum: int) -> None:
    log_from_handler(log, f"received {signal.Signals(signum).name}: every hive finishes its current batch",
                     event="signal", signal=signal.Signals(signum).name)
    stopping.set()


def _tagged(log: Log, hive: str) -> Log:
    """`log`, each line saying which hive it is about."""

    def tagged(message: str, /, **facts: Any) -> None:
        log(f"hive {hive}: {message}", hive=hive, **facts)

    return tagged
