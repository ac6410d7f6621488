"""Instants as people type them on the command line: ISO 8601, a date alone, or relative to now.

`2025-07-16T10:30:00Z` (naive means UTC); `2025-07-16` (midnight UTC); `now`, `today` and `yesterday` (midnight
UTC); a duration back from now: `2h`, `30 minutes`, `1d`, `2h ago`. Alert timestamps are stricter: they are read
by `adapters.timeparse` alone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from adapters.timeparse import parse_duration, parse_timestamp

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HINT = "ISO 8601 (2025-07-16T10:30:00Z), a date (2025-07-16), now, today, yesterday, or a time ago (2h, 30m, 1d)"


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
    try:
        return parse_timestamp(value)
    except ValueError:
        pass
    try:
        return now - parse_duration(word.removesuffix("ago").strip())
    except (ValueError, OverflowError):
        raise ValueError(f"invalid time {text!r}: expected {HINT}") from None
