"""Rendering for people and scripts: JSON documents, tables and times (rich is loaded only to draw a table).

What people read is untrusted in part (ids, descriptions, messages): every cell, title and line printed for a
terminal goes through `adapters.terminal.visible`, and table cells are plain text, never rich markup. JSON is left
as it is: its encoding already escapes control characters."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from adapters.terminal import visible

if TYPE_CHECKING:
    from rich.table import Table

    from domain.task import Task

LEVEL_STYLES = {"GREEN": "green", "YELLOW": "yellow", "ORANGE": "dark_orange", "RED": "bold red"}
PIPED_WIDTH = 160


def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def task_fields(task: Task) -> dict[str, Any]:
    """A task aggregate's standing, in the shape the status read model keeps it."""
    return {"task_id": task.task_id, "agent_id": task.agent_id, "level": task.stage.level,
            "emergency": task.stage.emergency, "status": task.status, "deadline": timestamp(task.deadline),
            "acknowledged_by": task.acknowledged_by, "acknowledged_at": timestamp(task.acknowledged_at)}


def history_rows(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An aggregate's in-memory history entries, in the shape the history read model keeps them."""
    return [{"at": timestamp(entry["at"]), "from_level": entry["from"], "to_level": entry["to"],
             "emergency": entry["emergency"], "reason": entry["reason"]} for entry in entries]


def json_text(document: Any) -> str:
    """`document` as indented JSON, as `json.dumps(document, indent=2, ensure_ascii=False)` writes it (a float
    may be spelled another way for the same value: `6.1e-05`, `0.000061`).

    The standard library indents in pure Python (a 10,000-task list takes about 0.3 s); orjson writes the same
    text in C about twenty times faster. What orjson refuses (integers beyond 64 bits, lone surrogates, keys that
    are not strings) takes the standard path."""
    import orjson

    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(document, indent=2, ensure_ascii=False)


def print_json(document: Any) -> None:
    """Print a JSON document on stdout."""
    print(json_text(document))


@dataclass(frozen=True, slots=True)
class Styled:
    """A table cell drawn in a style (e.g. a level in its colour)."""

    text: str
    style: str


def level_text(level: str, emergency: bool | int) -> Styled:
    """`RED (EMERGENCY)` and friends, coloured."""
    return Styled(f"{level} (EMERGENCY)" if emergency else level, LEVEL_STYLES.get(level, ""))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table with the given columns; every cell is shown as plain, visible text."""
    from rich.table import Table
    from rich.text import Text

    result = Table(title=Text(visible(title)), title_justify="left")
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*[Text(visible(cell.text), style=cell.style) if isinstance(cell, Styled)
                         else Text(visible("" if cell is None else str(cell))) for cell in row])
    return result


def say(line: str, err: bool = False) -> None:
    """Print one line for people (its control characters, newlines included, shown as escapes)."""
    typer.echo(visible(line), err=err)


def show(renderable: Any) -> None:
    """Print a rich renderable on stdout (wide enough for ids and times when piped)."""
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=PIPED_WIDTH)
    console.print(renderable)


def clip(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
