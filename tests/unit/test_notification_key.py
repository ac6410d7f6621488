"""A notification key is formatted and parsed in one place, and the stored-JSON fast read agrees with parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.records import REQUEST_NUMBER_IN_JSON
from domain.notifications import NotificationKey

keys = st.builds(NotificationKey, st.sampled_from(["task", "agent"]), st.text(min_size=1),
                 st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=50))


def test_a_key_reads_as_its_subject_request_number_and_index() -> None:
    key = NotificationKey("task", "t1", 3, 1)
    assert str(key) == "task:t1#3.1"
    assert NotificationKey.parse("task:t1#3.1") == key


@given(keys)
def test_every_key_parses_back_to_itself_whatever_its_subject_holds(key: NotificationKey) -> None:
    assert NotificationKey.parse(str(key)) == key


@given(keys)
def test_the_request_number_found_in_stored_json_is_the_one_parsing_gives(key: NotificationKey) -> None:
    stored = json.dumps({"at": "2025-07-16T10:00:00Z", "key": str(key), "note": '"key":"x#9.9"'},
                        ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    found = REQUEST_NUMBER_IN_JSON.search(stored)
    assert found is not None and int(found.group(1)) == key.request


@pytest.mark.parametrize("text", ["", "task", "task:t1", "task:t1#3", "task:t1#x.1", ":t1#3.1", "task:t1#3.1a"])
def test_text_that_is_not_a_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a notification key"):
        NotificationKey.parse(text)
