"""How large an input may be, and reading lines in bounded blocks so that no line over the limit is held whole.

A line over `max_line_bytes` (not counting its newline) is read through block by block, keeping only its
first `KEPT` bytes and its size, and quarantined saying so. A whole document (a JSON array or object) is
read into memory to be parsed, so it is bounded separately by `max_document_bytes`; each of its items is
still held to `max_line_bytes`.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from domain.alerts import Quarantined

BLOCK = 64 * 1024
"""Bytes read at a time."""
KEPT = 64 * 1024
"""How much of an oversized line or document is kept as its raw text in quarantine."""
MAX_LINE_BYTES = 1024 * 1024
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The largest line (or document item) and the largest whole document read, in bytes."""

    max_line_bytes: int = MAX_LINE_BYTES
    max_document_bytes: int = MAX_DOCUMENT_BYTES


_configured = Limits()


def current() -> Limits:
    """The limits input readers apply unless given others (the settings', once the services are built)."""
    return _configured


def configure(limits: Limits) -> None:
    """Make `limits` the ones `current` returns, for this process."""
    global _configured
    _configured = limits


@dataclass(frozen=True, slots=True)
class Oversized:
    """A line over the limit: its size without its newline, its first bytes, and whether its newline was read."""

    size: int
    head: bytes
    complete: bool


Line = bytes | Oversized
"""A line as `bounded_lines` gives it: its bytes (with its newline, if it has one), or `Oversized`."""


def bounded_lines(handle: BinaryIO, limit: int) -> Iterator[Line]:
    """The lines from `handle`'s position to its end; the last one may have no newline. A line over `limit`
    bytes comes as `Oversized`: at most about `limit + BLOCK` bytes of a line are held at once."""
    pending: list[bytes] = []  # the current line so far, while it is within the limit
    length = 0  # bytes of the current line so far
    head: bytes | None = None  # the current line's first KEPT bytes, once it is over the limit
    while block := handle.read(BLOCK):
        start = 0
        while end := block.find(b"\n", start) + 1:
            if not length and end - start - 1 <= limit:
                yield block[start:end]
            else:
                length += end - start - 1
                if head is None and length <= limit:
                    pending.append(block[start:end])
                    yield b"".join(pending)
                else:
                    yield Oversized(length, head if head is not None else b"".join([*pending, block[start:end]])[:KEPT],
                                    complete=True)
                pending, length, head = [], 0, None
            start = end
        if start < len(block):
            length += len(block) - start
            if head is None:
                pending.append(block[start:])
                if length > limit:
                    head, pending = b"".join(pending)[:KEPT], []
    if length:
        yield b"".join(pending) if head is None else Oversized(length, head, complete=False)


def is_complete(line: Line) -> bool:
    """Whether the line's newline has been read."""
    return line.complete if isinstance(line, Oversized) else line.endswith(b"\n")


def width(line: Line) -> int:
    """The bytes the line takes in the file, with its newline."""
    return line.size + line.complete if isinstance(line, Oversized) else len(line)


def too_long(source: str, line: int | None, index: int | None, what: str, size: int, head: bytes,
             limit: int, setting: str = "max_line_bytes") -> Quarantined:
    """`what` (a line, item or document) of `size` bytes over `limit`, quarantined with its first bytes only."""
    reason = f"{what} is {size:,} bytes, over the limit of {limit:,} ({setting})"
    return Quarantined(source, line, index, raw_text(head), reason)


def raw_text(data: bytes) -> str:
    """The first `KEPT` bytes of `data` as text (a character cut in two at the end is left out)."""
    return codecs.getincrementaldecoder("utf-8")("replace").decode(data[:KEPT]).strip()
