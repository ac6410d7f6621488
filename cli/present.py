"""How one task and the health indicators look to people: the same tables, colours and escapes as every other
command (see `cli.render`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cli.render import level_text, say, show, table
from domain.rules import describe_duration

SECONDS = frozenset({"uptime", "avg_response_time"})
"""Indicators that are durations in seconds (numbers in `--json`, human forms in text)."""


def show_task(document: Mapping[str, Any]) -> None:
    """`task show` for people: the task's standing, then its history."""
    level = f"{document['level']}{' (EMERGENCY)' if document['emergency'] else ''}"
    say(f"task {document['task_id']}  agent {document['agent_id'] or '-'}  status {document['status']}")
    say(f"level {level}  deadline {document['deadline'] or '-'}")
    if document.get("acknowledged_by"):
        say(f"acknowledged by {document['acknowledged_by']} at {document['acknowledged_at']}")
    history = document["history"]
    if not history:
        say("no level changes yet")
        return
    show(table("History", ["at", "from", "to", "reason"],
               [(h["at"], h["from"], level_text(h["to"], h["emergency"]), h["reason"]) for h in history]))


def show_health(document: Mapping[str, Any]) -> None:
    """`status` for people: one indicator a row, durations in human forms (`2h 15m`, `0.3s`), and a row for each
    hive naming who writes it."""
    rows = [(key, _shown(key, value)) for key, value in document.items() if key != "hives"]
    rows += [(f"hive {name}", writer or "nobody writes it") for name, writer in (document.get("hives") or {}).items()]
    show(table("Status", ["indicator", "value"], rows))


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in SECONDS and isinstance(value, int | float):
        return seconds_text(float(value))
    return str(value)


def seconds_text(seconds: float) -> str:
    """`14ms`, `0.3s`, then as every message says a duration: `45s`, `12m 30s`, `2h 15m`, `3d 04h`."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds < 0.1 else f"{seconds:.1f}s"
    return describe_duration(timedelta(seconds=seconds))
