"""What every read model shares, importing nothing heavy: the `Projection` base class and the shape of a read-model
database as queries see it, so that query commands read with the standard library alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from app.records import Record, RecordSource

if TYPE_CHECKING:
    import sqlite_utils


class Projection:
    """A read model: creates its tables and applies pages of domain events to them."""

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]] = ()
    weight: ClassVar[float] = 1.0
    """Its share of a full rebuild's work, relative to the others (how rebuilds are split across processes)."""

    def create_tables(self, db: sqlite_utils.Database) -> None:
        """Create the tables (idempotent)."""
        raise NotImplementedError

    def apply(self, db: sqlite_utils.Database, records: Sequence[Record]) -> None:
        """Apply a page of stored events, in notification order (see `app.records`)."""
        raise NotImplementedError


class ReadModels(Protocol):
    """The read-model file as queries use it: a sqlite-utils database of a `ProjectionRunner`, or the standard
    library's read-only connection the query commands open (`conn` and `execute` either way)."""

    @property
    def conn(self) -> sqlite3.Connection:
        """The underlying connection."""
        ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Any:
        """Run one statement."""
        ...


class Views(Protocol):
    """A database the read models are kept in, as a `ProjectionRunner` writes them (the home's SQLite file is one,
    `runner.ViewsDatabase`); `dialect` says which SQL it speaks (`projections.sql`)."""

    dialect: str
    events: RecordSource

    @property
    def conn(self) -> Any:
        """What statements are run on (`execute`, `executemany`)."""
        ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Any:
        """Run one statement."""
        ...

    def write_transaction(self, names: Sequence[str] = ()) -> AbstractContextManager[None]:
        """A transaction that holds the write lock of the read models `names` from its start (one writer of each at
        a time)."""
        ...

    def atomic(self) -> AbstractContextManager[Any]:
        """A transaction."""
        ...

    def drop(self, table: str) -> None:
        """Drop `table` if it is there."""
        ...

    def close(self) -> None:
        """Let go of the database."""
        ...


def event_source(db: ReadModels) -> RecordSource:
    """The event store the read models in `db` were built from (some details are read from there)."""
    events = getattr(db, "events", None)
    if events is None:
        raise TypeError("these read models need their event store: open them with a ProjectionRunner")
    source: RecordSource = events
    return source
