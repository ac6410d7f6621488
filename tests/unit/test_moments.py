"""Time arithmetic at the ends of representable time: saturated, or never, instead of an OverflowError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.moments import EARLIEST, LATEST, later, shift, shift_back

NOON = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_shifting_an_instant_within_range_adds_the_duration() -> None:
    assert shift(NOON, timedelta(hours=1)) == datetime(2025, 3, 1, 13, tzinfo=UTC)
    assert shift(NOON, -timedelta(hours=1)) == datetime(2025, 3, 1, 11, tzinfo=UTC)


def test_shifting_past_the_end_of_year_9999_saturates_to_the_last_instant() -> None:
    assert shift(datetime(9999, 12, 31, 23, 50, tzinfo=UTC), timedelta(minutes=15)) == LATEST
    assert shift(LATEST, timedelta(microseconds=1)) == LATEST
    assert shift(NOON, timedelta(days=999_999_999)) == LATEST


def test_shifting_before_year_1_saturates_to_the_first_instant() -> None:
    assert shift(datetime(1, 1, 1, 0, 10, tzinfo=UTC), -timedelta(hours=1)) == EARLIEST
    assert shift(NOON, -timedelta(days=999_999_999)) == EARLIEST


def test_shifting_back_by_any_duration_saturates_at_either_end() -> None:
    assert shift_back(NOON, timedelta(hours=1)) == datetime(2025, 3, 1, 11, tzinfo=UTC)
    assert shift_back(NOON, timedelta.max) == EARLIEST
    assert shift_back(NOON, timedelta.min) == LATEST


def test_a_time_due_past_the_end_of_year_9999_never_comes() -> None:
    assert later(LATEST, timedelta(microseconds=1)) is None
    assert later(datetime(9999, 12, 31, 23, 50, tzinfo=UTC), timedelta(minutes=15)) is None
    assert later(NOON, timedelta(minutes=15)) == datetime(2025, 3, 1, 12, 15, tzinfo=UTC)


def test_the_ends_of_time_are_utc_and_span_every_representable_instant() -> None:
    assert (EARLIEST.year, LATEST.year) == (1, 9999)
    assert EARLIEST.tzinfo is UTC and LATEST.tzinfo is UTC
    assert datetime.max.replace(tzinfo=UTC) == LATEST
