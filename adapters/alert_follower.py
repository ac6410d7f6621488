"""Follows an alerts file as the accountability system writes it, from a durable position.

JSON Lines files are read incrementally: only complete lines (ending in a newline) are parsed, so a half-written
last line waits for its newline and is never lost. Lines are read in bounded blocks: one over `max_line_bytes` is
quarantined without being held whole (`adapters.input_limits`). The position records digests of the file's first
bytes and of the bytes just before it: a file that shrank (truncated), was replaced (new inode) or whose recorded
bytes changed (rewritten in place, even beginning the same) is read again from its start, and alerts already applied
are recognised by their fingerprints. A file rotated away (renamed or removed while lines were still being written
to it) is first read to its end through the handle kept on it, its last line taken even without a newline, so
nothing written before the rotation is lost while the follower runs. A file that does not exist yet is waited for,
and so is one that cannot be read or is not a regular file (a directory, a FIFO): `problem` says why. A JSON array
or document rewritten as a whole is read again whenever its size or modification time changes; one that breaks off
at its very end is taken to be still being written, and its unfinished last item waits like a half-written line.
Nothing is kept between reads but the position, which the coordinator records with the alerts it came with, and that
open handle on the file last read line by line (`close` lets go of it).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from adapters.alert_file import LOOKED_AT, Item, is_json_lines, parse_json_lines, read_alerts
from adapters.alert_json import loads, value_of
from adapters.input_limits import BLOCK, Limits, Line, Oversized, bounded_lines, current, is_complete, width
from domain.alerts import Quarantined
from domain.sources import SourceMark

__all__ = ["BLOCK", "CHUNK_BYTES", "HEAD", "TAIL", "AlertFollower", "Chunk"]

HEAD = 128
"""How many of the file's first bytes identify it (a file written in its place has other first bytes)."""
TAIL = 4096
"""How many bytes just before the position identify it too (a file rewritten in place has other bytes there)."""
CHUNK_BYTES = 2 * 1024 * 1024
"""A chunk holds at most about this many bytes of lines (and at least one line), however many lines fit."""
_ENVELOPES = ("alerts", "events")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Items read from the file, and the position once they are applied."""

    items: list[Item]
    mark: SourceMark


class AlertFollower:
    """Reads what is new in one alerts file since `mark` (None: from the start), within the configured limits."""

    def __init__(self, path: Path, mark: SourceMark | None = None, max_lines: int = 2_000) -> None:
        self.path = path
        self.mark = mark
        self.max_lines = max_lines
        self.problem: str | None = None
        """Why the file could not be read at the last `read` (None when it was read, or is not there yet)."""
        self._held: BinaryIO | None = None
        """The file last read line by line, kept open to read it to its end should it be rotated away."""

    def read(self) -> Chunk | None:
        """The next complete items, or None when there is nothing new (no file yet, or one that cannot be read:
        see `problem`)."""
        try:
            opened = _open_regular(self.path)
        except FileNotFoundError:
            self.problem = None
            return self._rest_of_rotated(None)
        except OSError as error:
            self.problem = f"cannot be read ({error.strerror or error})"
            return None
        if opened is None:
            self.problem = "is not a regular file (a directory, a FIFO or a device?)"
            return None
        self.problem = None
        handle, status = opened
        rest = self._rest_of_rotated(status.st_ino)
        if rest is not None:
            handle.close()
            return rest
        limits = current()
        with handle:
            mark = self.mark if self.mark is not None and _same_file(handle, status, self.mark) else None
            if mark is None:
                mode = _mode(handle, limits)
                if mode is None:
                    return None
                if mode == "document":
                    return self._document(handle, status, limits)
                start, line = _content_start(handle), 1
            elif mark.line == 0:
                return self._document(handle, status, limits)
            else:
                start, line = mark.offset, mark.line
            self._hold(handle, status)
            return self._lines(handle, status, start, line, limits.max_line_bytes)

    def advance(self, mark: SourceMark) -> None:
        """Take `mark` as read (call once the chunk it came with has been recorded)."""
        self.mark = mark

    def close(self) -> None:
        """Let go of the handle kept on the file last read."""
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _hold(self, handle: BinaryIO, status: os.stat_result) -> None:
        """Keep a handle on the file being read line by line (unless one is kept on it already)."""
        if self._held is not None and os.fstat(self._held.fileno()).st_ino == status.st_ino:
            return
        self.close()
        self._held = os.fdopen(os.dup(handle.fileno()), "rb")

    def _rest_of_rotated(self, inode: int | None) -> Chunk | None:
        """What is left to read of the file the mark was taken in, when it is no longer at the path (now the file
        `inode`, or none): its lines after the mark, up to its very end. None once nothing is left (the handle is
        then let go of) or when the file at the path is still the one read."""
        held, mark = self._held, self.mark
        if held is None:
            return None
        status = os.fstat(held.fileno())
        if mark is None or mark.line == 0 or status.st_ino != mark.inode:
            self.close()
            return None
        if status.st_ino == inode:
            return None
        rest = self._lines(held, status, mark.offset, mark.line, current().max_line_bytes, final=True)
        if rest is None:
            self.close()
        return rest

    def _lines(
        self, handle: BinaryIO, status: os.stat_result, start: int, line: int, limit: int, final: bool = False,
    ) -> Chunk | None:
        """The complete lines from `start` (numbered from `line`); `final`: the file is written no more, so its last
        line is taken even without a newline."""
        handle.seek(start)
        taken: list[Line] = []
        consumed = kept = 0
        for entry in bounded_lines(handle, limit):
            if not is_complete(entry) and not final:
                break  # a half-written line: wait for its newline
            taken.append(entry)
            consumed += width(entry)
            kept += len(entry.head) if isinstance(entry, Oversized) else len(entry)
            if len(taken) >= self.max_lines or kept >= CHUNK_BYTES:
                break
        if not taken:
            return None
        items = list(parse_json_lines(enumerate(taken, line), str(self.path), limit))
        offset = start + consumed
        mark = SourceMark(str(self.path), status.st_ino, offset, line + len(taken), 0, _identity(handle, offset))
        return Chunk(items, mark)

    def _document(self, handle: BinaryIO, status: os.stat_result, limits: Limits) -> Chunk | None:
        mark = self.mark
        unchanged = (mark.offset, mark.mtime_ns) == (status.st_size, status.st_mtime_ns) if mark else False
        if mark is not None and mark.line == 0 and unchanged:
            return None
        items = list(read_alerts(self.path, limits))
        if items and isinstance(items[-1], Quarantined) and _unfinished(handle, status.st_size, limits):
            items.pop()  # still being written, like a line with no newline yet: read again once it has grown
        identity = _identity(handle, status.st_size)
        return Chunk(items, SourceMark(str(self.path), status.st_ino, status.st_size, 0, status.st_mtime_ns, identity))


def _open_regular(path: Path) -> tuple[BinaryIO, os.stat_result] | None:
    """The file at `path` opened for reading with its status, or None (nothing left open) when it is not a regular
    file. Opened without blocking, so a FIFO put in its place is refused rather than waited on."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        return None
    return os.fdopen(descriptor, "rb"), status


