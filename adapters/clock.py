"""The time the coordinator lives by: the system clock, or a clock file for rehearsals and tests.

Every "now" the coordinator takes (the service's crossings and sleeps, delivery attempts and retries,
acknowledgements, the default `--as-of`) comes from one `Clock`. With `COORDINATOR_CLOCK_FILE` set, the
current time is read from that file (one ISO 8601 instant) whenever it is asked for: writing a later
instant there moves time forward for a running service at once, so scenarios can be rehearsed, and tested,
without waiting for the real clock.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

CLOCK_FILE_VARIABLE = "COORDINATOR_CLOCK_FILE"
FILE_POLL = 0.01
"""Seconds (of real time) between two looks at a clock file while waiting."""


class Clock(Protocol):
    """Tells the time, and waits for some of it to pass."""

    def now(self) -> datetime:
        """The current instant (aware, UTC)."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait until `event` is set or `seconds` of this clock's time have passed; True when `event` was set."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)


class FileClock:
    """A clock whose current instant is written in a file (by a person or a test)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._moment = datetime.now(UTC)
        self.now()

    def now(self) -> datetime:
        try:
            status = self.path.stat()
        except OSError as error:
            raise ClockError(f"clock file {self.path}: {error.strerror or error}") from None
        seen = (status.st_mtime_ns, status.st_size)
        if seen != self._seen:
            text = self.path.read_text(encoding="utf-8").strip()
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                if self._seen is not None:  # caught half-written: keep the last instant read
                    return self._moment
                raise ClockError(f"clock file {self.path}: {text[:40]!r} is not an ISO 8601 instant") from None
            self._moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            self._seen = seen
        return self._moment

    def wait(self, event: threading.Event, seconds: float) -> bool:
        target = self.now() + timedelta(seconds=seconds)
        while not event.wait(FILE_POLL):
            if self.now() >= target:
                return False
        return True


class ClockError(RuntimeError):
    """The clock file cannot be read."""


def clock_from_environment() -> Clock:
    """A `FileClock` when `COORDINATOR_CLOCK_FILE` names a file, else the system clock."""
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    return FileClock(Path(path)) if path else SystemClock()
