"""The long-running coordinator: follows the alerts file, escalates on time, delivers, keeps read models fresh.

It wakes when the file changes (file-system notifications through watchfiles; a slow poll if those are
unavailable), when the earliest recorded crossing or retry falls due, when a channel hands back a delivery
attempt, and at least every `MAX_SLEEP` seconds. Crossings missed while it was down are recorded at their true
instants when it starts. Channels send on their own threads: this loop only hands them notifications and
records what comes back, so a hung channel never holds up ingestion. SIGTERM and SIGINT let the current batch
finish (and deliveries under way come back, for up to `STOP_GRACE` seconds), then it exits cleanly.
"""

from __future__ import annotations

import faulthandler
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from adapters.alert_follower import AlertFollower
from adapters.delivery import Dispatcher
from app.ledger import LeaseLost
from cli.bootstrap import Services
from cli.live import Mailbox
from cli.service_log import Log, log_from_handler
from projections.history import escalations_after, escalations_count_after

MAX_SLEEP = 30.0
"""The longest the service sleeps without looking (the seed's tightest monitoring interval: ORANGE, 30 s)."""
POLL_FALLBACK = 1.0
VIEWS_EVERY = 1.0
"""Read models are brought up to date at most this often (seconds) while alerts keep arriving."""

VIEWS_PAGE = 10_000
"""Events per read-model transaction in the service: a long-running process keeps its memory small, while
one-shot commands page in larger steps to rebuild faster."""

WATCH_READY = 5.0
"""How long start-up waits for the file watch to be in place before reading anyway."""
READY_PROBE = 200
"""Milliseconds the watcher waits for changes before reporting in (its first report says it is watching)."""
STOP_GRACE = 10.0
"""Seconds a stopping service waits for deliveries under way to come back and be recorded (the rest are sent
again after a restart)."""

LOUD = ("ORANGE", "RED")
"""Escalations to these levels (EMERGENCY included) are logged one by one."""
LOGGED_PER_PASS = 50
"""Escalations logged one by one per pass at most; the rest are counted in one line."""
PROGRESS_FROM = 20_000
"""Catch-ups of the read models at least this long are logged page by page."""


