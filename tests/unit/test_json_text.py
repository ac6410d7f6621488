"""The command line's JSON is the standard library's indented JSON, whichever encoder writes it (a float may be
spelled another way, `6.1e-05` or `0.000061`, for the same value)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cli.render import json_text

EXACT = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text()
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def documents(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                            max_size=4), max_leaves=20)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(documents(EXACT))
def test_json_text_is_exactly_what_the_standard_library_writes(document: Any) -> None:
    assert json_text(document) == json.dumps(document, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(documents(EXACT | FLOATS))
def test_json_text_with_floats_reads_back_as_the_same_document(document: Any) -> None:
    assert json.loads(json_text(document)) == document


def test_what_the_fast_encoder_refuses_is_written_by_the_standard_library() -> None:
    for document in ({"big": 2**70}, {"lone": "\ud800"}, {1: "numeric key"}):
        assert json_text(document) == json.dumps(document, indent=2, ensure_ascii=False)
