"""Rendering for people and scripts: JSON documents, tables and times.

A table is drawn by rich on a terminal (boxed, levels in colour). Written to a pipe or a file, it is plain
aligned columns, as `kubectl get` or `docker ps` print them: easy to `grep`, `awk` or `diff`, and a command that
prints one does not load rich at all (about a fifth of a query command's start-up).

What people read is untrusted in part (ids, descriptions, messages): every cell, title and line printed goes
through `adapters.terminal.visible`, and table cells are plain text, never rich markup. JSON is left as it is: its
encoding already escapes control characters."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
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


@dataclass(frozen=True, slots=True)
class Grid:
    """A titled table of cells (text, or `Styled` text), drawn by `show`."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Grid:
    """A table with the given columns; every cell is shown as plain, visible text. A row has a cell per column."""
    grid = Grid(title, tuple(columns), [tuple(row) for row in rows])
    for row in grid.rows:
        if len(row) != len(grid.columns):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(grid.columns)} columns: {row!r}")
    return grid


def _cell(cell: Any) -> str:
    return visible(cell.text if isinstance(cell, Styled) else "" if cell is None else str(cell))


def rich_table(grid: Grid) -> Table:
    """`grid` as a rich table (its title left, each `Styled` cell in its style)."""
    from rich.table import Table
    from rich.text import Text

    result = Table(title=Text(visible(grid.title)), title_justify="left")
    for column in grid.columns:
        result.add_column(visible(column))
    for row in grid.rows:
        result.add_row(*[Text(_cell(cell), style=cell.style if isinstance(cell, Styled) else "") for cell in row])
    return result


def plain_table(grid: Grid) -> str:
    """`grid` as plain text: its title, then the header and each row in columns two spaces apart (padded to the
    width a terminal shows, so wide characters keep them aligned; no trailing spaces)."""
    lines = [[visible(column) for column in grid.columns], *([_cell(cell) for cell in row] for row in grid.rows)]
    widths = [max(map(_width, cells)) for cells in zip(*lines, strict=True)]
    return "\n".join([visible(grid.title), *("  ".join(cell + " " * (width - _width(cell))
                                                        for cell, width in zip(line, widths, strict=True)).rstrip()
                                              for line in lines)])


ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})
"""Unicode categories a terminal gives no column of their own: combining and enclosing marks (variation selectors
among them) and format characters (the zero-width joiner among them)."""
JOINER = "\u200d"


def _width(text: str) -> int:
    """How many columns of a terminal `text` takes: two for a wide character, none for a mark, a format character
    or a character a zero-width joiner joins to the one before (`👩‍💻` is one wide glyph)."""
    if text.isascii():
        return len(text)
    columns = 0
    joined = False
    for character in text:
        if not joined and unicodedata.category(character) not in ZERO_WIDTH:
            columns += 2 if unicodedata.east_asian_width(character) in "WF" else 1
        joined = character == JOINER
    return columns


def to_terminal() -> bool:
    """Whether to draw for a terminal, decided as rich decides it: `TTY_COMPATIBLE=1` or `0` says so, else a
    non-empty `FORCE_COLOR` means yes, else whether standard output is a terminal."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    if "FORCE_COLOR" in os.environ:
        return os.environ["FORCE_COLOR"] != ""
    return sys.stdout.isatty()


def say(line: str, err: bool = False) -> None:
    """Print one line for people (its control characters, newlines included, shown as escapes)."""
    typer.echo(visible(line), err=err)


def show(grid: Grid) -> None:
    """Print a table on stdout: drawn by rich on a terminal, plain columns anywhere else."""
    if not to_terminal():
        typer.echo(plain_table(grid))
        return
    from rich.console import Console

    class Quiet(Console):
        """A console that leaves a closed pipe to the command line, which ends quietly with exit 0 (rich's own
        console would exit 1)."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    Quiet(soft_wrap=False).print(rich_table(grid))


def clip(text: str, width: int) -> str:
    """`text` on one line, cut to at most `width` characters at a word's end, with an ellipsis, when longer."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip(" ,;:") + "…"
