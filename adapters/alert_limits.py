"""What an alert may hold: the ranges and sizes the coordinator can represent, checked at the edge.

Timestamps lie from 1970 to the end of 9999 once in UTC, durations are at most 100 years, so that
`timestamp - duration` is always a representable instant. Ids are at most 512 characters, and any
string of the item (value or key, at any depth) at most 64 KiB of UTF-8, with no lone surrogate; objects and lists
are nested at most 64 deep (every reader of the audit trail can then show them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LONGEST_DURATION = timedelta(days=36_525)
"""100 years."""
ID_LIMIT = 512
"""Characters in an id."""
TEXT_LIMIT = 65_536
"""Bytes of UTF-8 in any string of an item."""
NESTING_LIMIT = 64
"""How deep objects and lists may be nested in an item (the item itself is depth 1)."""


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def check_timestamp(moment: datetime, value: object) -> datetime:
    """`moment` (parsed from `value`) if within the accepted range, else ValueError."""
    if moment < EARLIEST_TIMESTAMP:
        raise ValueError(f"timestamp {_show(value)} is before 1970-01-01T00:00:00Z")
    return moment


def check_duration(duration: timedelta, value: object) -> timedelta:
    """`duration` (parsed from `value`) if at most `LONGEST_DURATION`, else ValueError."""
    if duration > LONGEST_DURATION:
        raise ValueError(f"duration {_show(value)} is longer than 100 years")
    return duration


def check_id(value: str) -> str:
    """`value` if it is at most `ID_LIMIT` characters long, else ValueError."""
    if len(value) > ID_LIMIT:
        raise ValueError(f"{len(value):,} characters long, over the {ID_LIMIT}-character limit for ids")
    return value


def plainly_representable(written: str) -> bool:
    """Whether every string decoded from the JSON text `written` is sure to pass `unrepresentable`, without looking
    at one: text that is all ASCII holds a lone surrogate only where a `\\u` escape spells one, and no string
    decoded from it is longer than it is; and no value is nested deeper than the brackets it holds. (A fast path for
    the alerts file, where most lines are such text.)"""
    return (len(written) <= TEXT_LIMIT and written.isascii() and "\\u" not in written
            and written.count("{") + written.count("[") <= NESTING_LIMIT)


def unrepresentable(item: Mapping[str, Any]) -> str | None:
    """Why some string of `item` (value or key, at any depth) cannot be stored, or where it is nested too deeply,
    naming where; None if all can."""
    stack: list[tuple[str, object, int]] = [("", item, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem is not None:
                return f"field '{path}': {problem}"
        elif isinstance(value, Mapping | list) and depth > NESTING_LIMIT:
            return f"field '{_show(path)[1:-1]}': nested more than {NESTING_LIMIT} levels deep"
        elif isinstance(value, Mapping):
            for key in value:
                problem = _string_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    return f"a field name in '{path or '(top level)'}': {problem}"
            stack.extend((_join(path, key), member, depth + 1) for key, member in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}[{position}]", member, depth + 1)
                         for position, member in reversed(list(enumerate(value))))
    return None


def _join(path: str, key: object) -> str:
    name = str(key)
    if not name.isprintable() or len(name) > 60:
        name = _show(name)
    return f"{path}.{name}" if path else name


def _string_problem(text: str) -> str | None:
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            return (f"lone surrogate {text[exc.start]!r} at character {exc.start + 1} "
                    "(not representable as UTF-8)")
    if size > TEXT_LIMIT:
        return f"{size:,} bytes long, over the {TEXT_LIMIT:,}-byte limit for texts"
    return None
