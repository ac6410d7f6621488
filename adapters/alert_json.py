"""The JSON every alerts reader accepts: standard JSON, and nothing it leaves to chance.

Python's own decoder also takes `NaN`, `Infinity` and numbers too large for a float (read as infinity), which no
other JSON reader accepts, so an alert holding them could be stored but not shown; and of a field named twice it
keeps the last silently. Here each of those is a `ValueError` naming what is wrong, so the item is quarantined
saying so.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["DECODER", "loads", "value_of"]


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number (write null, or the value as a string)")


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large to keep")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the field {json.dumps(key)[:80]} is given twice in one object")
            seen.add(key)
    return value


DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_number, parse_constant=_constant)
"""A decoder refusing non-standard numbers and repeated fields (`raw_decode` to read a value inside a text)."""


def loads(text: str | bytes) -> Any:
    """The JSON value of `text` (ValueError for what is not standard JSON, or names a field twice)."""
    return DECODER.decode(text.decode("utf-8") if isinstance(text, bytes) else text)


def value_of(text: str | bytes) -> Any | None:
    """The JSON value of `text`, or None when it holds none (not JSON, not UTF-8, or nested too deeply)."""
    try:
        return loads(text)
    except (ValueError, RecursionError):
        return None
