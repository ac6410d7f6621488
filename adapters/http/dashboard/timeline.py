"""A task's timeline: its level over time as steps, and what happened to it as marks, laid out for an SVG chart.

The level path is the task's escalation history (the same entries as `task show`); the marks are its events:
alerts, level changes, notifications coloured by their delivery's outcome, acknowledgement, reassignment and
resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from adapters.http.dashboard.render import STAGES, clock_text, instant

WIDTH, LEFT, RIGHT = 1000.0, 110.0, 20.0
BAND, TOP = 26.0, 10.0
LANES = ("alert", "notification", "action")
LANE_LABELS = {"alert": "alerts", "notification": "notifications", "action": "ack / resolve"}
LANE_TOP = TOP + BAND * len(STAGES) + 16
HEIGHT = LANE_TOP + BAND * len(LANES) + 34


@dataclass(frozen=True, slots=True)
class Segment:
    """The task at `stage` from `start` to `end` (x positions), entered at `at` (None: from the first event)."""

    stage: str
    x1: float
    x2: float
    y: float
    at: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Something that happened, at x, in its lane: `kind` (alert, escalation, notification, ...) and `outcome`."""

    kind: str
    lane: str
    x: float
    y: float
    at: str
    title: str
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Timeline:
    segments: list[Segment]
    steps: list[tuple[float, float, float]]
    marks: list[Mark]
    ticks: list[tuple[float, str]]
    width: float = WIDTH
    height: float = HEIGHT


def stage_y(stage: str) -> float:
    """The middle of a stage's band (EMERGENCY at the top)."""
    return TOP + BAND * (len(STAGES) - 1 - STAGES.index(stage)) + BAND / 2


def lane_y(lane: str) -> float:
    return LANE_TOP + BAND * LANES.index(lane) + BAND / 2


def outcomes(events: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Per notification key, its latest delivery outcome (delivered, failed, dead) and a word on it."""
    found: dict[str, tuple[str, str]] = {}
    for event in events:
        if event["event"] == "NotificationDelivered":
            found[event["key"]] = ("delivered", f"delivered via {event['channel']} (attempt {event['attempt']})")
        elif event["event"] == "DeliveryFailed" and found.get(event["key"], ("",))[0] != "delivered":
            outcome = "dead" if event.get("dead") else "failed"
            found[event["key"]] = (outcome, f"{outcome} via {event['channel']}: {event.get('error')}")
    return found


def describe(event: dict[str, Any], delivered: dict[str, tuple[str, str]]) -> tuple[str, str, str] | None:
    """(kind, lane, words) for an event the timeline marks, with the outcome for a notification; None otherwise."""
    name = event["event"]
    if name == "AlertReceived":
        alert = event.get("alert") or {}
        words = f"{event['alert_type']}: {alert.get('description') or alert.get('escalation_level') or ''}".strip()
        return "alert", "alert", words.rstrip(":")
    if name == "NotificationRequested":
        outcome = delivered.get(event["key"], ("pending", "not delivered yet"))[1]
        return "notification", "notification", f"{event['kind']} to {event['recipient']}: {outcome}"
    if name == "Acknowledged":
        return "acknowledged", "action", f"acknowledged by {event['by']}"
    if name == "Resolved":
        return "resolved", "action", f"resolved{' by ' + event['by'] if event.get('by') else ''}: {event['reason']}"
    if name == "Reassigned":
        return "reassigned", "action", f"reassigned from {event['from_agent']} to {event['to_agent']}"
    return None


def timeline(history: list[dict[str, Any]], events: list[dict[str, Any]], now: datetime, open_: bool) -> Timeline:
    """Lay out a task's history (as `task show` has it) and events from its first event to its last (for an open
    task on towards now)."""
    moments = [m for m in (instant(e.get("at")) for e in events) if m is not None]
    moments += [m for m in (instant(h["at"]) for h in history) if m is not None]
    first = min(moments, default=now)
    last = max(moments, default=now)
    if open_ and now > last:  # on to now, unless now is so far on that the task's story would be a sliver
        last = min(now, last + max(last - first, timedelta(hours=1)))
    if last - first < timedelta(minutes=1):
        last = first + timedelta(minutes=1)
    scale = (WIDTH - LEFT - RIGHT) / (last - first).total_seconds()

    def x(value: Any) -> float:
        moment = instant(value) or first
        return round(LEFT + (moment - first).total_seconds() * scale, 1)

    segments: list[Segment] = []
    stage, entered, reason, start = "GREEN", None, "first heard of", LEFT
    for entry in history:
        point = x(entry["at"])
        segments.append(Segment(stage, start, point, stage_y(stage), entered, reason))
        stage = "EMERGENCY" if entry["emergency"] else entry["to"]
        entered, reason, start = entry["at"], entry["reason"], point
    segments.append(Segment(stage, start, x(last), stage_y(stage), entered, reason))
    steps = [(a.x2, a.y, b.y) for a, b in pairwise(segments)]
    delivered = outcomes(events)
    marks = []
    for event in events:
        described = describe(event, delivered)
        if described is None:
            continue
        kind, lane, words = described
        outcome = delivered.get(event.get("key", ""), ("pending",))[0] if kind == "notification" else ""
        marks.append(Mark(kind, lane, x(event["at"]), lane_y(lane), event["at"],
                          f"{clock_text(event['at'])}: {words}", outcome))
    count = 5
    ticks = [(round(LEFT + (WIDTH - LEFT - RIGHT) * n / count, 1),
              clock_text(first + (last - first) * n / count)[5:16]) for n in range(count + 1)]
    return Timeline(segments, steps, marks, ticks)


def rows(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The timeline as a table: (when, what, detail) for each event it marks or each level change."""
    delivered = outcomes(events)
    found = []
    for event in events:
        name = event["event"]
        if name in ("Escalated", "DeEscalated"):
            to = f"{event['to_level']}{' · EMERGENCY' if event['emergency'] else ''}"
            found.append((event["at"], "level", f"{event['from_level']} → {to}: {event['reason']}"))
            continue
        described = describe(event, delivered)
        if described is not None:
            found.append((event["at"], described[0], described[2]))
    return found
