"""Rebuilding read models on a second CPU, and keeping them up to date from one.

A projection rebuilt from the start of a long history may be built by a second process into a file of its
own while this process builds the others; its tables and position are then copied into the read-model file
in one transaction. The copy only happens if nobody applied events to that projection meanwhile (its stored
position is still 0), so every event is still applied exactly once; otherwise the copy is dropped and the
projection catches up as usual. If the second process fails, the projection catches up as usual too.

While this process records a long run of events (`coordinator run --once` over a big file), a second process may
follow the event store and apply each committed page to the read-model file itself (`SecondProcess.follow`): the
runner's positions make every page count once whichever process applies it, so when this one is done recording it
stops the follower after its current page and applies the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.records import RecordSource
from projections.base import Projection
from projections.sql import SQLITE, dialect

if TYPE_CHECKING:
    import sqlite_utils


class Rebuilding(Protocol):
    """What a share of a rebuild needs of the runner that lends it (a `ProjectionRunner`)."""

    recorder: RecordSource
    page_size: int
    projections: list[Projection]

    @property
    def db(self) -> sqlite_utils.Database: ...

    def position(self, projection: Projection) -> int: ...


RunnerClass = Callable[[Path, RecordSource, Sequence[Projection], int], Any]
"""Builds a runner in the second process (the lending runner's own class, passed along: picklable by name)."""

SourceFactory = Callable[[], RecordSource]
"""Opens the event store from another process (a picklable, module-level callable)."""
WORTH_IT = 200_000
"""Events to rebuild from below which a second process costs more than it saves."""
POLL_SECONDS = 0.05
"""How long a follower that found nothing new waits before it looks again."""


@dataclass
class SecondProcess:
    """Lends the heaviest fresh projections of a long rebuild to a second process."""

    source: SourceFactory
    worth_it: int = WORTH_IT
    scratch: Path | None = None
    """Where the second process builds its file (default: the system's temporary directory)."""

    def start(self, runner: Rebuilding, chosen: Sequence[Projection]) -> Lent | None:
        """Start building a share of `chosen` elsewhere when it pays off; None when it does not."""
        if dialect(runner.db) != SQLITE:  # a server's read models: built where the server is, by one process
            return None
        fresh = [p for p in chosen if runner.position(p) == 0]
        head = runner.recorder.max_notification_id() or 0
        if len(fresh) < 2 or head < self.worth_it or (os.cpu_count() or 1) < 2:
            return None
        lent = _share(fresh, sum(p.weight for p in chosen))
        handle, name = tempfile.mkstemp(prefix="coordinator-rebuild-", suffix=".sqlite", dir=self.scratch)
        os.close(handle)
        context = multiprocessing.get_context("spawn")  # never fork a process holding open databases
        process = context.Process(target=build_elsewhere, args=(name, self.source, lent, runner.page_size,
                                                                type(runner)),
                                  name="coordinator-rebuild", daemon=True)
        try:
            process.start()
        except OSError:  # no second process to be had here: this one does all the work
            Path(name).unlink(missing_ok=True)
            return None
        return Lent(process, Path(name), lent)

    def follow(self, runner: Rebuilding, path: Path) -> Following | None:
        """Start a second process applying every new page of events to the read-model file at `path` (the
        runner's) as it is committed; None where there is no second CPU or process to be had."""
        if dialect(runner.db) != SQLITE or (os.cpu_count() or 1) < 2:
            return None
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        process = context.Process(target=follow_elsewhere, args=(str(path), self.source, list(runner.projections),
                                                                 runner.page_size, type(runner), stop),
                                  name="coordinator-follow", daemon=True)
        try:
            process.start()
        except OSError:
            return None
        return Following(process, stop)


@dataclass
class Following:
    """A second process applying new events to the read models while this process records them."""

    process: BaseProcess
    stop: Any
    """Set to ask it to stop (a `multiprocessing` event)."""

    def finish(self) -> None:
        """Ask the second process to stop after the page it is applying, and wait for it."""
        self.stop.set()
        self.process.join()


@dataclass
class Lent:
    """Projections being built by a second process into a file of their own."""

    process: BaseProcess
    path: Path
    projections: list[Projection]

    def finish(self, runner: Rebuilding) -> int:
        """Wait for the second process and copy what it built; returns the events it applied (0 if unused)."""
        try:
            self.process.join()
            if self.process.exitcode != 0:
                return 0
            return _copy(runner, self.path, self.projections)
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop the second process (if still running) and remove its file."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def build_elsewhere(
    path: str, source: SourceFactory, projections: list[Projection], page_size: int, runner_class: RunnerClass,
) -> None:
    """The second process: build `projections` from the start of history into the file at `path`.

    Any failure just ends it with a non-zero exit: the process that lent the work then does it itself."""
    try:
        runner = runner_class(Path(path), source(), projections, page_size)
        try:
            runner.catch_up()
        finally:
            runner.close()
    except Exception:
        sys.exit(1)


