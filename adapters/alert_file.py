"""Read an alerts file in whatever form the accountability system wrote it.

Forms, detected from the content: JSON Lines; a JSON array; a single alert object; an object with
an `"alerts"` and/or `"events"` list; crisis-log entries, whose `original_event` is the alert.
Every non-blank item yields one `Alert`, `Observation` or `Quarantined` (`adapters.alert_items`), in file
order. Lines are read in bounded blocks; a line, item or document over its limit (`adapters.input_limits`) is
quarantined saying so.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from bisect import bisect_right
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

from adapters.alert_items import item_for
from adapters.alert_json import DECODER as _DECODER
from adapters.alert_json import loads, value_of
from adapters.input_limits import KEPT, Limits, Line, Oversized, bounded_lines, current, raw_text, too_long
from domain.alerts import Item, Quarantined

__all__ = ["LOOKED_AT", "Item", "first_line_is_an_item", "is_json_lines", "item_of", "parse_json_lines", "read_alerts"]

_SPACE = re.compile(r"[ \t\r\n]*")
_SEPARATORS = re.compile(r"[ \t\r\n,]*")
_ENVELOPE_KEYS = ("alerts", "events")
_WINDOW = 8192
_LOOKAHEAD = 16  # longer than any JSON literal, so an error this far from a window's end is real
_UNCLOSED = "the JSON array starting on this line is never closed"
LOOKED_AT = 8
"""How many of a file's first non-blank lines tell its form."""


def read_alerts(path: Path, limits: Limits | None = None) -> Iterator[Item]:
    """Alerts, observations and quarantined items of the file at `path`, in file order (within `limits`, by
    default the configured ones).

    Raises FileNotFoundError at once if the file does not exist.
    """
    path.stat()
    return _read(path, str(path), limits or current())


def _read(path: Path, source: str, limits: Limits) -> Iterator[Item]:
    limit = limits.max_line_bytes
    with path.open("rb") as handle:
        numbered = enumerate(bounded_lines(handle, limit), 1)
        head: list[tuple[int, Line]] = []
        content: list[Line] = []
        for number, data in numbered:
            if number == 1:
                data = _without_bom(data)
            head.append((number, data))
            if isinstance(data, Oversized) or data.strip():
                content.append(data if isinstance(data, Oversized) else data.strip())
                if len(content) == LOOKED_AT:
                    break
        if not content:
            return
        if is_json_lines(content):
            yield from _json_lines(chain(head, numbered), source, limit)
            return
        document = _whole(handle, limits.max_document_bytes)
        if document is None:
            first = next(number for number, data in head if isinstance(data, Oversized) or data.strip())
            size = max(os.fstat(handle.fileno()).st_size, limits.max_document_bytes + 1)
            handle.seek(0)
            yield too_long(source, first, None, "document", size, handle.read(KEPT).removeprefix(codecs.BOM_UTF8),
                           limits.max_document_bytes, "max_document_bytes")
            return
    yield from _document(document, source, limit)


def _without_bom(data: Line) -> Line:
    if isinstance(data, Oversized):
        return Oversized(data.size, data.head.removeprefix(codecs.BOM_UTF8), data.complete)
    return data.removeprefix(codecs.BOM_UTF8)


def _whole(handle: BinaryIO, limit: int) -> bytes | None:
    """The whole file without a byte order mark, or None when it is over `limit` bytes."""
    if os.fstat(handle.fileno()).st_size > limit:
        return None
    handle.seek(0)
    data = handle.read(limit + 1)
    return None if len(data) > limit else data.removeprefix(codecs.BOM_UTF8)


def parse_json_lines(numbered: Iterable[tuple[int, Line]], source: str, limit: int) -> Iterator[Item]:
    """Alerts and quarantined items of numbered JSON Lines (`(line number, line)` pairs), each line
    held to `limit` bytes."""
    return _json_lines(numbered, source, limit)


def first_line_is_an_item(data: bytes) -> bool:
    """Whether a file's first non-blank line is a whole JSON value on its own (the file is JSON Lines)."""
    for line in data.splitlines():
        if line.strip():
            return value_of(line.strip().removeprefix(codecs.BOM_UTF8)) is not None
    return False


