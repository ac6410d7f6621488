"""The read models' SQL, written once for the two databases they may live in: the home's SQLite file, or a schema of
the PostgreSQL server the events are kept on.

Every statement is in the SQL both understand, with SQLite's `?` placeholders; the PostgreSQL side
(`adapters.postgres_views`) turns those into its own, and a table's SQLite column types into PostgreSQL's
(`INTEGER` into `BIGINT`, `REAL` into `DOUBLE PRECISION`, `TEXT` compared byte by byte as SQLite does, SQLite's
`WITHOUT ROWID` left out). Nothing else differs: what one of them computes differently (time arithmetic, say) is
computed in Python instead, so both hold the same values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

SQLITE, POSTGRESQL = "sqlite", "postgresql"
CHUNK = 500
"""Values asked for in one `IN (...)`: well within SQLite's limit on a statement's parameters."""


def dialect(db: Any) -> str:
    """Which of the two databases `db` (a read-model database, or a connection to one) is."""
    return str(getattr(db, "dialect", SQLITE))


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """An insert of one row of `columns` into `table` that replaces the row of the same `key` (its primary key)."""
    names = ", ".join(_quoted(column) for column in columns)
    changes = ", ".join(f"{_quoted(column)} = excluded.{_quoted(column)}" for column in columns if column not in key)
    marks = ", ".join("?" * len(columns))
    return (f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            f"{changes}")


def insert_new(table: str, columns: Sequence[str]) -> str:
    """An insert of one row of `columns` into `table` that leaves a row already there with its key alone."""
    names = ", ".join(_quoted(column) for column in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING"


def select_in(db: Any, sql: str, values: Collection[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of `sql`, a query ending in `... IN`, for each of `values` (asked in chunks of `CHUNK`, in order)."""
    wanted = sorted(values)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        yield from db.conn.execute(f"{sql} ({','.join('?' * len(chunk))})", chunk).fetchall()


def missing_table(error: Exception) -> bool:
    """Whether `error` says a read model's table is not there (it was never built in this database)."""
    return "no such table" in str(error)


def _quoted(column: str) -> str:
    return f'"{column}"' if column == "end" else column
