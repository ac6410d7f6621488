"""Turning aggregates and read-model rows into JSON documents and rich tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.agent import Agent
from domain.task import Task

LEVEL_STYLES = {"GREEN": "green", "YELLOW": "yellow", "ORANGE": "dark_orange", "RED": "bold red"}


def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def task_document(task: Task, history: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The `task show --json` document (`history`: the whole history, when the aggregate keeps only its tail)."""
    return {
        "task_id": task.task_id,
        "agent_id": task.agent_id,
        "level": task.stage.level,
        "emergency": task.stage.emergency,
        "status": task.status,
        "deadline": timestamp(task.deadline),
        "history": [_entry(entry) for entry in (task.history if history is None else history)],
    }


def history_entries(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """History read-model rows as the entries `task show` and `agent show` print."""
    return [{"at": row["at"], "from": row["from_level"], "to": row["to_level"], "emergency": row["emergency"],
             "reason": row["reason"]} for row in rows]


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "at": entry["at"] if isinstance(entry["at"], str) else timestamp(entry["at"])}


def agent_document(
    agent: Agent, tasks: Sequence[str], history: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The `agent show --json` document."""
    return {
        "agent_id": agent.agent_id,
        "level": agent.stage.level,
        "emergency": agent.stage.emergency,
        "responsive": not agent.unresponsive,
        "last_activity": timestamp(agent.last_activity),
        "tasks": list(tasks),
        "history": [_entry(entry) for entry in (agent.history if history is None else history)],
    }


def print_json(document: Any) -> None:
    """Print a JSON document on stdout."""
    print(json.dumps(document, indent=2, ensure_ascii=False))


def level_text(level: str, emergency: bool | int) -> str:
    """`RED (EMERGENCY)` and friends, coloured."""
    style = LEVEL_STYLES.get(level, "")
    label = f"{level} (EMERGENCY)" if emergency else level
    return f"[{style}]{label}[/]" if style else label


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table with the given columns."""
    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*["" if cell is None else str(cell) for cell in row])
    return result


PIPED_WIDTH = 160


def show(renderable: Any) -> None:
    """Print a rich renderable on stdout (wide enough for ids and times when piped)."""
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=PIPED_WIDTH)
    console.print(renderable)
