from datetime import UTC, datetime, timedelta

import pytest

from adapters.timeparse import parse_duration, parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-16T21:44:26Z", datetime(2025, 7, 16, 21, 44, 26, tzinfo=UTC)),
        ("2025-07-16T21:44:26.363748Z", datetime(2025, 7, 16, 21, 44, 26, 363748, tzinfo=UTC)),
        ("2025-07-16T21:44:26.3Z", datetime(2025, 7, 16, 21, 44, 26, 300000, tzinfo=UTC)),
        ("2025-07-16 21:44:26Z", datetime(2025, 7, 16, 21, 44, 26, tzinfo=UTC)),
        ("2025-07-16T21:44Z", datetime(2025, 7, 16, 21, 44, tzinfo=UTC)),
        ("2025-07-16t21:44:26z", datetime(2025, 7, 16, 21, 44, 26, tzinfo=UTC)),
        ("2025-07-16T21:44:26+00:00", datetime(2025, 7, 16, 21, 44, 26, tzinfo=UTC)),
    ],
)
def test_an_iso_8601_timestamp_is_read_in_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_a_naive_timestamp_is_read_as_utc() -> None:
    parsed = parse_timestamp("2025-07-16T19:03:54.363748")
    assert parsed == datetime(2025, 7, 16, 19, 3, 54, 363748, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["2025-07-17T03:14:26+05:30", "2025-07-17T03:14:26+0530", "2025-07-16 16:44:26-05"]
)
def test_a_timestamp_with_an_offset_is_converted_to_utc(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is UTC
    assert (parsed.date(), parsed.hour, parsed.minute) == (datetime(2025, 7, 16).date(), 21, 44)


def test_the_corrupt_timestamp_from_the_upstream_stream_is_rejected_with_the_value_named() -> None:
    with pytest.raises(ValueError, match=r"invalid timestamp '2025-07-16T21:44:26\.3NZ' \(expected ISO 8601\)"):
        parse_timestamp("2025-07-16T21:44:26.3NZ")


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2025-07-16", "1752702616", "2025/07/16 21:44:26", "2025-07-16T21:44:26ZZ",
     "16-07-2025T21:44:26", "2025-07-16T21:44:26 UTC"],
)
def test_a_value_that_is_not_an_iso_8601_date_time_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="invalid timestamp"):
        parse_timestamp(text)


def test_an_impossible_date_is_rejected_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"invalid timestamp '2025-13-01T00:00:00' \(month must be in 1\.\.12\)"):
        parse_timestamp("2025-13-01T00:00:00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30 minutes", timedelta(minutes=30)),
        ("1 minute", timedelta(minutes=1)),
        ("1.5 hours", timedelta(hours=1, minutes=30)),
        ("90 min", timedelta(minutes=90)),
        ("2h 15m", timedelta(hours=2, minutes=15)),
        ("2h15m", timedelta(hours=2, minutes=15)),
        ("45s", timedelta(seconds=45)),
        ("1 hour 30 minutes", timedelta(hours=1, minutes=30)),
        ("1 hour, 30 minutes and 10 seconds", timedelta(hours=1, minutes=30, seconds=10)),
        ("2 days", timedelta(days=2)),
        ("1 week", timedelta(weeks=1)),
        ("10 Minutes", timedelta(minutes=10)),
        ("250ms", timedelta(milliseconds=250)),
        ("PT30M", timedelta(minutes=30)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2D", timedelta(days=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("90", timedelta(seconds=90)),
        (" 90 ", timedelta(seconds=90)),
        ("0 minutes", timedelta(0)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        (0, timedelta(0)),
    ],
)
def test_every_duration_form_the_upstream_writes_is_understood(value: str | int | float, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["-5 minutes", "-90", -90, -0.5, "-PT30M"])
def test_a_negative_duration_is_rejected(value: str | int | float) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", ["soon", "", "   ", "minutes", "30 lightyears", "P", "PT", "P1M", "30 minutes and", "1h30", "1e3"]
)
def test_an_unreadable_duration_is_rejected_with_a_hint(value: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .* \(expected e\.g\. '30 minutes'"):
        parse_duration(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "1" + "0" * 30 + " days"])
def test_a_duration_that_is_not_a_finite_non_boolean_amount_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_the_error_for_an_unreadable_duration_names_the_value() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("soon")
    assert str(caught.value).startswith("invalid duration 'soon'")
