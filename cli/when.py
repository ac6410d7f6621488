"""Instants as people type them on the command line: ISO 8601, a date alone, or relative to now.

`2025-07-16T10:30:00Z` (naive means UTC); `2025-07-16` (midnight UTC); `now`, `today` and `yesterday` (midnight
UTC); a duration back from now: `2h`, `30 minutes`, `1d`, `2h ago`; a Unix time: `@1752704400`. A number alone is
refused: `1752704400` is surely a Unix time, `90` perhaps seconds ago, and a guess either way would be silently
wrong, so the message asks for a unit (`90s`) or the `@`. Alert timestamps are stricter: they are read by
`adapters.timeparse` alone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from adapters.timeparse import parse_duration, parse_timestamp

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)")
HINT = ("ISO 8601 (2025-07-16T10:30:00Z), a date (2025-07-16), now, today, yesterday, a time ago (2h, 30m, 1d) "
        "or a Unix time (@1752704400)")


def parse_when(text: str, now: datetime) -> datetime:
    """The instant `text` names, `now` being the current time; ValueError saying what is accepted."""
    value = text.strip()
    word = value.lower()
    midnight = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    if word == "now":
        return now
    if word == "today":
        return midnight
    if word == "yesterday":
        return midnight - timedelta(days=1)
    if _DATE.fullmatch(value):
        try:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError as error:
            raise ValueError(f"invalid date {text!r}: {error}") from None
    if value.startswith("@"):
        return _unix_time(text, value[1:].strip())
    try:
        return parse_timestamp(value)
    except ValueError:
        pass
    ago = word.removesuffix("ago").strip()
    if _NUMBER.fullmatch(ago):
        raise ValueError(f"invalid time {text!r}: a number needs a unit: {ago}s (or 2h, 30m, 1d) for that long ago, "
                         f"@{ago} for a Unix time, or an ISO 8601 time (2025-07-16T10:30:00Z)")
    try:
        return now - parse_duration(ago)
    except (ValueError, OverflowError):
        raise ValueError(f"invalid time {text!r}: expected {HINT}") from None


def _unix_time(text: str, seconds: str) -> datetime:
    """The instant `seconds` after 1970-01-01T00:00:00Z (`@1752704400`)."""
    if not _NUMBER.fullmatch(seconds):
        raise ValueError(f"invalid time {text!r}: a Unix time is @ and a number of seconds (@1752704400)")
    try:
        return datetime.fromtimestamp(float(seconds), UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"invalid time {text!r}: a Unix time out of range") from None
