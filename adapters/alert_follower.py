"""Follows an alerts file as the accountability system writes it, from a durable position.

JSON Lines files are read incrementally: only complete lines (ending in a newline) are parsed, so a
half-written last line waits for its newline and is never lost. A file that shrank (truncated), was
replaced (new inode) or whose first bytes changed (deleted and written again) is read again from its
start. A file that does not exist yet is waited for. A JSON array or document rewritten as a whole is
read again whenever its size or modification time changes; alerts already seen are then recognised by
their fingerprints. Nothing is kept in memory between reads except the position, which the coordinator
records with the alerts it came with.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from adapters.alert_file import Item, parse_json_lines, read_alerts
from domain.sources import SourceMark

BLOCK = 64 * 1024
"""Bytes read at a time while collecting lines."""
HEAD = 128
"""How many of the file's first bytes identify it (a rewritten file has other first bytes)."""
_ENVELOPES = ("alerts", "events")


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
        with self.path.open("rb") as handle:
            mark = self.mark if self.mark is not None and self._same_file(handle, status, self.mark) else None
            if mark is None:
                mode = _mode(handle.read(BLOCK))
                if mode is None:
                    return None
                if mode == "document":
                    return self._document(status)
                start, line = _content_start(handle), 1
            elif mark.line == 0:
                return self._document(status)
            else:
                start, line = mark.offset, mark.line
            return self._lines(handle, status, start, line)

    def advance(self, mark: SourceMark) -> None:
        """Take `mark` as read (call once the chunk it came with has been recorded)."""
        self.mark = mark

    def _same_file(self, handle: object, status: os.stat_result, mark: SourceMark) -> bool:
        if mark.inode != status.st_ino or status.st_size < mark.offset:
            return False
        return not mark.head or _head(self.path, min(mark.offset, HEAD)) == mark.head

    def _lines(self, handle: object, status: os.stat_result, start: int, line: int) -> Chunk | None:
        assert hasattr(handle, "seek") and hasattr(handle, "read")
        handle.seek(start)
        lines: list[bytes] = []
        pending = b""
        consumed = 0
        while len(lines) < self.max_lines:
            block = handle.read(BLOCK)
            if not block:
                break
            parts = (pending + block).split(b"\n")
            pending = parts.pop()
            room = self.max_lines - len(lines)
            taken = parts[:room]
            lines.extend(taken)
            consumed += sum(len(text) + 1 for text in taken)
            if len(parts) > room:
                break
        if not lines:
            return None  # nothing but a half-written line: wait for its newline
        items = list(parse_json_lines(enumerate((text + b"\n" for text in lines), line), str(self.path)))
        offset = start + consumed
        head = _head(self.path, min(offset, HEAD))
        mark = SourceMark(str(self.path), status.st_ino, offset, line + len(lines), 0, head)
        return Chunk(items, mark)

    def _document(self, status: os.stat_result) -> Chunk | None:
        mark = self.mark
        unchanged = (mark.offset, mark.mtime_ns) == (status.st_size, status.st_mtime_ns) if mark else False
        if mark is not None and mark.line == 0 and unchanged:
            return None
        items = list(read_alerts(self.path))
        head = _head(self.path, min(status.st_size, HEAD))
        return Chunk(items, SourceMark(str(self.path), status.st_ino, status.st_size, 0, status.st_mtime_ns, head))


def _mode(data: bytes) -> str | None:
    """`lines`, `document`, or None when too little is written yet to tell."""
    text = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        return None
    if text.startswith(b"["):
        return "document"
    complete = [piece.strip() for piece in text.split(b"\n")[:-1] if piece.strip()]
    if not complete:
        value = _decoded(text)
        return "document" if _is_document(value) else None  # one line, no newline yet: wait unless a document
    first = _decoded(complete[0])
    if first is not None:
        return "document" if _is_document(first) else "lines"
    if not text.startswith(b"{"):
        return "lines"
    if len(complete) >= 2:
        return "lines" if isinstance(_decoded(complete[1]), dict) else "document"
    return None if len(text) < BLOCK else "document"


def _is_document(value: object) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and any(
        isinstance(value.get(key), list) for key in _ENVELOPES))


def _decoded(data: bytes) -> object | None:
    try:
        value: object = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return value


def _content_start(handle: object) -> int:
    assert hasattr(handle, "seek") and hasattr(handle, "read")
    handle.seek(0)
    return len(codecs.BOM_UTF8) if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8 else 0


def _head(path: Path, size: int) -> str:
    """A digest of the file's first `size` bytes: what tells this file from another written in its place."""
    try:
        with path.open("rb") as handle:
            return hashlib.sha1(handle.read(size)).hexdigest()
    except OSError:
        return ""
