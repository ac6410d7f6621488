"""Waking a reader of the event log when new events are recorded: PostgreSQL tells (LISTEN/NOTIFY); the SQLite
home is looked at again after a short interval."""

from __future__ import annotations

import threading
from typing import Protocol

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
    connection of its own."""

    def __init__(self, url: str, channel: str) -> None:
        import psycopg
        from psycopg.sql import SQL, Identifier

        from adapters import store_url

        self.connection = psycopg.connect(store_url.connectable(url), autocommit=True, connect_timeout=10)
        self.connection.execute(SQL("LISTEN {}").format(Identifier(channel)))

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        remaining = timeout
        while remaining > 0 and not stop.is_set():
            step = min(STEP, remaining)
            if list(self.connection.notifies(timeout=step, stop_after=1)):
                list(self.connection.notifies(timeout=0.001))  # those queued meanwhile: one catch-up covers all
                return True
            remaining -= step
        return False

    def close(self) -> None:
        self.connection.close()