def follow_elsewhere(
    path: str, source: SourceFactory, projections: list[Projection], page_size: int, runner_class: RunnerClass,
    stop: Any,
) -> None:
    """The follower: apply every page of events committed to the store, until `stop` is set or the process that
    started it is gone. Interrupts are that process's to handle; any failure just ends this one (that process then
    applies the pages itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    try:
        runner = runner_class(Path(path), source(), projections, page_size)
        try:
            while not stop.is_set() and (parent is None or parent.is_alive()):
                if runner.catch_up(until=stop.is_set) == 0:
                    stop.wait(POLL_SECONDS)
        finally:
            runner.close()
    except Exception:
        sys.exit(1)


def _share(fresh: list[Projection], total: float) -> list[Projection]:
    """The heaviest fresh projections whose weight stays within half of the whole rebuild's."""
    lent: list[Projection] = []
    for projection in sorted(fresh, key=lambda p: -p.weight):
        if sum(p.weight for p in lent) + projection.weight <= total / 2 and len(lent) < len(fresh) - 1:
            lent.append(projection)
    return lent or [max(fresh, key=lambda p: p.weight)]


def _copy(runner: Rebuilding, path: Path, projections: list[Projection]) -> int:
    """Copy the projections' tables and positions from `path`, for those still untouched here."""
    conn = runner.db.conn
    conn.execute("ATTACH DATABASE ? AS built", (str(path),))
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            applied = sum(_copy_one(runner, projection) for projection in projections)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.execute("DETACH DATABASE built")
    return applied


def _copy_one(runner: Rebuilding, projection: Projection) -> int:
    conn = runner.db.conn
    here = conn.execute("SELECT version, position FROM main.projection_positions WHERE name = ?",
                        (projection.name,)).fetchone()
    there = conn.execute("SELECT version, position FROM built.projection_positions WHERE name = ?",
                         (projection.name,)).fetchone()
    if here is None or there is None or tuple(here) != (projection.version, 0) or there[0] != projection.version:
        return 0  # someone applied events to it here meanwhile (or it was built at another version): keep theirs
    tables = ",".join("?" * len(projection.tables))
    schema = conn.execute(f"SELECT type, sql FROM built.sqlite_master WHERE tbl_name IN ({tables})"
                          " AND sql IS NOT NULL", projection.tables).fetchall()
    for table in projection.tables:
        conn.execute(f'DROP TABLE IF EXISTS main."{table}"')
    for kind, sql in schema:
        if kind == "table":
            conn.execute(sql)
    for table in projection.tables:
        conn.execute(f'INSERT INTO main."{table}" SELECT * FROM built."{table}"')
    for kind, sql in schema:
        if kind != "table":
            conn.execute(sql)  # indexes after the rows; triggers last, so the copy does not fire them
    conn.execute("UPDATE main.projection_positions SET position = ? WHERE name = ?", (there[1], projection.name))
    return int(there[1])
