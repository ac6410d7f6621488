"""What the service benchmarks share: watching the file sink for the first notification about each subject."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def watch_sink(sink: Path, seen: dict[str, float], done: threading.Event) -> None:
    """Note in `seen` when the first notification about each subject reached `sink`, until `done` is set."""
    position, pending = 0, b""
    while not done.is_set():
        try:
            with sink.open("rb") as handle:
                handle.seek(position)
                data = handle.read()
        except FileNotFoundError:
            data = b""
        now = time.time()
        if not data:
            time.sleep(0.0005)
            continue
        position += len(data)
        rows = (pending + data).split(b"\n")
        pending = rows.pop()
        for row in rows:
            seen.setdefault(json.loads(row)["subject"], now)


def until(condition: Callable[[], Any], timeout: float) -> Any:
    """Poll `condition` until it returns something truthy (returned), or raise TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError("the service did not get there in time")
