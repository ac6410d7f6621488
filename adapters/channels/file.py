"""Deliver by appending one JSON line per notification to a file."""

from __future__ import annotations

import json
import os
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
        line = (json.dumps(notification.as_dict(), ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab+") as handle:
                if _ends_mid_line(handle):
                    line = b"\n" + line  # an earlier write was cut short: start a fresh line
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise DeliveryError(f"cannot append to {self.path}: {error}", retryable=True) from error


def _ends_mid_line(handle: BinaryIO) -> bool:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return False
    handle.seek(size - 1)
    return handle.read(1) != b"\n"
