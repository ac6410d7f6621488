"""An outbox row shows when its notification was requested and queued as rows always wrote instants, whichever form
the requesting event wrote them in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from adapters.outbox_table import row_instant, utc
from domain.moments import iso_text

MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
WHOLE_SECONDS = MOMENTS.map(lambda moment: moment.replace(microsecond=0))


@given(st.one_of(MOMENTS, WHOLE_SECONDS))
def test_an_event_s_instant_reads_into_a_row_as_utc_writes_it_in_every_form_an_event_may_hold(moment: datetime) -> None:
    expected = utc(moment)
    assert row_instant(iso_text(moment)) == expected
    assert row_instant(moment.isoformat()) == expected
    assert row_instant(moment.astimezone(timezone(timedelta(hours=-5))).isoformat()) == expected
    assert row_instant({"_type_": "datetime_iso", "_data_": moment.isoformat()}) == expected
