"""A home's files when they fail: a full disk, a damaged event store or read-model file, a home this user may
not write, said plainly.

The error SQLite raises names neither the file nor what to do. When a command fails on its storage, the files
are checked (`PRAGMA quick_check`) to say which one is damaged and how to recover: read models can always be
rebuilt from the events; a damaged event store needs its backup. A file that cannot be opened or written for
want of permission (or on a read-only file system) is not damaged: that is said instead, and nothing is set aside.
"""

from __future__ import annotations

import errno
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer

from adapters.home_files import EVENTS_FILE, VIEWS_FILE
from cli.options import EXIT_DAMAGED, EXIT_FULL, EXIT_UNREACHABLE, EXIT_USAGE, fail

_SQLITE_DENIED = frozenset({3, 8, 14})
"""SQLite's primary result codes for a file it may not use, which says nothing about its content: SQLITE_PERM,
SQLITE_READONLY (the file, its journal or its directory cannot be written) and SQLITE_CANTOPEN."""
_OS_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def damage(path: Path, thorough: bool = False) -> str | None:
    """What is wrong with the SQLite file at `path`, or None when it reads as a sound database (or is absent, or
    cannot be opened by this user: see `denied`). `thorough`: check every index against its table too
    (`integrity_check`; slower than `quick_check`)."""
    found = _check(path, thorough)
    return None if found is None or found[0] else found[1]


def denied(path: Path) -> str | None:
    """Why this user cannot open the SQLite file at `path` (its permissions, or a read-only directory or file
    system: SQLite writes beside a file even to read it), or None when it opens (or is absent)."""
    found = _check(path, thorough=False)
    return found[1] if found is not None and found[0] else None


def _check(path: Path, thorough: bool) -> tuple[bool, str] | None:
    """(whether it is a matter of access rather than damage, what is wrong) for the SQLite file at `path`."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True)) as db:
            rows = db.execute(f"PRAGMA {'integrity_check' if thorough else 'quick_check'}").fetchall()
    except sqlite3.DatabaseError as error:
        return _denial(error) is not None, str(error)
    except OSError as error:
        return True, error.strerror or str(error)
    found = [str(row[0]) for row in rows if row[0] != "ok"]
    return (False, "; ".join(found[:3])) if found else None


def _denial(error: BaseException | None) -> BaseException | None:
    """The error in `error`'s chain saying a file may not be used (not that it is damaged), if any."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _SQLITE_DENIED:
            return error
        if isinstance(error, OSError) and error.errno in _OS_DENIED | {errno.ENOTDIR, errno.ENOENT}:
            return error
        error = error.__cause__ or error.__context__
    return None


def _database_errors() -> tuple[type[Exception], ...]:
    """SQLite's errors, and eventsourcing's wrappings of them when eventsourcing is loaded (else none can occur)."""
    persistence = sys.modules.get("eventsourcing.persistence")
    return (sqlite3.DatabaseError,) if persistence is None else (sqlite3.DatabaseError, persistence.PersistenceError)


