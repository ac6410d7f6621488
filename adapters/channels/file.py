"""Deliver by appending one JSON line per notification to a file."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from adapters.channels.kind import ChannelKind, Context, Section
from domain.notifications import DeliveryError, Notification, identity_of

RECENT_KEYS = 5_000
"""How many of the newest keys in the file are remembered (read from its tail at start) to skip repeats."""


class FileChannel:
    """Appends `notification.as_dict()` as a UTF-8 JSON line; the line is on disk before `deliver` returns.

    Idempotent per key: a notification whose key (in its hive: see `Notification.identity`) is among the file's
    newest lines is not written again.
    (A crash between writing lines and recording them as delivered means they are attempted again on
    restart; they are then found in the file's tail.)
    """

    name = "file"

    def __init__(self, path: Path, recent_keys: int = RECENT_KEYS) -> None:
        self.path = path
        self.recent_keys = recent_keys
        self._recent: OrderedDict[str, None] | None = None

    def deliver(self, notification: Notification) -> None:
        """Append one line and fsync it."""
        error = self.deliver_many([notification])[0]
        if error is not None:
            raise error

    def deliver_many(self, notifications: Sequence[Notification]) -> list[DeliveryError | None]:
        """Append one line per notification with a single fsync: all are on disk, or all failed."""
        recent = self._recent_keys()
        fresh = [notification for notification in notifications if notification.identity not in recent]
        lines = b"".join(
            (json.dumps(notification.as_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            for notification in fresh
        )
        if not lines:
            return [None] * len(notifications)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab+") as handle:
                if _ends_mid_line(handle):
                    lines = b"\n" + lines  # an earlier write was cut short: start a fresh line
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            failure = DeliveryError(f"cannot append to {self.path}: {error}", retryable=True)
            return [failure] * len(notifications)
        for notification in fresh:
            recent[notification.identity] = None
        while len(recent) > self.recent_keys:
            recent.popitem(last=False)
        return [None] * len(notifications)

    def _recent_keys(self) -> OrderedDict[str, None]:
        """The newest keys in the file (read from its tail once, then kept up to date and bounded)."""
        if self._recent is None:
            self._recent = OrderedDict((key, None) for key in _tail_keys(self.path, self.recent_keys))
        return self._recent


def _ends_mid_line(handle: BinaryIO) -> bool:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return False
    handle.seek(size - 1)
    return handle.read(1) != b"\n"


def _tail_keys(path: Path, count: int) -> list[str]:
    """The identity (`key`, after `hive/` when the line names one) of each of the last `count` lines of the file
    (lines that are not such JSON are skipped)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - count * 1024))
            tail = handle.read().splitlines()[-count:]
    except OSError:
        return []  # no file yet (or none can be read): nothing was delivered through it
    keys = []
    for line in tail:
        try:
            fields = json.loads(line)
            key, hive = fields.get("key"), fields.get("hive")
        except (ValueError, AttributeError):
            continue
        if isinstance(key, str):
            keys.append(identity_of(key, hive if isinstance(hive, str) else None))
    return keys


class FileSection(Section):
    """Append JSON Lines (relative paths are inside the home directory)."""

    path: Path = Field(default=Path("notifications.jsonl"))

    def resolved(self, home: Path) -> Path:
        """The file's path, relative paths taken inside `home`."""
        return self.path if self.path.is_absolute() else home / self.path


def _build(section: FileSection, context: Context) -> FileChannel:
    return FileChannel(section.resolved(context.home))


KIND = ChannelKind("file", FileSection, _build, always=True)
