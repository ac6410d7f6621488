"""The alerts readers accept standard JSON only, and refuse an object naming a field twice, saying what is wrong."""

from __future__ import annotations

import json

import pytest

from adapters.alert_body import parse_body
from adapters.alert_json import loads
from domain.alerts import Alert, Quarantined


@pytest.mark.parametrize(("text", "reason"), [
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('{"a": [Infinity]}', "Infinity is not a JSON number"),
    ('{"a": -1e400}', "the number -1e400 is too large to keep"),
    ('{"a": {"b": 1, "b": 2}}', 'the field "b" is given twice in one object'),
])
def test_what_only_pythons_own_decoder_takes_is_refused_naming_it(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        loads(text)


def test_standard_json_reads_as_pythons_own_decoder_reads_it() -> None:
    text = '{"a": [1, 2.5, -0.0, 1e300, null, true, "x\\u00e9"], "b": {"c": {}}, "": ""}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


def test_a_posted_json_lines_body_quarantines_the_line_with_nan_and_keeps_the_others() -> None:
    good = json.dumps({"type": "AGENT_HEARTBEAT", "agent_id": "agent-1", "timestamp": "2025-07-16T10:00:00Z"})
    bad = good[:-1] + ', "load": NaN}'
    items = parse_body(f"{good}\n{bad}\n".encode(), True, "http").items
    assert isinstance(items[0], Alert)
    assert isinstance(items[1], Quarantined) and "NaN is not a JSON number" in items[1].reason
