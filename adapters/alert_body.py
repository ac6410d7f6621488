"""Alerts posted in a request body: the same forms, validation, fingerprints and quarantine as the alerts file.

A body is one alert object, a JSON array, an object with an `"alerts"` and/or `"events"` list, or (as
`application/x-ndjson`) JSON Lines. Each item is an alert or a quarantined entry whose `index` is its place in
the request (the line, from 0, for JSON Lines); the source is named by the caller (e.g. `http`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters import input_limits
from adapters.alert_file import Item, item_of
from adapters.alert_json import loads
from domain.alerts import Quarantined

JSON_TYPES = frozenset({"application/json"})
LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
RAW_KEPT = 65_536
"""Characters of a body that is not JSON kept in quarantine."""
_ENVELOPES = ("alerts", "events")


@dataclass(frozen=True, slots=True)
class Body:
    """The items of a request body; `broken` says why the body as a whole is not JSON (its one item then is the
    quarantined body)."""

    items: list[Item]
    broken: str | None = None


def parse_body(data: bytes, lines: bool, source: str) -> Body:
    """The items of a body of JSON (`lines`: JSON Lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"not valid UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}"
        return _broken(data.decode("utf-8", "replace"), reason, source)
    if lines:
        return _lines(text, source)
    try:
        value = loads(text)
    except (ValueError, RecursionError) as error:
        return _broken(text, f"not valid JSON: {error}", source)
    limit = input_limits.current().max_line_bytes
    return Body([item_of(member, _raw(member), source, None, index, limit) for index, member in _members(value)])


def _members(value: Any) -> list[tuple[int | None, Any]]:
    """(index in the request, item) of each item of a decoded body."""
    if isinstance(value, list):
        return list(enumerate(value))
    if isinstance(value, dict) and "type" not in value and any(isinstance(value.get(key), list) for key in
                                                                 _ENVELOPES):
        listed = [member for key in _ENVELOPES if isinstance(value.get(key), list) for member in value[key]]
        return list(enumerate(listed))
    return [(0, value)]


def _lines(text: str, source: str) -> Body:
    items: list[Item] = []
    decoded = 0
    for index, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except (ValueError, RecursionError) as error:
            items.append(Quarantined(source, None, index, line[:RAW_KEPT], f"not valid JSON: {error}"))
            continue
        decoded += 1
        items.append(item_of(value, line.strip(), source, None, index, input_limits.current().max_line_bytes,
                             decoded=True))
    if items and not decoded:
        return _broken(text, "not valid JSON Lines: no line is JSON", source)
    return Body(items)


def _broken(text: str, reason: str, source: str) -> Body:
    return Body([Quarantined(source, None, None, text[:RAW_KEPT], reason)], broken=reason)


def _raw(value: Any) -> str:
    """An item's text as kept in quarantine: as written, or with escapes where it holds what UTF-8 cannot."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, default=str)
    return text