class Service:
    """One coordinator following one alerts file, until `stop` is set."""

    def __init__(
        self, built: Services, alerts_file: Path, dispatcher: Dispatcher, log: Log,
        decided: Callable[[], None] | None = None,
    ) -> None:
        self.built = built
        self.alerts_file = alerts_file
        self.dispatcher = dispatcher
        self.log = log
        self.decided = decided
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.watching = threading.Event()
        self.mailbox = Mailbox(self.wake)
        """Commands from other threads (the HTTP API's), carried out between batches."""
        dispatcher.wake = self.wake.set
        self.cycle = built.cycle(dispatcher)
        """The coordinator's cycle, taken step by step between waits (the read models are refreshed here, at most
        every VIEWS_EVERY)."""
        ledger = built.ledger
        self.follower = AlertFollower(alerts_file, ledger.source_mark(str(alerts_file)), built.settings.batch_size)
        self._views_at = 0.0
        built.views.page_size = VIEWS_PAGE
        self._escalations_from = ledger.max_notification_id() or 0
        """Escalations recorded after this position are logged (those from before the start are history)."""
        self._problem: str | None = None
        """Why the alerts file could not be read when last tried (None: it could, or is not there yet)."""
        self.lease_lost = False
        """Set when the PostgreSQL store's writer lease was lost: the service stopped writing."""

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Serve until stopped (by `stop`, SIGTERM or SIGINT); `ready` is called once it follows its file."""
        watcher = threading.Thread(target=self._watch, name="alerts-file-watcher", daemon=True)
        watcher.start()
        self.watching.wait(WATCH_READY)  # read only once changes can no longer slip by unnoticed
        self.log(f"following {self.alerts_file} (home {self.built.settings.home})", event="following",
                 path=str(self.alerts_file), home=str(self.built.settings.home))
        if not self.alerts_file.exists():
            self.log(f"waiting for {self.alerts_file} to be created", event="waiting", path=str(self.alerts_file))
        if ready is not None:
            ready()
        try:
            while not self.stop.is_set() and self._still_writer():
                self._pass()
                if self.stop.is_set():
                    break
                self.built.clock.wait(self.wake, self._sleep())
                self.wake.clear()
            self.dispatcher.finish(STOP_GRACE)
        except LeaseLost as lost:
            self._lose_lease(str(lost))
        finally:  # however it ends, the watcher stops and nobody waits on the mailbox
            self.stop.set()
            self.wake.set()
            self.mailbox.close()
            self.follower.close()
        self._refresh_views(force=True)
        self.log("stopped", event="stopped")

    def _pass(self) -> None:
        """Carry out waiting commands, read new alerts, advance what is due, deliver, refresh the read models."""
        worked = self.mailbox.run_pending(lambda: self._refresh_views(force=True))
        worked |= self._ingest_new()
        worked |= self._tick()
        if worked and self.decided is not None:
            self.decided()
        worked |= self._deliver()
        # While work keeps coming the read models are refreshed at most every VIEWS_EVERY; before a longer
        # sleep they are brought up to date, so nobody reads a stale view while the service waits.
        self._refresh_views(force=not worked or self._sleep() > VIEWS_EVERY)

    def _still_writer(self) -> bool:
        """Whether this service still holds the store's writer lease (always, on the SQLite home, whose lock the
        kernel holds for it); it stops at once when it does not. (Every save checks too: see `LeaseLost`.)"""
        lease = self.built.lease
        if lease is None or lease.held():
            return True
        self._lose_lease("its connection ended")
        return False

    def _lose_lease(self, why: str) -> None:
        self.lease_lost = True
        self.log(f"lost the writer lease of the store ({why}): stopping before writing anything more",
                 event="lease_lost")

    def handle_signals(self) -> None:
        """Stop cleanly on SIGTERM and SIGINT, and print every thread's stack on SIGUSR1 (call from the main
        thread)."""

        def stop(signum: int, frame: FrameType | None) -> None:
            log_from_handler(self.log, f"received {signal.Signals(signum).name}: finishing the current batch",
                             event="signal", signal=signal.Signals(signum).name)
            self.stop.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID`: what every thread is doing, on standard error
            faulthandler.register(signal.SIGUSR1, all_threads=True)

    def _ingest_new(self) -> bool:
        worked = False
        while not self.stop.is_set():
            chunk = self.follower.read()
            self._tell_problem(self.follower.problem)
            if chunk is None:
                return worked
            report = self.cycle.take(chunk.items, chunk.mark)
            self.follower.advance(chunk.mark)
            self.cycle.deliver(wait=False)
            worked = True
            whole = chunk.mark.line == 0  # a JSON document, read whole
            where = "(the whole document)" if whole else f"up to line {chunk.mark.line - 1}"
            self.log(f"ingested {chunk.mark.path} {where}: {report.processed} processed, "
                     f"{report.duplicates} duplicates, {report.quarantined} quarantined"
                     + (" (see `coordinator quarantine`)" if report.quarantined else ""),
                     event="ingested", source=chunk.mark.path, line=None if whole else chunk.mark.line - 1,
                     **report.as_dict())
        return worked

    def _tell_problem(self, problem: str | None) -> None:
        """Log once when the alerts file stops being readable, and once when it is read again."""
        if problem == self._problem:
            return
        if problem is not None:
            self.log(f"{self.alerts_file} {problem}: waiting until it can be read", event="unreadable",
                     path=str(self.alerts_file), problem=problem)
        else:
            self.log(f"reading {self.alerts_file} again", event="readable", path=str(self.alerts_file))
        self._problem = problem

    def _tick(self) -> bool:
        return self.cycle.advance_if_due(self.built.clock.now()) > 0

    def _deliver(self) -> bool:
        return self.cycle.deliver(wait=False).total() > 0

    def _refresh_views(self, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._views_at >= VIEWS_EVERY:
            views = self.built.views
            lag = views.lag()
            if lag >= PROGRESS_FROM:
                self.log(f"bringing the read models up to date: {lag:,} events", event="catch_up", events=lag)
            done = [0]

            def progress(count: int) -> None:
                done[0] += count
                self.log(f"read models: {done[0]:,} of {lag:,} events applied", event="catch_up_progress",
                         applied=done[0], events=lag)

            views.catch_up(progress if lag >= PROGRESS_FROM else None)
            self._views_at = now
            self._log_escalations()

    def _log_escalations(self) -> None:
        """Log the escalations to ORANGE or above the read models have seen since the last look."""
        found = escalations_after(self.built.views.db, self._escalations_from, LOUD, LOGGED_PER_PASS + 1)
        for row in found[:LOGGED_PER_PASS]:
            level = f"{row['to_level']}{' (EMERGENCY)' if row['emergency'] else ''}"
            self.log(f"{row['subject_kind']} {row['subject']} escalated to {level} at {row['at']}: {row['reason']}",
                     event="escalated", subject_kind=row["subject_kind"], subject=row["subject"],
                     level=row["to_level"], emergency=row["emergency"], at=row["at"], reason=row["reason"],
                     rule=row["rule"])
        if found:
            self._escalations_from = found[min(len(found), LOGGED_PER_PASS) - 1]["position"]
        if len(found) > LOGGED_PER_PASS:
            count, self._escalations_from = escalations_count_after(self.built.views.db, self._escalations_from,
                                                                    LOUD)
            self.log(f"... and {count:,} more escalations to ORANGE or above (see `coordinator events`)",
                     event="escalated_more", count=count)

    def _sleep(self) -> float:
        """Seconds until the earliest crossing or retry not under way (at most MAX_SLEEP)."""
        now = self.built.clock.now()
        upcoming = [moment for moment in (self.built.ledger.next_due(), self.dispatcher.next_attempt())
                    if moment is not None]
        if not upcoming:
            return MAX_SLEEP
        return max(0.0, min(MAX_SLEEP, (min(upcoming) - now).total_seconds()))

    def _watch(self) -> None:
        """Set `wake` whenever the alerts file changes; fall back to a slow poll if notifications fail."""
        target = self.alerts_file.resolve()
        directory = target.parent
        try:
            from watchfiles import watch

            directory.mkdir(parents=True, exist_ok=True)
            for changes in watch(directory, stop_event=self.stop, debounce=20, step=2, recursive=False,
                                 watch_filter=None, raise_interrupt=False, rust_timeout=READY_PROBE,
                                 yield_on_timeout=True):
                if not self.watching.is_set():
                    self.watching.set()
                    self.wake.set()  # anything written while the watch was being set up is read now
                if any(Path(path).name == target.name for _, path in changes):
                    self.wake.set()
        except Exception as error:  # no inotify (or a full watch table): poll instead
            self.log(f"file notifications unavailable ({error}); polling every {POLL_FALLBACK} s")
            self.watching.set()
            while not self.stop.wait(POLL_FALLBACK):
                self.wake.set()
