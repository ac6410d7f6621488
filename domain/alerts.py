"""Alerts as the domain sees them: validated facts with a time and a fingerprint; observations, the well-formed
records that are none of the alert types; and quarantined input."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Any

import orjson

from domain.moments import iso_text
from domain.stages import Stage


class AlertType(StrEnum):
    """Every alert type the accountability system writes."""

    COORDINATION_CRISIS = "COORDINATION_CRISIS"
    DEADLINE_WARNING = "DEADLINE_WARNING"
    AGENT_UNRESPONSIVE = "AGENT_UNRESPONSIVE"
    TASK_REASSIGNMENT = "TASK_REASSIGNMENT"
    PHASE1_MILESTONE = "PHASE1_MILESTONE"
    TASK_ASSIGNED = "TASK_ASSIGNED"
    TASK_COMPLETED = "TASK_COMPLETED"
    AGENT_HEARTBEAT = "AGENT_HEARTBEAT"


MILESTONE_PREFIX = "milestone:"


@dataclass(frozen=True, slots=True)
class Alert:
    """One validated alert. `agent_id` is the agent the alert puts in charge or speaks of
    (the new agent of a reassignment, the assigned agent of a milestone)."""

    type: AlertType
    timestamp: datetime
    fingerprint: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    task_id: str | None = None
    agent_id: str | None = None
    old_agent: str | None = None
    crisis_stage: Stage | None = None
    deadline: datetime | None = None
    time_remaining: timedelta | None = None
    last_activity: datetime | None = None
    milestone_status: str | None = None
    note: str | None = None
    source: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)
    fingerprint_of_raw: bool = field(default=False, compare=False)
    """True when `fingerprint` is the digest of `raw` itself (not of a record a mapping rule made it from)."""

    @property
    def kept_fingerprint(self) -> str | None:
        """The fingerprint an event that keeps `raw` records: None when it is the digest of `raw`, which a reader
        can compute again (an alert made by a mapping rule keeps its record's)."""
        return None if self.fingerprint_of_raw else self.fingerprint


def fingerprint(raw: Mapping[str, Any]) -> str:
    """sha256 hex of the item's canonical JSON: same content, same fingerprint, whatever the key order."""
    return sha256(canonical_json(raw)).hexdigest()


_FLAT = frozenset({str, int, bool, type(None)})
"""The types of the values an item may hold for orjson to write its canonical form (`canonical_json`)."""


def canonical_json(raw: Mapping[str, Any]) -> bytes:
    """The item as compact UTF-8 JSON, keys sorted: what `json.dumps(raw, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` writes, encoded with lone surrogates passed through.

    Fingerprints are computed for every alert read, so a flat item (strings, integers, booleans and nulls: nearly
    every alert) is written by orjson, in C, which writes such an item exactly as `json` does, escapes included (a
    test holds the two to each other); orjson refuses what it would write otherwise (an integer beyond 64 bits, a
    lone surrogate, a key that is not a string), and such an item, and any holding a float (spelt differently) or a
    nested value, is written by `json`.
    """
    if type(raw) is dict and all(type(value) in _FLAT for value in raw.values()):
        try:
            return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def heartbeat_record(agent_id: str, at: datetime) -> dict[str, Any]:
    """The plainest heartbeat of `agent_id` at `at`, as the upstream writes one. An agent's `ActivitySeen` of a
    heartbeat written exactly so records no fingerprint: a reader computes it again from this record."""
    return {"type": AlertType.AGENT_HEARTBEAT.value, "agent_id": agent_id, "timestamp": iso_text(at.astimezone(UTC))}


@dataclass(frozen=True, slots=True)
class Observation:
    """A well-formed record that is none of the alert types: kept as a fact of the hive.

    `at` is its own timestamp (None when it has none); `task_id` and `agent_id` the task and agent it names, if
    any. When a mapping rule matched it, `rule` is the rule's identity and `alert` the alert it became (whose task
    and agent it names); the record is then applied as that alert, and observed with it.
    """

    fingerprint: str
    raw: Mapping[str, Any] = field(compare=False)
    at: datetime | None = None
    task_id: str | None = None
    agent_id: str | None = None
    rule: str | None = None
    alert: Alert | None = None
    source: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)
    index: int | None = field(default=None, compare=False)
    """Its place in a JSON array or request, when it came in one."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Input that could not be accepted, kept with where it came from and why (`rule`: the identity of the mapping
    rule whose alert was invalid, if one matched)."""

    source: str
    line: int | None
    index: int | None
    raw: str
    reason: str
    rule: str | None = None


def quarantine_digest(item: Quarantined) -> str:
    """Identity of a quarantined item: where it was read and its text (the same bad item read again is kept once)."""
    key = f"{item.source}\0{item.line}\0{item.index}\0{item.raw}"
    return sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


Item = Alert | Observation | Quarantined
"""What a reader makes of one input item."""


REASON_LIMIT = 500
"""Characters of an exception's message kept in a quarantine reason."""


def failure_reason(error: BaseException) -> str:
    """`"<ExceptionType>: message"`, the message cut to `REASON_LIMIT` and storable as UTF-8."""
    message = str(error).encode("utf-8", "backslashreplace").decode("utf-8")
    if len(message) > REASON_LIMIT:
        message = message[: REASON_LIMIT - 3] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def failed_alert(alert: Alert | Observation, error: Exception) -> Quarantined:
    """The quarantine entry for an alert (or observation) whose application raised `error`."""
    raw = json.dumps(alert.raw, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace").decode("utf-8")
    rule = alert.rule if isinstance(alert, Observation) else None
    return Quarantined(alert.source, alert.line, None, raw, failure_reason(error), rule)
