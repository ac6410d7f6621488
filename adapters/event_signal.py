"""Waking a reader of the event log when new events are recorded: PostgreSQL tells (LISTEN/NOTIFY); the SQLite
home is looked at again after a short interval."""

from __future__ import annotations

import threading
from typing import Any, Protocol

POLL = 1.0
"""Seconds between looks at the SQLite home (which cannot tell its readers)."""
STEP = 0.5
"""The longest a wait on PostgreSQL blocks at once, so a stop is seen promptly."""


class Changes(Protocol):
    """Something to wait on until the event store may hold new events."""

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        """Return once new events may have been recorded (True), or after `timeout` or when `stop` is set
        (False)."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


class Polling:
    """The SQLite home: new events may be there after every `POLL` seconds."""

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        return not stop.wait(min(POLL, timeout))

    def close(self) -> None:
        """Nothing to release."""


class Listening:
    """A PostgreSQL store: every save notifies the events table's channel at commit; this listens to it on a
    connection of its own, with TCP keepalives. A connection lost (a server restart, a network cut) is made again
    and listens again; since notifications may have been missed meanwhile, the wait then says to look."""

    def __init__(self, url: str, channel: str) -> None:
        self.url = url
        self.channel = channel
        self.connection: Any = None
        self.lost: str | None = None
        """Why the connection was lost, until it is made again (None while it listens)."""
        self._listen()

    def _listen(self) -> None:
        import psycopg
        from psycopg.sql import SQL, Identifier

        from adapters import store_url
        from adapters.postgres_lease import KEEPALIVE

        self.connection = psycopg.connect(store_url.connectable(self.url), autocommit=True, **KEEPALIVE)
        self.connection.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
        self.lost = None

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        import psycopg

        remaining = timeout
        while remaining > 0 and not stop.is_set():
            step = min(STEP, remaining)
            try:
                if self.connection is None:
                    self._listen()
                    return True  # what was recorded while nobody listened
                if list(self.connection.notifies(timeout=step, stop_after=1)):
                    list(self.connection.notifies(timeout=0.001))  # those queued meanwhile: one catch-up covers all
                    return True
            except psycopg.OperationalError as error:
                self._drop(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
                stop.wait(step)  # out of reach: try again shortly
            remaining -= step
        return False

    def _drop(self, why: str) -> None:
        self.lost = why
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
