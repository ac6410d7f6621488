"""Deliver by printing one readable line, for local runs and demos."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.channels.kind import ChannelKind, Context, Section
from adapters.terminal import visible
from domain.notifications import DeliveryError, Notification


class ConsoleChannel:
    """Prints `[priority] recipient ← message` to `stream` (standard output, looked up at each delivery)."""

    name = "console"
    concurrency = 1
    """One line at a time: lines printed together would run into each other."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def deliver(self, notification: Notification) -> None:
        """Print the notification on one line (its control characters shown as escapes, never obeyed)."""
        message = " ".join(notification.message.splitlines())
        line = visible(f"[{notification.priority}] {notification.recipient} ← {message}")
        try:
            _print(line, self.stream if self.stream is not None else sys.stdout)
        except (OSError, ValueError) as error:  # ValueError: the stream is closed
            raise DeliveryError(f"cannot write to the console: {error}", retryable=False) from error


def _print(line: str, stream: TextIO) -> None:
    """Write the line and its end at once, so lines other threads print never split it."""
    try:
        stream.write(line + "\n")
    except UnicodeEncodeError:  # a console that cannot show the arrow or emoji
        ascii_line = line.replace("←", "<-").encode("ascii", "backslashreplace").decode("ascii")
        stream.write(ascii_line + "\n")
    stream.flush()


class ConsoleSection(Section):
    """Print one readable line per notification (nothing to configure)."""


def _build(section: ConsoleSection, context: Context) -> ConsoleChannel:
    return ConsoleChannel(context.console)


KIND = ChannelKind("console", ConsoleSection, _build, always=True)
