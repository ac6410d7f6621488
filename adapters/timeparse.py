"""Timestamps and durations as the accountability system writes them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_N = r"(\d+(?:\.\d*)?|\.\d+)"
_ISO_DURATION = re.compile(
    rf"P(?:{_N}W)?(?:{_N}D)?(?:T(?=[\d.])(?:{_N}H)?(?:{_N}M)?(?:{_N}S)?)?", re.IGNORECASE
)
_ISO_SECONDS = (604_800.0, 86_400.0, 3_600.0, 60.0, 1.0)
_PART = re.compile(
    rf"{_N}\s*(weeks?|wks?|w|days?|d|hours?|hrs?|h|milliseconds?|msecs?|ms|minutes?|mins?|m|seconds?|secs?|s)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s*(?:,\s*|and\s+)?", re.IGNORECASE)
_UNIT_SECONDS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 604_800.0),
    **dict.fromkeys(("d", "day", "days"), 86_400.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), 0.001),
}
_DURATION_HINT = "expected e.g. '30 minutes', '2h 15m', 'PT30M' or a number of seconds"


def _show(value: object, limit: int = 60) -> str:
    """A short repr of `value` for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 date-time (`T` or space, `Z` or offset, fractions) to an aware UTC datetime.

    A timestamp without an offset is read as UTC. Raises ValueError for anything else.
    """
    if not isinstance(value, str):
        raise ValueError(f"invalid timestamp {_show(value)} (expected an ISO 8601 string)")
    text = value.strip()
    if _TIMESTAMP.fullmatch(text) is None:
        raise ValueError(f"invalid timestamp {_show(value)} (expected ISO 8601)")
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError as exc:
        detail = "expected ISO 8601" if str(exc).startswith("Invalid isoformat") else str(exc)
        raise ValueError(f"invalid timestamp {_show(value)} ({detail})") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"invalid timestamp {_show(value)} (outside years 1-9999 once in UTC)") from None


def parse_duration(value: str | int | float) -> timedelta:
    """Parse a duration: '30 minutes', '1.5 hours', '2h 15m', 'PT1H30M', '90' or 90 (seconds).

    Raises ValueError for negative or unreadable durations.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"invalid duration {_show(value)} ({_DURATION_HINT})")
    if isinstance(value, str):
        return _parse_duration_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"invalid duration {_show(value)} (not a finite number)")
    if value < 0:
        raise ValueError(f"invalid duration {_show(value)} (must not be negative)")
    return _seconds(value, value)


@lru_cache(maxsize=4096)
def _parse_duration_text(value: str) -> timedelta:
    text = value.strip()
    negative = text.startswith("-")
    seconds = _text_seconds(text[1:].lstrip() if negative else text.removeprefix("+"))
    if seconds is None:
        raise ValueError(f"invalid duration {_show(value)} ({_DURATION_HINT})")
    if negative and seconds:
        raise ValueError(f"invalid duration {_show(value)} (must not be negative)")
    return _seconds(seconds, value)


def _text_seconds(text: str) -> float | None:
    """Seconds in an unsigned duration text, or None when it is not one."""
    if _NUMBER.fullmatch(text):
        return float(text)
    if text[:1] in ("P", "p"):
        iso = _ISO_DURATION.fullmatch(text)
        if iso is None or iso.lastindex is None:
            return None
        return sum(float(part) * unit for part, unit in zip(iso.groups(), _ISO_SECONDS, strict=True) if part)
    total, pos, end = 0.0, 0, len(text)
    while True:
        part = _PART.match(text, pos)
        if part is None:
            return None
        total += float(part[1]) * _UNIT_SECONDS[part[2].lower()]
        pos = part.end()
        if pos == end:
            return total
        separator = _SEPARATOR.match(text, pos)
        pos = separator.end() if separator else pos


def _seconds(seconds: float, original: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {_show(original)} (out of range)") from None
