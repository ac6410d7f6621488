"""Time arithmetic that never overflows: the domain's one place for adding durations to instants (and for writing
them as text).

Python datetimes end at year 1 and year 9999; an instant moved past either end is saturated to it
(`shift`, `shift_back`), or, for a time something is due, means "never" (`later`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime.min.replace(tzinfo=UTC)
"""The first representable instant (0001-01-01T00:00:00Z)."""
LATEST = datetime.max.replace(tzinfo=UTC)
"""The last representable instant (9999-12-31T23:59:59.999999Z)."""


def shift(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, saturated to `EARLIEST` or `LATEST` instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


def shift_back(moment: datetime, delta: timedelta) -> datetime:
    """`moment - delta`, saturated to `EARLIEST` or `LATEST` instead of overflowing."""
    try:
        return moment - delta
    except OverflowError:
        return EARLIEST if delta > timedelta(0) else LATEST


def later(moment: datetime, delta: timedelta) -> datetime | None:
    """`moment + delta`, or None when that is past the end of time (it never comes)."""
    try:
        return moment + delta
    except OverflowError:
        return None if delta > timedelta(0) else EARLIEST


def iso_text(moment: datetime) -> str:
    """`moment` in ISO 8601, UTC written as `Z` (`2025-07-16T10:00:00Z`): the shortest form `fromisoformat` reads."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
