"""Hypothesis strategies for raw alerts at the edges: extreme datetimes, offsets and durations, odd unicode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

ODD_CHARACTERS = ["\ud800", "\udbff", "\udc00", "\udfff", "\u0000", "\u200f", "\u202e", "\u2066", "\ufeff", "\uffff",
                  "é", "⏰", "𝄞", "\n", "\\", '"']
EDGE_STAMPS = [
    "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "9999-12-31T23:50:00Z", "0001-01-01T00:10:00Z",
    "1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00Z", "1970-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999+00:01", "0000-01-01T00:00:00Z",
    "2025-02-30T00:00:00Z", "2025-07-16T24:00:00Z",
]
EDGE_DURATIONS: list[object] = [
    "999999999 days", "1e308", 1e308, 1e300, 10**30, 2**63, -1, 0, 0.0, 1e-9, "P999999999D", "P36525D", "P36526D",
    "36525 days", "100 weeks", "PT0S", "9" * 400, "5200 weeks", "2h 15m", "30 minutes",
]
HUGE_LENGTHS = [65_535, 65_536, 65_537]
LEVELS = ["red", "RED", "orange", "yellow", "green", "Green", "purple", "", "\ud800"]


def _stamp(moment: datetime, offset_minutes: int, form: int) -> str:
    """`moment`'s wall time written without an offset, with a Z, or with a UTC offset."""
    wall = moment.replace(tzinfo=None).isoformat()
    if form == 0:
        return wall
    if form == 1:
        return wall + "Z"
    return moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes))).isoformat()


TEXTS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["task-1", "agent-1", "ada"]),
    st.text(st.one_of(st.sampled_from(ODD_CHARACTERS), st.characters(codec=None)), min_size=1, max_size=8),
    st.builds(lambda char, size: char * size, st.sampled_from(["x", "é", "\u200f", "\ud800"]),
              st.sampled_from([1, 511, 512, 513, 4096])),
)
"""Ids and texts: plain, short with odd characters (lone surrogates, NUL, bidi marks), or runs around 512."""
HUGE_TEXTS: st.SearchStrategy[str] = st.builds(lambda char, size: char * size, st.sampled_from(["x", "é", "⏰"]),
                                               st.sampled_from(HUGE_LENGTHS))
"""Texts around the 64 KiB limit."""
TIMESTAMPS: st.SearchStrategy[object] = st.one_of(
    st.builds(_stamp, st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
              st.integers(-1439, 1439), st.integers(0, 2)),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 1, 1)).map(
        lambda moment: moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")),
    st.sampled_from(EDGE_STAMPS), st.none(), st.integers(), TEXTS,
)
"""ISO timestamps anywhere in years 1-9999 with any offset, edge cases, and what is not a timestamp."""
DURATIONS: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(EDGE_DURATIONS),
    st.builds(lambda count, unit: f"{count} {unit}", st.integers(0, 10**12),
              st.sampled_from(["days", "weeks", "hours", "seconds", "ms"])),
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**20), 10**20),
)
"""Durations from nothing to far beyond what a datetime can hold, as text, ISO 8601 or numbers."""
EXTRAS: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    TEXTS,
    st.recursive(st.one_of(TEXTS, st.integers(-(10**30), 10**30), st.floats(allow_nan=False), st.booleans(), st.none()),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3), max_leaves=4),
    max_size=2,
)
"""Unknown fields, nested, whose keys and values may hold odd characters."""
FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "COORDINATION_CRISIS": {"task_id": TEXTS, "agent_id": TEXTS, "escalation_level": st.sampled_from(LEVELS),
                            "description": TEXTS},
    "DEADLINE_WARNING": {"task_id": TEXTS, "agent_id": TEXTS, "time_remaining": DURATIONS},
    "AGENT_UNRESPONSIVE": {"agent_id": TEXTS, "last_activity": TIMESTAMPS, "unresponsive_duration": DURATIONS},
    "TASK_REASSIGNMENT": {"task_id": TEXTS, "old_agent": TEXTS, "new_agent": TEXTS, "reason": TEXTS},
    "PHASE1_MILESTONE": {"milestone": TEXTS, "status": st.sampled_from(["failing", "passing", "blocked", "?"]),
                         "blocking_issues": st.lists(TEXTS, max_size=3), "assigned_agent": TEXTS},
    "TASK_ASSIGNED": {"task_id": TEXTS, "agent_id": TEXTS, "deadline": TIMESTAMPS},
    "TASK_COMPLETED": {"task_id": TEXTS},
    "AGENT_HEARTBEAT": {"agent_id": TEXTS},
}
ALERT_TYPES = sorted(FIELDS)


@st.composite
def raw_alerts(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    """One raw alert of `kind` (any type if None) whose fields may each be extreme or missing; now and then one
    field (perhaps an unknown one) is a text around 64 KiB."""
    chosen = kind if kind is not None else draw(st.sampled_from(ALERT_TYPES))
    spelling = chosen.lower() if draw(st.booleans()) else chosen
    item: dict[str, Any] = {"type": spelling, "timestamp": draw(TIMESTAMPS)}
    for name, values in FIELDS[chosen].items():
        if draw(st.integers(0, 9)):
            item[name] = draw(values)
    item.update(draw(EXTRAS))
    if draw(st.integers(0, 24)) == 0:
        names = [name for name in FIELDS[chosen] if name not in ("time_remaining", "unresponsive_duration")]
        item[draw(st.sampled_from([*names, "notes"]))] = draw(HUGE_TEXTS)
    return item
