"""Follows an alerts file as the accountability system writes it, from a durable position.

JSON Lines files are read incrementally: only complete lines (ending in a newline) are parsed, so a
half-written last line waits for its newline and is never lost. A file that shrank (truncated) or was
replaced (new inode: rotated) is read again from its start. A file that does not exist yet is waited
for. A JSON array or document rewritten as a whole is read again whenever its size or modification time
changes; alerts already seen are then recognised by their fingerprints. Nothing here is kept in memory
between reads except the position, which the coordinator records with the alerts it came with.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from adapters.alert_file import Item, first_line_is_an_item, parse_json_lines, read_alerts
from domain.sources import SourceMark

READ_LIMIT = 4 * 1024 * 1024
"""The most bytes read at once (a larger backlog is read in several steps)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Items read from the file, and the position once they are applied."""

    items: list[Item]
    mark: SourceMark


class AlertFollower:
    """Reads what is new in one alerts file since `mark` (None: from the start)."""

    def __init__(self, path: Path, mark: SourceMark | None = None, max_lines: int = 2_000) -> None:
        self.path = path
        self.mark = mark
        self.max_lines = max_lines

    def read(self) -> Chunk | None:
        """The next complete items, or None when there is nothing new (or no file yet)."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        mark = self.mark
        if mark is not None and (mark.inode != status.st_ino or status.st_size < mark.offset):
            mark = None  # rotated or truncated: the file is new, read it from its start
        with self.path.open("rb") as handle:
            head = handle.read(READ_LIMIT if mark is None else 0)
            if mark is None and not head.strip():
                return None
            whole_file = mark is None and not first_line_is_an_item(head)
            if whole_file or (mark is not None and mark.line == 0):
                return self._document(status)
            start = 0 if mark is None else mark.offset
            if start == 0 and head.startswith(codecs.BOM_UTF8):
                start = len(codecs.BOM_UTF8)
            handle.seek(start)
            data = handle.read(READ_LIMIT)
        return self._lines(status, start, 1 if mark is None else mark.line, data)

    def advance(self, mark: SourceMark) -> None:
        """Take `mark` as read (call once the chunk it came with has been recorded)."""
        self.mark = mark

    def _lines(self, status: os.stat_result, start: int, line: int, data: bytes) -> Chunk | None:
        end = data.rfind(b"\n")
        if end < 0:
            return None  # nothing but a half-written line: wait for its newline
        lines = data[: end + 1].split(b"\n")[:-1][: self.max_lines]
        consumed = sum(len(text) + 1 for text in lines)
        items = list(parse_json_lines(enumerate((text + b"\n" for text in lines), line), str(self.path)))
        mark = SourceMark(str(self.path), status.st_ino, start + consumed, line + len(lines))
        return Chunk(items, mark)

    def _document(self, status: os.stat_result) -> Chunk | None:
        mark = self.mark
        if mark is not None and (mark.offset, mark.mtime_ns) == (status.st_size, status.st_mtime_ns):
            return None
        items = list(read_alerts(self.path))
        return Chunk(items, SourceMark(str(self.path), status.st_ino, status.st_size, 0, status.st_mtime_ns))
