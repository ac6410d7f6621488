"""`--watch`: draw a command's answer again every few seconds, as `watch` would, until Ctrl-C."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Annotated

import typer

LONGEST = 86_400.0
"""The longest wait `--watch` takes between two drawings: a day."""


def _finite(value: float | None) -> float | None:
    if value is not None and math.isnan(value):
        raise typer.BadParameter(f"{value} is not a number of seconds")
    return value


WatchOption = Annotated[
    float | None,
    typer.Option("--watch", metavar="SECONDS", min=0.1, max=LONGEST, show_default=False, callback=_finite,
                 help="Draw the answer again every SECONDS (clearing a terminal first) until Ctrl-C."),
]


def watched(every: float | None, draw: Callable[[], None]) -> None:
    """Call `draw` once, or every `every` seconds until interrupted (which ends the command with exit 0)."""
    if every is None:
        draw()
        return
    from rich.console import Console

    console = Console()
    try:
        while True:
            if console.is_terminal:
                console.clear()
            draw()
            time.sleep(every)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
