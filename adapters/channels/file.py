"""Deliver by appending one JSON line per notification to a file."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from domain.notifications import DeliveryError, Notification


class FileChannel:
    """Appends `notification.as_dict()` as a UTF-8 JSON line; the line is on disk before `deliver` returns."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def deliver(self, notification: Notification) -> None:
        """Append one line and fsync it."""
        error = self.deliver_many([notification])[0]
        if error is not None:
            raise error

    def deliver_many(self, notifications: Sequence[Notification]) -> list[DeliveryError | None]:
        """Append one line per notification with a single fsync: all are on disk, or all failed."""
        lines = b"".join(
            (json.dumps(notification.as_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            for notification in notifications
        )
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
        return [None] * len(notifications)


def _ends_mid_line(handle: BinaryIO) -> bool:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return False
    handle.seek(size - 1)
    return handle.read(1) != b"\n"