def full(error: BaseException) -> bool:
    """Whether `error` says the disk (or its quota) is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(error, _database_errors()) and "disk is full" in str(error)


def failure(home: Path, error: BaseException) -> typer.Exit | None:
    """The exit for a storage error of a command on `home`, with what to do; None when it is not one."""
    if full(error):
        return fail(f"no space left on the device holding {home} while writing ({error}); nothing was half-written: "
                    "free some space and run the command again", EXIT_FULL)
    if (unreachable := _unreachable(home, error)) is not None:
        return unreachable
    if (refused := _refused(home, error)) is not None:
        return refused
    if not isinstance(error, _database_errors()):
        return None
    events, views = home / EVENTS_FILE, home / VIEWS_FILE
    if (found := damage(events)) is not None:
        return fail(f"the event store {events} is damaged ({found}): run `coordinator doctor`, and restore the file "
                    "from a backup", EXIT_DAMAGED)
    if (found := damage(views)) is not None:
        return fail(f"read models damaged ({views}: {found}): run `coordinator projections rebuild`", EXIT_DAMAGED)
    return None


def _refused(home: Path, error: BaseException) -> typer.Exit | None:
    """The exit (2) for a home this user may not use: its directory cannot be made (a file in the way, a place
    that takes none), or it, its lock or its files cannot be written (permissions, a read-only file system)."""
    cause = _denial(error)
    if cause is None:
        return None
    if isinstance(cause, OSError):
        where = Path(cause.filename) if isinstance(cause.filename, str) else None
        if where is None or not _near(where, home):
            return None  # a file elsewhere (an alerts file, a channel's): its own message says so
        if cause.errno == errno.ENOTDIR:
            blocker = next((part for part in (where, *where.parents) if part.exists() and not part.is_dir()), where)
            return fail(f"--home {home} cannot be made: {blocker} is a file, not a directory", EXIT_USAGE)
        if cause.errno == errno.ENOENT:
            return fail(f"cannot create {where} ({cause.strerror}): {home} cannot hold a coordinator's files; use "
                        "another --home", EXIT_USAGE)
        why = "read-only file system" if cause.errno == errno.EROFS else "permission denied"
        return fail(f"cannot write {where} ({why}): {_advice(home)}", EXIT_USAGE)
    for path in (home / EVENTS_FILE, home / VIEWS_FILE):
        if (reason := denied(path)) is not None:
            return fail(f"cannot open {path} ({reason}): {_advice(home)}", EXIT_USAGE)
    return fail(f"cannot use the files of {home} ({cause}): {_advice(home)}", EXIT_USAGE)


def _advice(home: Path) -> str:
    return (f"this user may not write {home}, which every command needs to (SQLite writes beside its files even to "
            "read them): run it as a user who may, or fix the permissions of the home and its files")


def _near(path: Path, home: Path) -> bool:
    """Whether `path` is the home, in it, or a directory the home is to be made in."""
    path, home = path.absolute(), home.absolute()
    return path == home or home in path.parents or path in home.parents


@contextmanager
def guarded(home: Path) -> Iterator[None]:
    """Turn a storage failure of the commands within into a clear message and its exit code."""
    try:
        yield
    except Exception as error:
        exit_ = failure(home, error)
        if exit_ is None:
            raise
        raise exit_ from None


def set_aside(path: Path) -> Path:
    """Move a damaged file (and its journal files) out of the way; where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(kept)
    for suffix in ("-wal", "-shm"):
        journal = path.with_name(path.name + suffix)
        if journal.exists():
            journal.rename(kept.with_name(kept.name + suffix))
    return kept


def _unreachable(home: Path, error: BaseException) -> typer.Exit | None:
    """The exit for a PostgreSQL store that cannot be used: out of reach (refused, the connection lost) or the
    role lacks a right it needs."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return None
    cause: BaseException | None = error
    while cause is not None and not isinstance(
            cause, psycopg.OperationalError | psycopg.InterfaceError | psycopg.errors.InsufficientPrivilege):
        cause = cause.__cause__
    if cause is None:
        return None
    from adapters import store_url

    try:
        where = store_url.redacted(store_url.configured(home) or "the PostgreSQL store")
    except ValueError:
        where = "the PostgreSQL store"
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if isinstance(cause, psycopg.errors.InsufficientPrivilege):
        return fail(f"{where} refused: {reason}; nothing more was recorded: the store's role needs SELECT, INSERT, "
                    "UPDATE and DELETE on its tables, USAGE on its sequences and EXECUTE on its functions, in its "
                    "schema and in its read models' (`views`, or `<schema>_views`), with USAGE on both (and CREATE "
                    "on the database for a new store)", EXIT_UNREACHABLE)
    return fail(f"cannot reach {where}: {reason}; nothing more was recorded: check that the server runs and the "
                "`store` URL (user, password, host, port, database), then run the command again", EXIT_UNREACHABLE)