def _unfinished(handle: BinaryIO, size: int, limits: Limits) -> bool:
    """Whether the JSON document in the file breaks off at its very end (the rest not written yet)."""
    if size > limits.max_document_bytes:
        return False
    handle.seek(0)
    text = handle.read(size).removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace").rstrip()
    try:
        loads(text)
    except json.JSONDecodeError as error:
        return error.pos >= len(text) or error.msg.startswith("Unterminated string")  # (which runs to the end)
    except (ValueError, RecursionError):
        return False
    return False


def _same_file(handle: BinaryIO, status: os.stat_result, mark: SourceMark) -> bool:
    """Whether the file is still the one `mark` was taken in, grown or not. A mark recorded before the
    digest of the bytes before its position was kept is checked by its first bytes only."""
    if mark.inode != status.st_ino or status.st_size < mark.offset:
        return False
    if not mark.head:
        return True
    recorded = mark.head.split(":")
    return _identity(handle, mark.offset).split(":")[: len(recorded)] == recorded


def _identity(handle: BinaryIO, offset: int) -> str:
    """`head:tail`: digests of the file's first `HEAD` bytes and of the `TAIL` bytes just before `offset`."""
    return f"{_digest(handle, 0, min(offset, HEAD))}:{_digest(handle, max(0, offset - TAIL), offset)}"


def _digest(handle: BinaryIO, start: int, end: int) -> str:
    handle.seek(start)
    return hashlib.sha1(handle.read(end - start)).hexdigest()


def _mode(handle: BinaryIO, limits: Limits) -> str | None:
    """`lines`, `document`, or None when too little is written yet to tell."""
    handle.seek(0)
    data = handle.read(BLOCK)
    mode = _mode_of(data)
    return mode if mode is not None or len(data) < BLOCK else _long_mode(handle, limits)


def _long_mode(handle: BinaryIO, limits: Limits) -> str | None:
    """The mode of a file whose first block holds no whole line: its first line is long, maybe over the
    limit. Such a line followed by others is a JSON line; alone, it is read whole (within the document
    limit) to tell a document from a line."""
    start = _content_start(handle)
    content: list[Line] = []
    for entry in bounded_lines(handle, limits.max_line_bytes):
        if isinstance(entry, Oversized) or entry.strip():
            content.append(entry)
            if len(content) == 2:
                break
    if not content:
        return None
    if not isinstance(content[0], Oversized):
        return _mode_of(b"".join(entry for entry in content if isinstance(entry, bytes)))
    if len(content) == 2:
        return "lines"
    if os.fstat(handle.fileno()).st_size > limits.max_document_bytes:
        return "document"  # too large to tell: read as a document, which is quarantined as too large
    handle.seek(start)
    if _is_document(value_of(handle.read(limits.max_document_bytes))):
        return "document"
    return "lines" if is_complete(content[0]) else None


def _mode_of(data: bytes) -> str | None:
    """The mode the file's first bytes `data` show, or None when they do not tell."""
    text = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        return None
    complete = [piece.strip() for piece in text.split(b"\n")[:-1] if piece.strip()]
    if is_json_lines(list(complete[:LOOKED_AT])):  # read as `read_alerts` reads the whole file
        return "lines"
    if text.startswith(b"["):
        return "document"
    if not complete:
        value = value_of(text)
        return "document" if _is_document(value) else None  # one line, no newline yet: wait unless a document
    first = value_of(complete[0])
    if first is not None:  # (the only complete line: with two, the file is JSON Lines, above)
        return "document" if _is_document(first) else "lines"
    if not text.startswith(b"{"):
        return "lines"
    if len(complete) >= 2:  # neither of its first two lines is JSON on its own (else JSON Lines, above)
        return "document"
    return None if len(text) < BLOCK else "document"


def _is_document(value: object) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and any(
        isinstance(value.get(key), list) for key in _ENVELOPES))


def _content_start(handle: BinaryIO) -> int:
    """The offset after a byte order mark, if the file begins with one (the handle is left there)."""
    handle.seek(0)
    if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
        return len(codecs.BOM_UTF8)
    handle.seek(0)
    return 0