def is_json_lines(content: list[Line]) -> bool:
    """Whether a file whose first non-blank lines (up to `LOOKED_AT` of them, stripped) are `content` is JSON Lines:
    of two or more such lines, the first (or, if broken, the second) is JSON, or two after the first are JSON
    objects each on its own (as no line of a document is, but an item with no comma after it), or the first is over
    the line limit and opens no array."""
    if len(content) < 2:
        return False
    first, second = content[:2]
    if isinstance(first, Oversized):
        return not first.head.lstrip().startswith(b"[")
    if value_of(first) is not None:
        return True
    if first.startswith(b"["):
        return False
    if isinstance(second, bytes) and value_of(second) is not None:
        return True
    return sum(isinstance(line, bytes) and isinstance(value_of(line), dict) for line in content[1:]) >= 2


def _json_lines(numbered: Iterable[tuple[int, Line]], source: str, limit: int) -> Iterator[Item]:
    for number, data in numbered:
        if isinstance(data, bytes) and len(data) > limit and len(data.removesuffix(b"\n")) > limit:
            data = Oversized(len(data.removesuffix(b"\n")), data[:KEPT], complete=True)
        if isinstance(data, Oversized):
            yield too_long(source, number, None, "line", data.size, data.head, limit)
            continue
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = data.decode("utf-8", "replace").strip()
            yield Quarantined(source, number, None, raw, f"not valid UTF-8: byte 0x{data[exc.start]:02x} "
                              f"at column {exc.start + 1}")
            continue
        text = line.strip()
        if not text:
            continue
        try:
            value = loads(text)
        except json.JSONDecodeError as exc:
            column = exc.colno + len(line) - len(line.lstrip())
            yield Quarantined(source, number, None, text, f"not valid JSON: {_said(exc)} at column {column}")
            continue
        except (ValueError, RecursionError) as exc:
            yield Quarantined(source, number, None, text, _json_error(exc))
            continue
        yield item_of(value, text, source, number, None, decoded=True)


