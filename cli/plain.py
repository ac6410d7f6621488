"""Plain-text rendering for the quickest commands (no rich import: they answer in a few milliseconds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.terminal import visible


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned under their headings, with a rule beneath the headings."""
    cells = [[visible("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max([len(column), *(len(row[index]) for row in cells)]) for index, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def task_text(document: Mapping[str, Any]) -> str:
    """`task show` for people: the task's standing, then its history."""
    level = f"{document['level']}{' (EMERGENCY)' if document['emergency'] else ''}"
    head = (f"task {visible(document['task_id'])}  agent {visible(document['agent_id'] or '-')}  status "
            f"{document['status']}\nlevel {level}  deadline {document['deadline'] or '-'}")
    if document.get("acknowledged_by"):
        head += f"\nacknowledged by {visible(document['acknowledged_by'])} at {document['acknowledged_at'] or '-'}"
    history = document["history"]
    if not history:
        return head + "\n\nno level changes yet"
    rows = [(h["at"], h["from"], f"{h['to']}{' (EMERGENCY)' if h['emergency'] else ''}", h["reason"])
            for h in history]
    return head + "\n\n" + text_table(["at", "from", "to", "reason"], rows)


def health_text(document: Mapping[str, Any]) -> str:
    """`status` for people: one indicator per line."""
    width = max(len(key) for key in document)
    return "\n".join(f"{key.ljust(width)}  {'-' if value is None else visible(str(value))}"
                     for key, value in document.items())
