"""One writer per PostgreSQL store: a session-level advisory lock, held on a connection of its own.

Any number of coordinators may point at one store; the one holding the lease writes, the others wait. PostgreSQL
releases the lock the moment the holder's session ends: at once when its process dies (even by SIGKILL: the
server sees the connection close), and within seconds of a machine lost or a network cut, which TCP keepalives on
both ends detect. The holder checks its lease before each pass and stops writing once it is gone.

Who holds the lease is kept in `writer_leases` (host, pid, command, since, the lease session's backend pid), for
error messages and `coordinator status`; a row whose session has ended describes a past holder. A standby's request
for the lock waits on the server, which grants it the moment the holder's session ends.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg.errors
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters import store_url

LEASE_SPACE = 0x5EED
"""The first key of every advisory lock the coordinator takes (the second names the lease), so its locks never
meet another application's."""
POLL = 1.0
"""Seconds a waiting coordinator's request for the lease waits on the server before it looks whether it was asked
to stop (the server grants the lease the moment the holder's session ends), and between attempts to reach a
server out of reach."""
KEEPALIVE: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2,
             "connect_timeout": 10,
             "options": "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2"}
"""TCP keepalives on the lease's connection, client and server side: a holder cut off is noticed by both within
about 4 seconds."""
TABLE = ("CREATE TABLE IF NOT EXISTS {}.writer_leases (name text PRIMARY KEY, session integer NOT NULL,"
         " host text NOT NULL, pid integer NOT NULL, command text NOT NULL, since timestamptz NOT NULL)")


class LeaseHeld(RuntimeError):
    """Another coordinator holds the writer lease of the store."""

    def __init__(self, store: str, holder: dict[str, Any] | None) -> None:
        who = describe(holder)
        super().__init__(f"{store_url.redacted(store)} is being written by {who}; stop it first, or start "
                         "`coordinator run` here to take over when it stops")
        self.holder = holder


def describe(holder: dict[str, Any] | None) -> str:
    """A holder as people read it: `run (pid 42 on host-a, since ...)`."""
    if not holder:
        return "another coordinator"
    return (f"{holder.get('command') or 'a coordinator'} (pid {holder.get('pid', '?')} on {holder.get('host', '?')},"
            f" since {holder.get('since', '?')})")


class WriterLease:
    """The writer lease of the store at `url`, held from `acquire` until `release` (or the session ends). Stores in
    different schemas of one database (`?schema=NAME`) have leases of their own, so each has its own writer."""

    def __init__(self, url: str, command: str) -> None:
        self.url = url
        self.command = command
        self.schema = store_url.schema_of(url)
        self.name = lease_name(self.schema)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self.session: int | None = None
        """The backend pid of the session holding the lease (what delivery claims are made in the name of)."""

    def try_acquire(self, wait: float = 0.0) -> bool:
        """Take the lease if it is free, or becomes free within `wait` seconds (the server wakes the waiter the
        moment the holder's session ends); whether this process now holds it."""
        try:
            return self._try_acquire(wait)
        except psycopg.Error:
            self.close()  # whatever went wrong, no half-made session is kept
            raise

    def _try_acquire(self, wait: float) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(store_url.connectable(self.url), autocommit=True, **KEEPALIVE)
        conn = self._conn
        if wait > 0:
            conn.execute(f"SET lock_timeout = '{int(wait * 1000)}ms'")
            try:
                conn.execute("SELECT pg_advisory_lock(%s::integer, hashtext(%s))", (LEASE_SPACE, self.name))
            except psycopg.errors.LockNotAvailable:
                return False
        else:
            row = conn.execute("SELECT pg_try_advisory_lock(%s::integer, hashtext(%s))",
                               (LEASE_SPACE, self.name)).fetchone()
            if row is None or not row[0]:
                return False
        self.session = conn.info.backend_pid
        schema = Identifier(self.schema)
        known = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{self.schema}".writer_leases',)).fetchone()
        if not known or not known[0]:  # a new store (a role that may only write rows never needs to create)
            conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            conn.execute(SQL(TABLE).format(schema))
        conn.execute(SQL(
            "INSERT INTO {}.writer_leases VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
            " session = excluded.session, host = excluded.host, pid = excluded.pid, command = excluded.command,"
            " since = excluded.since").format(schema),
            (self.name, self.session, socket.gethostname(), os.getpid(), self.command, datetime.now(UTC)))
        return True

    def acquire(self) -> WriterLease:
        """Take the lease or raise `LeaseHeld` naming the holder."""
        if not self.try_acquire():
            holder = self.holder()
            self.close()
            raise LeaseHeld(self.url, holder)
        return self

    def wait(self, stop: threading.Event, waiting: Any = None) -> bool:
        """Take the lease as soon as it is free (the request waits on the server, which grants it the moment the
        holder's session ends) or until `stop` is set; whether it was taken. `waiting(holder, error)` is called
        when it starts to wait, and again whenever why it waits changes (`error`: why the server cannot be
        reached, None when it can)."""
        told: object = None
        while not stop.is_set():
            error = None
            try:
                if self.try_acquire(wait=0.0 if told is None else POLL):
                    return True
            except psycopg.OperationalError as failure:
                self.close()  # the server is out of reach: try again
                error = str(failure).strip().splitlines()[0] if str(failure).strip() else type(failure).__name__
            holder = None if error is not None else self._holder_or_none()
            why = (error, None if holder is None else holder.get("session"))
            if why != told and waiting is not None:
                waiting(holder, error)
            told = why
            if error is not None:
                stop.wait(POLL)  # the server is out of reach: look again in a while
        return False

    def held(self) -> bool:
        """Whether the lease is still held: its session is alive (a round trip to the server)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            with self._lock:
                self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lease now (None when nobody does)."""
        with psycopg.connect(store_url.connectable(self.url), autocommit=True, connect_timeout=10) as conn:
            return holder_of(conn, self.schema)

    def _holder_or_none(self) -> dict[str, Any] | None:
        try:
            return self.holder()
        except psycopg.Error:
            return None

    def release(self) -> None:
        """Let another coordinator write."""
        self.close()

    def close(self) -> None:
        """End the lease's session (which releases the lock)."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
                self.session = None


def lease_name(schema: str) -> str:
    """The name of the writer lease of the store in `schema`."""
    return f"writer:{schema}"


def holder_of(conn: psycopg.Connection[Any], schema: str = "public") -> dict[str, Any] | None:
    """Who holds the writer lease of the store in `schema` of the database `conn` is connected to (None when
    nobody does)."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        known = cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".writer_leases',)).fetchone()
        if not known or not known[0]:
            return None
        row = cursor.execute(SQL(
            "SELECT l.host, l.pid, l.command, l.since, l.session FROM {}.writer_leases l JOIN pg_locks k"
            " ON k.locktype = 'advisory' AND k.granted AND k.pid = l.session AND k.classid::bigint = %s::bigint"
            " AND k.objid::bigint = (hashtext(l.name)::bigint & 4294967295) WHERE l.name = %s").format(
                Identifier(schema)), (LEASE_SPACE, lease_name(schema))).fetchone()
    if row is None:
        return None
    host, pid, command, since, session = row
    return {"host": host, "pid": pid, "command": command, "since": _z(since), "session": session}


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
