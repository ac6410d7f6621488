"""Fields sliced from stored events' JSON without decoding it, where the coordinator's codec wrote it plainly.

Rebuilds of the read models must be fast: a flat event's few wanted fields (its timestamp and `at`, a string
field, the keys of the notifications requested, a delivery's key and time) are read straight from the bytes when
they have the codec's form, and the caller decodes the event (`state_of`) when they do not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from app.records import DELIVERIES_TOPIC, Record, state_of, utc_text
from app.stored_json import decode
from domain.versions import current_version

_TIMESTAMP = b'{"timestamp":"'


def text_field(state: bytes, name: bytes, last: bool = False) -> str | None:
    """A string field sliced from stored JSON (`name` is `,"field":"`), None when absent or escaped.

    An unescaped `,"field":"` only occurs as JSON structure, so in a flat event it is the field itself.
    """
    start = state.rfind(name) if last else state.find(name)
    if start < 0:
        return None
    value = state[start + len(name) : state.find(b'"', start + len(name))]
    return None if b"\\" in value else value.decode()


_AT = b',"at":"'


def _own_at(state: bytes) -> bytes | None:
    """The event's own `at` as stored: the first unescaped `,"at":"` before any nested object or list (a string
    cannot hold an unescaped quote); None when there is none or it is less plain."""
    start = state.find(_AT)
    if start < 0 or state.find(b"{", 1, start) >= 0 or state.find(b"[", 1, start) >= 0:
        return None
    end = state.find(b'"', start + 7)
    value = state[start + 7 : end]
    return None if end < 0 or b"\\" in value else value


def hour_of(record: Record) -> bytes:
    """`2025-07-16T22` for an event of 22:xx UTC: its own `at` (the business time of the alerts, or the wall-clock
    time of a delivery or acknowledgement), else when it was recorded; anything less plain is decoded."""
    at = _own_at(record.state)
    if at is not None and (at.endswith(b"Z") or at.endswith(b"+00:00")):
        return at[:13]
    decoded = state_of(record).get("at") if _AT in record.state else None
    if isinstance(decoded, str):
        return utc_text(decoded)[:13].encode()  # type: ignore[index]
    return recorded_wall(record)[:13].encode()


def recorded_wall(record: Record) -> str:
    """When the event was recorded, as UTC ISO 8601 text with a `Z`."""
    state = record.state
    if state[:14] == _TIMESTAMP:  # `{"timestamp":"2025-07-16T10:00:00.123456Z"`, or `+00:00"` in older stores
        if state[40:42] == b'Z"':
            return state[14:41].decode()
        if state[40:47] == b'+00:00"':
            return state[14:40].decode() + "Z"
    stamp = state_of(record)["timestamp"]
    text = str(stamp.get("_data_") if isinstance(stamp, dict) else stamp)
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def sliced_requests(state: bytes) -> list[tuple[str, str | None]]:
    """(key, priority) of each notification, as the codec writes them (each opens with `{"key":"`); else none."""
    at = state.find(b'"notifications":[{"key":"')
    if at < 0:
        return []
    found: list[tuple[str, str | None]] = []
    at = state.find(b'{"key":"', at)
    while at >= 0:
        key_start = at + 8
        key_end = state.find(b'"', key_start)
        start = state.find(b',"priority":"', key_end) + 13
        if start < 13 or state.find(b"\\", key_start, key_end) >= 0:
            return []
        end = state.find(b'"', start)
        if state.find(b"\\", start, end) >= 0:
            return []
        found.append((state[key_start:key_end].decode(), state[start:end].decode()))
        at = state.find(b'{"key":"', end)
    return found


def sliced_delivery(state: bytes) -> tuple[str, str] | None:
    """Key and time of a delivery as the codec writes it: `{"timestamp":"<UTC>","key":"…",…,"at":"<UTC>"}`, each
    instant with microseconds and a `Z` (or `+00:00`, in stores written before)."""
    if state[41:50] == b'","key":"' and state[-36:-29] == b',"at":"' and state[-3:] == b'Z"}':
        key, at = state[50 : state.find(b'"', 50)], state[-29:-2].decode()
    elif state[46:55] == b'","key":"' and state[-41:-34] == b',"at":"' and state[-8:] == b'+00:00"}':
        key, at = state[55 : state.find(b'"', 55)], state[-34:-8].decode() + "Z"
    else:
        return None
    return None if b"\\" in key else (key.decode(), at)


_ALERT_END = f',"class_version":{current_version("domain.task:Task.AlertReceived")}}}'.encode()
_CHANGES = b',"changes":{'
_AGENT = b',"agent_id":'


def alert_fields(record: Record) -> dict[str, Any] | None:
    """`at`, `agent_id` and `changes` of a task's alert event, as the codec writes it; None if not sure of them.

    The codec writes `...,"alert":{…},"agent_id":…,"changes":{…},"class_version":N}`: the last unescaped
    `,"changes":{` is the event's own (the raw alert comes before it and the changes hold no object), and the
    agent, a string or null, sits right before it. The changes, often none, are decoded alone.
    """
    state = record.state
    at = _own_at(state) if state.endswith(_ALERT_END) else None
    if at is None:
        return None
    changes = state.rfind(_CHANGES)
    agent = state.rfind(_AGENT, 0, changes)
    if changes < 0 or agent < 0:
        return None
    value = state[agent + len(_AGENT) : changes]
    if value == b"null":
        agent_id = None
    elif len(value) > 1 and value[:1] == b'"' and value[-1:] == b'"' and b'"' not in value[1:-1] \
            and b"\\" not in value:
        agent_id = value[1:-1].decode()
    else:
        return None
    found = state[changes + len(_CHANGES) - 1 : len(state) - len(_ALERT_END)]
    return {"at": at.decode(), "agent_id": agent_id,
            "changes": {} if found == b"{}" else decode(found)}


_BATCH_END = f',"class_version":{current_version(DELIVERIES_TOPIC)}}}'.encode()
_TASK_ROW = b'["task:'
_TASK_ATTEMPT = re.compile(rb'\["task:([^"\\]*)#([0-9]+)\.[0-9]+"')
"""An attempt's row of the delivery stream opening with a task's notification key, `["task:<name>#<request>.<n>"`
(the name is everything before the key's last `#`, as `NotificationKey.parse` reads it)."""


def sliced_task_requests(state: bytes) -> dict[str, list[int]] | None:
    """Per task named in a batch of the delivery stream, the request numbers in its attempts' keys, in order; None when
    not sure of them (not as the codec writes a batch, or a task's key is escaped or not a key).

    The codec writes a batch's attempts as rows, `"attempts":[["<key>",…],…]`: an unescaped `["` only occurs as
    structure there (quotes inside strings are escaped), so each `["task:` opens the row of a task's attempt."""
    if not state.endswith(_BATCH_END) or b'"attempts":[' not in state:
        return None
    found: dict[str, list[int]] = {}
    rows = 0
    for match in _TASK_ATTEMPT.finditer(state):
        name, request = match.groups()
        found.setdefault(name.decode(), []).append(int(request))
        rows += 1
    return found if rows == state.count(_TASK_ROW) else None
