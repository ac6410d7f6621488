"""Read models on the PostgreSQL server the events are kept on, in a schema of their own, so any machine can query
them and every coordinator and projection worker on the store shares one set.

The read models' schema is `views` beside a store in `public`, `<schema>_views` beside one in `<schema>` (a hive's
store has its own). The projections write the SQL both databases understand (`projections.sql`); `PostgresViews`
hands it to PostgreSQL: SQLite's `?` placeholders become psycopg's `%s`, and a table is created with PostgreSQL's
types (`BIGINT` for `INTEGER`, `DOUBLE PRECISION` for `REAL`, and `TEXT` compared byte by byte, `COLLATE "C"`, so
rows sort as on SQLite). PostgreSQL's text cannot hold the NUL character an id may contain: text holding NUL (or
`ESCAPE`) is written with each such character escaped, in a way that keeps the order of text, and read back as it
was. A missing table is reported as
SQLite reports it (`sqlite3.OperationalError: no such table`), which is what readers of read models expect.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
import psycopg.errors
from psycopg.sql import SQL, Identifier

from adapters import store_url
from app.records import RecordSource

POSTGRESQL = "postgresql"
"""The dialect these read models speak (`projections.sql` names it so)."""

ESCAPE = "\x01"
"""The character that escapes, in stored text, a NUL (`ESCAPE` `ESCAPE`) or itself (`ESCAPE` `\x02`): the two
codes sort below every other character and each other as the characters they stand for do, so text sorts (byte by
byte) as it would unescaped."""
POSITIONS = "projection_positions"
_TYPES = ((re.compile(r"\bINTEGER\b"), "BIGINT"), (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
          (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'), (re.compile(r"\s+WITHOUT ROWID\s*$"), ""))


def views_schema(store_schema: str) -> str:
    """The schema of the read models of the store kept in `store_schema`."""
    return "views" if store_schema == "public" else f"{store_schema}_views"


class PostgresViews:
    """The read models of the store at `url` (built from `events`), on one connection of their own; `create`: make
    their schema when it is missing (a reader leaves it alone); `schema`: another schema than theirs (a second set,
    as a file beside the home's would be)."""

    dialect = POSTGRESQL

    def __init__(self, url: str, events: RecordSource, create: bool = True, schema: str | None = None) -> None:
        self.url = url
        self.events = events
        self.schema = schema or views_schema(store_url.schema_of(url))
        self._conn = self._connect()
        found = self._conn.execute("SELECT n.oid IS NOT NULL, COALESCE(has_schema_privilege(n.oid, 'USAGE'), true)"
                                   " FROM (SELECT to_regnamespace(%s) AS oid) n", (self.schema,)).fetchone()
        known, usable = found if found is not None else (False, True)
        if not usable:
            self._conn.close()
            raise psycopg.errors.InsufficientPrivilege(f"permission denied for schema {self.schema}")
        if create and not known:
            self._conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(self.schema)))

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(store_url.connectable(self.url), autocommit=True, connect_timeout=10,
                               options=f"-c search_path={self.schema}")

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, made again when the last one was lost (the statement it was lost in failed)."""
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    @property
    def conn(self) -> PostgresViews:
        """Statements are run on the views themselves (as on a sqlite-utils database's connection)."""
        return self

    def execute(self, sql: str, parameters: Sequence[Any] | None = None, /) -> Rows:
        """Run one statement (SQLite's placeholders and types: see the module)."""
        try:
            cursor = self._live().execute(_statement(sql, bool(parameters)),
                                        [_stored(value) for value in parameters] if parameters else None)
        except psycopg.errors.UndefinedTable as error:
            raise sqlite3.OperationalError(f"no such table: {error}") from None
        return Rows(cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> None:
        """Run one statement for each of `rows`."""
        batch = [[_stored(value) for value in row] for row in rows]
        if not batch:
            return
        try:
            with self._live().cursor() as cursor:
                cursor.executemany(_statement(sql, True), batch)
        except psycopg.errors.UndefinedTable as error:
            raise sqlite3.OperationalError(f"no such table: {error}") from None

    @contextmanager
    def write_transaction(self, names: Sequence[str] = ()) -> Iterator[None]:
        """A transaction holding the write lock of the read models `names` from its start (a lock per read model:
        the rows of their positions, taken in one order), so the positions read in it stay true: one writer of
        each at a time, the others waiting; readers read on."""
        conn = self._live()
        with conn.transaction():
            conn.execute(SQL("SELECT name FROM {} WHERE name = ANY(%s) ORDER BY name FOR UPDATE").format(
                Identifier(POSITIONS)), (sorted(names),))
            yield

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction."""
        with self._live().transaction():
            yield

    def drop(self, table: str) -> None:
        """Drop `table` if it is there."""
        self._live().execute(SQL("DROP TABLE IF EXISTS {} CASCADE").format(Identifier(table)))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class Rows:
    """The rows of one statement, read as from a sqlite3 cursor (text as it was written: see `ESCAPE`)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone() if self._cursor.description else None
        return None if row is None else _read(row)

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        return [_read(row) for row in self._cursor.fetchmany(size)] if self._cursor.description else []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [_read(row) for row in self._cursor.fetchall()] if self._cursor.description else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


@lru_cache(maxsize=1024)
def _statement(sql: str, parameters: bool) -> str:
    """`sql` as psycopg takes it: `%s` for each `?` (a literal `%` doubled when there are parameters), and a new
    table's columns of PostgreSQL's types."""
    if re.match(r"\s*CREATE TABLE", sql, re.IGNORECASE):
        for pattern, replacement in _TYPES:
            sql = pattern.sub(replacement, sql)
    if parameters:
        sql = sql.replace("%", "%%").replace("?", "%s")
    return sql


def _stored(value: Any) -> Any:
    """A value as it is written: text holding NUL or `ESCAPE` escaped."""
    if isinstance(value, str) and ("\x00" in value or ESCAPE in value):
        return value.replace(ESCAPE, ESCAPE + "\x02").replace("\x00", ESCAPE + ESCAPE)
    return value


def _read(row: tuple[Any, ...]) -> tuple[Any, ...]:
    if not any(isinstance(value, str) and ESCAPE in value for value in row):
        return tuple(row)
    return tuple(_unescaped(value) if isinstance(value, str) and ESCAPE in value else value for value in row)


def _unescaped(text: str) -> str:
    out, rest = [], iter(text)
    for char in rest:
        if char == ESCAPE:
            char = "\x00" if next(rest, ESCAPE) == ESCAPE else ESCAPE
        out.append(char)
    return "".join(out)
