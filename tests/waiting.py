"""Waiting for something observable to happen: the one way tests wait, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

GENEROUS = 60.0
"""Seconds before a wait gives up: it only bounds a test that fails, and a loaded machine may take seconds to start
a process, so it is generous on purpose."""


def wait_for(condition: Callable[[], Any], what: str, timeout: float = GENEROUS, step: float = 0.02) -> Any:
    """Poll `condition` every `step` seconds until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def as_from_a_terminal() -> None:
    """For `preexec_fn`: the child takes Ctrl-C (SIGINT) as a terminal's foreground job would, even when this test run
    was started in the background by a shell, which makes its children ignore SIGINT."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
