"""Instants and durations as the command line reads and shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cli.present import seconds_text
from cli.when import parse_when
from domain.rules import describe_duration

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-07-16T10:30:00Z", datetime(2025, 7, 16, 10, 30, tzinfo=UTC)),
    ("2025-07-16T12:30:00+02:00", datetime(2025, 7, 16, 10, 30, tzinfo=UTC)),
    ("2025-07-16", datetime(2025, 7, 16, tzinfo=UTC)),
    ("now", NOW),
    ("Today", datetime(2026, 12, 1, tzinfo=UTC)),
    ("yesterday", datetime(2026, 11, 30, tzinfo=UTC)),
    ("2h", NOW - timedelta(hours=2)),
    ("30 minutes", NOW - timedelta(minutes=30)),
    ("1d ago", NOW - timedelta(days=1)),
])
def test_an_instant_may_be_iso_a_date_a_word_or_a_time_ago(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "2025-13-01", "-2h", ""])
def test_what_is_not_an_instant_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|invalid date"):
        parse_when(text, NOW)


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.014, "14ms"), (0.3, "0.3s"), (8.838, "9s"), (750, "12m 30s"), (8_100, "2h 15m"), (43_416_000, "502d 12h"),
])
def test_status_shows_durations_in_human_forms(seconds: float, shown: str) -> None:
    assert seconds_text(seconds) == shown


def test_long_durations_in_messages_are_told_in_days() -> None:
    assert describe_duration(timedelta(hours=12_068, minutes=57)) == "502d 20h"
    assert describe_duration(timedelta(hours=23, minutes=5)) == "23h 05m"