def _document(data: bytes, source: str, limit: int) -> Iterator[Item]:
    """A whole-document form; falls back to JSON Lines when the document is broken but its lines are not. Bytes that
    are not UTF-8 quarantine just the items holding them (a UTF-16 file is refused whole, saying so)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            yield from _fallback(data, source, _utf8_error(data, exc), limit)
            return
        # Each byte that is no UTF-8 becomes a lone surrogate, which no item may hold: those holding one are refused.
        escaped = data.decode("utf-8", "surrogateescape")
        yield from map(_without_escapes, _document_text(escaped, escaped.encode("utf-8", "surrogateescape"),
                                                        source, limit))
        return
    yield from _document_text(text, data, source, limit)


_ESCAPED = re.compile("[\udc80-\udcff]")


def _without_escapes(item: Item) -> Item:
    """An item read from text with invalid bytes escaped: one holding such a byte is quarantined saying which, its
    text kept with the byte replaced."""
    if not isinstance(item, Quarantined) or (found := _ESCAPED.search(item.raw)) is None:
        return item
    raw = item.raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return replace(item, raw=raw, reason=f"not UTF-8 text: invalid byte 0x{ord(found.group()) - 0xDC00:02x} "
                                         "in this item")


def _document_text(text: str, data: bytes, source: str, limit: int) -> Iterator[Item]:
    """The items of a whole document decoded as `text` (from `data`)."""
    lines = _Lines(text)
    start = _skip(_SPACE, text, 0)
    if text.startswith("[", start):
        end = yield from _walk_array(text, start, lines, source, limit)
    else:
        envelopes: list[int] = []
        try:
            if text.startswith("{", start):
                value, envelopes, end = _members(text, start, lines)
            else:
                value, end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError) as exc:
            yield from _fallback(data, source, _json_error(exc), limit)
            return
        if not envelopes or "type" in value or isinstance(value.get("original_event"), dict):
            yield item_of(value, text[start:end], source, lines.at(start), None, limit, decoded=True)
        else:
            for position in envelopes:
                yield from _walk_array(text, position, lines, source, limit)
    if text[end:].strip():
        rest = text[end:].encode("utf-8", "surrogateescape").split(b"\n")
        yield from _json_lines(enumerate(rest, lines.at(end)), source, limit)


def _members(text: str, start: int, lines: _Lines) -> tuple[dict[str, Any], list[int], int]:
    """The object at `start`, the offsets of its envelope lists, and the offset after the object. An envelope list
    with a broken item is kept as an empty list here (its items are walked, the broken one quarantined, later)."""
    members: dict[str, Any] = {}
    envelopes: list[int] = []
    pos = _skip(_SPACE, text, start + 1)
    if text.startswith("}", pos):
        return members, envelopes, pos + 1
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(_SPACE, text, pos)
        if not isinstance(key, str) or not text.startswith(":", pos):
            raise json.JSONDecodeError("Expecting property name and ':'", text, pos)
        pos = _skip(_SPACE, text, pos + 1)
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            end = _array_end(text, pos, lines) if key in _ENVELOPE_KEYS and text.startswith("[", pos) else len(text)
            if end >= len(text):  # not an envelope list, or one never closed: the document is broken
                raise
            value = []
        if key in _ENVELOPE_KEYS and isinstance(value, list):
            envelopes.append(pos)
        members[key] = value
        pos = _skip(_SPACE, text, end)
        if text.startswith("}", pos):
            return members, envelopes, pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _skip(_SPACE, text, pos + 1)


def _array_end(text: str, start: int, lines: _Lines) -> int:
    """The offset after the array opening at `start`, found by walking its items as `_walk_array` does."""
    walk = _walk_array(text, start, lines, "", len(text) + 1)
    while True:
        try:
            next(walk)
        except StopIteration as done:
            end: int = done.value
            return end


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.match(text, pos)
    return match.end() if match else pos


def _walk_array(text: str, start: int, lines: _Lines, source: str, limit: int) -> Generator[Item, None, int]:
    """Items of the array opening at `start`. A broken item is quarantined and reading resumes at the next
    line indented no deeper than it. Returns the offset after the array."""
    pos, index, size = start + 1, 0, len(text)
    while True:
        pos = _skip(_SEPARATORS, text, pos)
        if pos >= size:
            yield Quarantined(source, lines.at(start), None, "", _UNCLOSED)
            return size
        if text.startswith("]", pos):
            return pos + 1
        try:
            value, end = _decode_at(text, pos)
        except _BrokenItem as exc:
            end = _resume(text, pos, exc.pos)
            raw = text[pos:end].rstrip().removesuffix(",").rstrip()
            where = f" at line {lines.at(exc.pos)} column {lines.column(exc.pos)}" if exc.located else ""
            yield Quarantined(source, lines.at(pos), index, raw, f"not valid JSON: {exc.problem}{where}")
            if end >= size:
                return size
        else:
            yield item_of(value, text[pos:end], source, lines.at(pos), index, limit, decoded=True)
        index += 1
        pos = end


class _BrokenItem(Exception):
    def __init__(self, problem: str, pos: int, located: bool = True) -> None:
        super().__init__(problem)
        self.problem, self.pos, self.located = problem, pos, located


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    """`raw_decode` at `pos`, in growing windows: a JSON error on the whole text would cost O(pos)."""
    size = _WINDOW
    while True:
        window = text[pos : pos + size]
        whole = pos + size >= len(text)
        try:
            value, end = _DECODER.raw_decode(window)
        except json.JSONDecodeError as exc:
            cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(window) - _LOOKAHEAD
            if whole or not cut:
                raise _BrokenItem(_said(exc), pos + exc.pos) from None
        except RecursionError:
            raise _BrokenItem("nested too deeply", pos, located=False) from None
        except ValueError as exc:
            raise _BrokenItem(str(exc), pos, located=False) from None
        else:
            if whole or end < len(window):
                return value, pos + end
        size *= 4


def _resume(text: str, item_pos: int, error_pos: int) -> int:
    """Offset of the first line after `error_pos` indented no deeper than the item at `item_pos`
    (the likely next item, or the end of the array)."""
    indent = item_pos - (text.rfind("\n", 0, item_pos) + 1)
    newline = text.find("\n", error_pos)
    while newline != -1:
        line_start = newline + 1
        newline = text.find("\n", line_start)
        line = text[line_start : newline if newline != -1 else len(text)]
        content = line.lstrip(" \t")
        depth = len(line) - len(content)
        # A closing brace as deep as the item closes the item itself: resume after it.
        if content.strip() and (depth < indent or (depth == indent and not content.startswith("}"))):
            return line_start + depth
    return _next_item_on_the_line(text, error_pos)


_ITEM_START = re.compile(r",[ \t]*\{")
_ITEM_KEYS = ("type", "timestamp", "event_type", "event_id")
_TRIES = 64


def _next_item_on_the_line(text: str, error_pos: int) -> int:
    """Offset of the likely next item after a broken one in an array written on one line: the first object after a
    comma, past `error_pos`, that decodes whole, is followed by `,` or `]`, and has a field every item has (a
    `type`, a `timestamp`, ...); the end of the text when there is none (within a few tries)."""
    for tried, found in enumerate(_ITEM_START.finditer(text, error_pos)):
        if tried >= _TRIES:
            break
        start = found.end() - 1
        try:
            value, end = _decode_at(text, start)
        except _BrokenItem:
            continue
        after = _skip(_SPACE, text, end)
        if isinstance(value, dict) and any(key in value for key in _ITEM_KEYS) and text.startswith((",", "]"), after):
            return start
    return len(text)


def item_of(
    value: Any, raw: str, source: str, line: int | None, index: int | None, limit: int | None = None,
    decoded: bool = False,
) -> Item:
    """The alert or observation a decoded item is (a crisis-log entry counts as its `original_event`), or why it is
    quarantined (among others: over `limit` bytes). `decoded`: `raw` is the very text `value` was decoded from."""
    if limit is not None and len(raw) > limit // 4 and (size := len(raw.encode())) > limit:
        what = "item" if index is not None or "\n" in raw else "line"
        return too_long(source, line, index, what, size, raw[:KEPT].encode(), limit)
    if isinstance(value, dict) and "type" not in value and isinstance(value.get("original_event"), dict):
        value = value["original_event"]
    return item_for(value, raw, source, line, index, decoded=decoded)


def _fallback(data: bytes, source: str, reason: str, limit: int) -> Iterator[Item]:
    """A broken document: as JSON Lines if any of its lines is a JSON object or it is one line over the limit,
    else one quarantined entry (its text kept whole within the line limit, else its first bytes)."""
    rows = data.split(b"\n")
    content = list(islice((row for row in rows if row.strip()), 2))
    if (len(content) == 1 and len(content[0]) > limit) or any(
            row.lstrip().startswith(b"{") and len(row) <= limit and isinstance(value_of(row), dict) for row in rows):
        yield from _json_lines(enumerate(rows, 1), source, limit)
    else:
        line = data[: len(data) - len(data.lstrip())].count(b"\n") + 1
        raw = data.decode("utf-8", "replace").strip() if len(data) <= limit else raw_text(data)
        yield Quarantined(source, line, None, raw, reason)


def _said(exc: json.JSONDecodeError) -> str:
    """What the decoder found wrong, without the `at` some of its messages end with (the place is said after)."""
    return exc.msg.removesuffix(" at")


def _json_error(exc: ValueError | RecursionError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {_said(exc)} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "not valid JSON: nested too deeply"
    return f"not valid JSON: {exc}"


def _utf8_error(data: bytes, exc: UnicodeDecodeError) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "not UTF-8 text: the file is UTF-16 encoded"
    line = data.count(b"\n", 0, exc.start) + 1
    return f"not UTF-8 text: invalid byte 0x{data[exc.start]:02x} on line {line}"


class _Lines:
    """1-based line numbers of offsets in a text."""

    def __init__(self, text: str) -> None:
        self._starts = [match.end() for match in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect_right(self._starts, offset) + 1

    def column(self, offset: int) -> int:
        line = bisect_right(self._starts, offset)
        return offset - (self._starts[line - 1] if line else 0) + 1
