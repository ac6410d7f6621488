"""Stored JSON decodes to exactly what the standard library's `json` gives, whichever decoder reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stored_json import decode

LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
          | st.floats() | st.text())
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                          max_size=4), max_leaves=20)


def same(text: bytes) -> None:
    assert repr(decode(text)) == repr(json.loads(text.decode("utf8")))


@given(VALUES, st.booleans())
def test_any_json_the_event_codec_writes_decodes_to_the_values_json_gives(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"))
    try:
        encoded = text.encode("utf8")
    except UnicodeEncodeError:  # a lone surrogate: the codec's JSON would have to escape it
        encoded = json.dumps(value, separators=(",", ":")).encode()
    same(encoded)


@pytest.mark.parametrize("text", [
    b'{"id":12345678901234567890123}', b'{"id":-9999999999999999999}', b'[18446744073709551616]',
    b'{"reading":NaN,"peak":Infinity,"low":-Infinity}', b'{"name":"\\ud800"}', b'[1e400]', b'{"a":1,"a":2}',
    b'{"at":"2025-07-16T00:00:03Z","n":123456789012345678}', b'[0.1,-0.0,5e-324,1.7976931348623157e308]',
])
def test_texts_only_the_standard_library_reads_as_it_does_keep_their_values(text: bytes) -> None:
    same(text)


def test_an_integer_beyond_64_bits_stays_an_integer() -> None:
    assert decode(b'{"id":12345678901234567890123}') == {"id": 12345678901234567890123}


@pytest.mark.parametrize("text", [b"{", b'{"a":}', b"\xff", b""])
def test_text_that_is_not_json_is_refused_as_json_refuses_it(text: bytes) -> None:
    with pytest.raises(ValueError) as plain:
        json.loads(text.decode("utf8"))
    with pytest.raises(type(plain.value)):
        decode(text)
