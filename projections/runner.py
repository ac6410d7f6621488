"""Pull-based projection runner: pages the notification log, applies events, stores its position.

Each page's rows and the new position are committed in one transaction, so every event is
applied exactly once, a crash loses nothing, and the runner may live in another process.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from app.records import RecordSource
from projections.base import Projection, Views, event_source
from projections.parallel import Following, SecondProcess
from projections.sql import SQLITE, missing_table

__all__ = ["Projection", "ProjectionRunner", "ViewsDatabase", "event_source"]

DEFAULT_PAGE_SIZE = 50_000
POSITIONS = "projection_positions"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused: pages make many short-lived objects and no cycles, and collecting them
    over and over would take a fifth of a rebuild."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ViewsDatabase(sqlite_utils.Database):
    """The read-model file, knowing the event store it is built from (some details are read from there)."""

    dialect = SQLITE

    def __init__(self, path: Path, events: RecordSource) -> None:
        super().__init__(path)
        self.path = path
        self.events = events
        self.conn.execute("PRAGMA journal_mode=WAL")
        # Read models can always be rebuilt from the events: a power cut may lose their last pages (never
        # split a page from its position), so commits need not wait for the disk.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA cache_size=-16384")

    @contextmanager
    def write_transaction(self, names: Sequence[str] = ()) -> Iterator[None]:
        """A transaction holding SQLite's write lock from its start (the whole file's, whichever read models
        `names` are), so positions read in it stay true."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def drop(self, table: str) -> None:
        """Drop `table` if it is there."""
        self.conn.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Close the file."""
        self.conn.close()


class ProjectionRunner:
    """Keeps projections in a SQLite file up to date with an application's notification log."""

    def __init__(
        self,
        views: Path | Views,
        recorder: RecordSource,
        projections: Sequence[Projection],
        page_size: int = DEFAULT_PAGE_SIZE,
        second_process: SecondProcess | None = None,
    ) -> None:
        """`views`: the read models' database (`Views`), or the path of a SQLite file to keep them in."""
        self.second_process = second_process
        """Lends part of a long rebuild to a second process when given (see `projections.parallel`)."""
        self.db: Any = ViewsDatabase(views, recorder) if isinstance(views, Path) else views
        """The read models' database: a `ViewsDatabase` file, or another `Views`."""
        self.recorder = recorder
        self.projections = list(projections)
        self.page_size = page_size
        self.reset: list[str] = []
        """Projections dropped at start-up because their version changed (they rebuild on the next catch-up)."""
        self.following: Following | None = None
        """The second process applying new events meanwhile, if one was started (`follow_elsewhere`)."""
        try:  # made once: a database user who may only read and write rows can keep existing read models
            self.db.execute(f"SELECT 1 FROM {POSITIONS} LIMIT 1").fetchall()
        except sqlite3.OperationalError as error:
            if not missing_table(error):
                raise
            self.db.conn.execute(f"CREATE TABLE IF NOT EXISTS {POSITIONS} (name TEXT PRIMARY KEY, version INTEGER,"
                                 " position INTEGER)")
        for projection in self.projections:
            self._prepare(projection)

    def position(self, projection: Projection) -> int:
        """Notification id of the last event the projection applied (0 before the first)."""
        row = self.db.execute(f"SELECT position FROM {POSITIONS} WHERE name = ?", [projection.name]).fetchone()
        return int(row[0]) if row else 0

    def lag(self) -> int:
        """Events recorded but not yet applied by the slowest projection."""
        head = self.recorder.max_notification_id() or 0
        return max((head - self.position(p) for p in self.projections), default=0)

    def follow_elsewhere(self) -> bool:
        """Start a second process applying new events to the read models as they are committed, until the next
        `catch_up` (which stops it after its current page and applies the rest) or `close`. For a long run of
        recording in this process: the read models are then mostly built on the other CPU meanwhile. False when
        none is started (no second process lent to this runner, read models not in a file, one CPU)."""
        path = getattr(self.db, "path", None)
        if self.following is None and self.second_process is not None and isinstance(path, Path):
            self.following = self.second_process.follow(self, path)
        return self.following is not None

    def stop_following(self) -> None:
        """Stop the follower, if any, after the page it is applying (and wait for it)."""
        following, self.following = self.following, None
        if following is not None:
            following.finish()

    def catch_up(
        self,
        progress: Callable[[int], None] | None = None,
        names: Sequence[str] | None = None,
        until: Callable[[], bool] | None = None,
    ) -> int:
        """Apply every event recorded since each projection's position (only `names`, if given; stopping between
        pages once `until` says so, if given).

        Each page is read once and handed to every projection that has not seen it; each projection's
        rows and position are committed in the same transaction. Returns events applied (summed over
        projections).
        """
        self.stop_following()
        chosen = [p for p in self.projections if names is None or p.name in names]
        lent = self.second_process.start(self, chosen) if self.second_process is not None else None
        with _collector_paused():
            if lent is None:
                return self._catch_up(progress, chosen, until)
            try:
                applied = self._catch_up(progress, [p for p in chosen if p not in lent.projections], until)
            except BaseException:
                lent.abandon()
                raise
            built = lent.finish(self)
            if progress is not None:
                progress(built)
            return applied + built + self._catch_up(progress, lent.projections, until)

    def _catch_up(
        self, progress: Callable[[int], None] | None, chosen: list[Projection], until: Callable[[], bool] | None,
    ) -> int:
        applied = 0
        while chosen and (until is None or not until()):
            positions = {p.name: self.position(p) for p in chosen}
            start = min(positions.values())
            page = self.recorder.select_records(start, self.page_size)
            if not page:
                return applied
            end = page[-1].position
            done = 0
            with self.db.write_transaction([p.name for p in chosen]):
                stored = {p.name: self.position(p) for p in chosen}
                if stored != positions:
                    continue  # another process applied part of this page meanwhile: read again
                for projection in chosen:
                    seen = positions[projection.name]
                    if seen >= end:
                        continue
                    fresh = page if seen <= start else [record for record in page if record.position > seen]
                    projection.apply(self.db, fresh)
                    self.db.conn.execute(f"UPDATE {POSITIONS} SET position = ? WHERE name = ?", [end, projection.name])
                    done += len(fresh)
            applied += done
            if progress is not None:
                progress(done)
        return applied

    def named(self, name: str) -> Projection:
        """The projection called `name` (KeyError naming the known ones otherwise)."""
        for projection in self.projections:
            if projection.name == name:
                return projection
        raise KeyError(f"no projection named {name!r}; known: {', '.join(p.name for p in self.projections)}")

    def status(self) -> list[dict[str, object]]:
        """Each projection's name, version, position and lag."""
        head = self.recorder.max_notification_id() or 0
        return [
            {"name": p.name, "version": p.version, "position": self.position(p), "lag": head - self.position(p)}
            for p in self.projections
        ]

    def rebuild(self, projection: Projection) -> None:
        """Drop the projection's tables and position; the next catch-up starts from the beginning."""
        with self.db.atomic():
            for table in projection.tables:
                self.db.drop(table)
            self.db.conn.execute(f"DELETE FROM {POSITIONS} WHERE name = ?", [projection.name])
        self._prepare(projection)

    def close(self) -> None:
        """Stop any follower (`follow_elsewhere`) and close the read-model database."""
        self.stop_following()
        self.db.close()

    def _prepare(self, projection: Projection) -> None:
        row = self.db.execute(f"SELECT version FROM {POSITIONS} WHERE name = ?", [projection.name]).fetchone()
        if row is not None and int(row[0]) != projection.version:
            self.reset.append(projection.name)
            self.rebuild(projection)
            return
        if row is not None:
            return  # its tables were made with its position, at this version
        with self.db.atomic():
            projection.create_tables(self.db)
            self.db.conn.execute(
                f"INSERT INTO {POSITIONS} (name, version, position) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
                [projection.name, projection.version],
            )
