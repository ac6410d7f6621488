"""Deliver by typing the message into the recipient's tmux window, then pressing Enter."""

from __future__ import annotations

import threading

from pydantic import Field

from adapters.channels.command import Template, check_template, fields, render, run
from adapters.channels.kind import ChannelKind, Context, Section
from adapters.terminal import visible
from domain.notifications import DeliveryError, Notification


class TmuxChannel:
    """Sends `message` literally to the tmux target (formatted with {agent}) and presses Enter.

    Windows are typed into concurrently, each by one sender at a time (two messages typed into one window at
    once would interleave).
    """

    name = "tmux"

    def __init__(self, target: str = "{agent}", tmux: str = "tmux", socket: str | None = None,
                 timeout: float = 5.0) -> None:
        check_template(target)
        self.target = target
        self.tmux = tmux
        self.socket = socket
        self.timeout = timeout
        self._windows: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def deliver(self, notification: Notification) -> None:
        """Type the text on one line (`-l`, so nothing is read as a key name; control characters, newlines
        included, typed as visible escapes so none acts as a key), then Enter."""
        target = render(self.target, fields(notification))
        base = [self.tmux, *(["-L", self.socket] if self.socket else []), "send-keys", "-t", target]
        text = visible(" ".join(notification.message.splitlines()))
        try:
            with self._window(target):
                run([*base, "-l", "--", text], self.timeout)
                run([*base, "Enter"], self.timeout)
        except DeliveryError as error:
            raise DeliveryError(f"tmux delivery to {target!r} failed: {error.reason}", error.retryable) from error

    def _window(self, target: str) -> threading.Lock:
        with self._guard:
            return self._windows.setdefault(target, threading.Lock())


class TmuxSection(Section):
    """Type the message into the recipient's tmux window."""

    target: Template = "{agent}"
    socket: str | None = None
    timeout: float = Field(default=5.0, gt=0)


def _build(section: TmuxSection, context: Context) -> TmuxChannel:
    return TmuxChannel(target=section.target, socket=section.socket, timeout=section.timeout)


KIND = ChannelKind("tmux", TmuxSection, _build)
