"""What the running service tells its operator, on standard error: one line an event, as text for people or as
JSON Lines for machines (`--log-format json`).

Logged: start-up and stop, each ingested batch (its counts), each escalation to ORANGE or above, each dead
letter, a file waited for, and read-model catch-up progress. Untrusted text is shown with its control
characters escaped (text) or JSON-escaped (json).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from adapters.terminal import visible

FORMATS = ("text", "json")


class Log(Protocol):
    """Logs one event: a sentence for people, and its facts by name."""

    def __call__(self, message: str, /, **facts: Any) -> None: ...


class ServiceLog:
    """The service's log, written whole line by whole line (sending threads log dead letters too)."""

    def __init__(self, log_format: str = "text", stream: TextIO | None = None) -> None:
        if log_format not in FORMATS:
            raise ValueError(f"unknown log format {log_format!r}: choose text or json")
        self.json = log_format == "json"
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, message: str, /, **facts: Any) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.json:
            line = json.dumps({"time": now, "message": message, **facts}, default=str)
        else:
            line = f"{now} {visible(message)}"
        stream = self.stream if self.stream is not None else sys.stderr
        with self._lock:
            print(line, file=stream, flush=True)


def log_from_handler(log: Log, message: str, /, **facts: Any) -> threading.Thread:
    """Log from a signal handler, on a thread of its own: the thread the signal interrupted may be halfway through
    writing a line, holding the log's lock, and would wait for itself forever. Returns the thread (it ends once the
    line is written)."""
    writer = threading.Thread(target=log, args=(message,), kwargs=facts, name="signal-log")
    writer.start()
    return writer

