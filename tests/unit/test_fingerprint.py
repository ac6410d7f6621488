"""An item's fingerprint is the digest of its canonical JSON, however that JSON is written."""

from __future__ import annotations

import json
from hashlib import sha256
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.alerts import canonical_json, fingerprint


def plainly_written(raw: Any) -> bytes:
    """The canonical form as the standard library writes it: what every fingerprint ever recorded digests."""
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


scalars = st.one_of(st.text(), st.integers(), st.booleans(), st.none())
anything = st.recursive(
    st.one_of(scalars, st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=500)
@given(st.dictionaries(st.text(), scalars, max_size=8))
def test_a_flat_item_is_written_exactly_as_the_standard_library_writes_it(raw: dict[str, Any]) -> None:
    assert canonical_json(raw) == plainly_written(raw)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), anything, max_size=6))
def test_an_item_holding_floats_or_nested_values_is_written_as_the_standard_library_writes_it(
    raw: dict[str, Any],
) -> None:
    assert canonical_json(raw) == plainly_written(raw)


def test_items_orjson_would_refuse_are_still_written_as_before() -> None:
    for raw in ({"n": 2**70}, {"n": -(2**64)}, {"text": "half a pair \ud800"}, {"éa": "x", "z": 1, "\U0001f600": 2}):
        assert canonical_json(raw) == plainly_written(raw)


def test_a_fingerprint_recorded_before_stays_the_same() -> None:
    heartbeat = {"type": "AGENT_HEARTBEAT", "agent_id": "agent-7", "timestamp": "2025-07-16T10:00:00Z"}
    digest = sha256(b'{"agent_id":"agent-7","timestamp":"2025-07-16T10:00:00Z","type":"AGENT_HEARTBEAT"}')
    assert fingerprint(heartbeat) == digest.hexdigest()
    assert fingerprint(dict(reversed(list(heartbeat.items())))) == digest.hexdigest()


def test_control_characters_quotes_and_backslashes_are_escaped_as_before() -> None:
    raw = {"text": "a\"b\\c\n\t\x00\x1f\x7f\u2028é", "n": 0, "ok": True, "none": None}
    assert canonical_json(raw) == plainly_written(raw)
