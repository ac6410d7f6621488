"""The health page's charts, laid out for SVG: events per hour, escalations by rule and level, notification
delivery, and response times against the SLA lines. Numbers only: the templates draw them (and say them in text)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from adapters.http.dashboard.render import clock_text, instant

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 1000.0, 240.0, 60.0, 40.0, 12.0, 16.0
SLA = (("YELLOW", 60.0), ("ORANGE", 30.0), ("RED", 10.0))
"""The seed's response-time targets by level (seconds)."""


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    tone: str = ""


@dataclass(slots=True)
class Chart:
    bars: list[Bar] = field(default_factory=list)
    points: list[Bar] = field(default_factory=list)
    lines: list[tuple[float, str]] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    xticks: list[tuple[float, str]] = field(default_factory=list)
    width: float = WIDTH
    height: float = HEIGHT


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= top))


def events_per_hour(rows: list[dict[str, Any]], hours: int = 48) -> Chart:
    """Bars of the last `hours` hours that recorded events."""
    shown = rows[-hours:]
    chart = Chart()
    top = _nice(max((row["events"] for row in shown), default=0))
    inner, high = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner / max(len(shown), 1)
    for n, row in enumerate(shown):
        height = high * row["events"] / top
        chart.bars.append(Bar(round(LEFT + n * slot + slot * 0.1, 1), round(TOP + high - height, 1),
                              round(slot * 0.8, 1), round(height, 1), row["hour"], row["events"]))
    step = max(len(shown) // 8, 1)
    chart.xticks = [(bar.x + bar.width / 2, bar.label[5:16].replace("T", " ")) for bar in chart.bars[::step]]
    chart.yticks = [(round(TOP + high - high * n / 4, 1), f"{top * n / 4:g}") for n in range(5)]
    return chart


def escalations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule, the count of escalations to each level (EMERGENCY apart), widths as shares of the largest rule."""
    by_rule: dict[str, dict[str, int]] = {}
    for row in rows:
        level = "EMERGENCY" if row["emergency"] else row["level"]
        counts = by_rule.setdefault(row["rule"], {})
        counts[level] = counts.get(level, 0) + row["count"]
    largest = max((sum(counts.values()) for counts in by_rule.values()), default=1)
    found = []
    for rule, counts in sorted(by_rule.items()):
        offset, parts = 0.0, []
        for level in ("YELLOW", "ORANGE", "RED", "EMERGENCY", "GREEN"):
            if counts.get(level):
                share = 100 * counts[level] / largest
                parts.append({"level": level, "count": counts[level], "x": round(offset, 2), "width": round(share, 2)})
                offset += share
        found.append({"rule": rule, "total": sum(counts.values()), "parts": parts})
    return found


def delivery(notifications: dict[str, Any]) -> list[dict[str, Any]]:
    """The notifications' statuses as shares of all requested (delivered, pending, failed, dead)."""
    total = max(int(notifications.get("requested") or 0), 1)
    offset, found = 0.0, []
    for status in ("delivered", "pending", "failed", "dead"):
        count = int(notifications.get(status) or 0)
        share = 100 * count / total
        found.append({"status": status, "count": count, "x": round(offset, 2), "width": round(share, 2)})
        offset += share
    return found


def response_times(rows: list[dict[str, Any]]) -> Chart:
    """Each delivered notification's response time (log scale, 1 ms to above the largest) over when it was
    requested, with the SLA lines."""
    chart = Chart()
    inner, high = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low_exp = -3
    high_exp = max(2, math.ceil(math.log10(max((row["seconds"] for row in rows), default=1.0) or 1.0)))

    def y(seconds: float) -> float:
        exponent = math.log10(max(seconds, 10.0**low_exp))
        return round(TOP + high - high * (exponent - low_exp) / (high_exp - low_exp), 1)

    times = [moment for moment in (instant(row["requested_at"]) for row in rows) if moment is not None]
    if times:
        first, last = min(times), max(times)
        spread = max((last - first).total_seconds(), 1.0)
        for row in rows:
            moment = instant(row["requested_at"]) or first
            x = round(LEFT + inner * (moment - first).total_seconds() / spread, 1)
            level = "RED" if row["level"] == "EMERGENCY" else row["level"]
            chart.points.append(Bar(x, y(row["seconds"]), 0, 0, clock_text(row["requested_at"]), row["seconds"], level))
        chart.xticks = [(round(LEFT + inner * n / 4, 1), clock_text(first + (last - first) * n / 4)[5:16])
                        for n in range(5)]
    chart.lines = [(y(seconds), level) for level, seconds in SLA]
    chart.yticks = [(y(10.0**exp), _seconds(10.0**exp)) for exp in range(low_exp, high_exp + 1)]
    return chart


def _seconds(value: float) -> str:
    return f"{value * 1000:g} ms" if value < 1 else f"{value:g} s"
