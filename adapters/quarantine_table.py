"""The quarantine: input that could not be accepted, with where it came from and why (read side)."""

from __future__ import annotations

from typing import Any

from adapters.outbox_table import Cursor

COLUMNS = ("source", "line", "item_index", "reason", "raw", "recorded_at")


def count(c: Cursor) -> int:
    """How many items are in quarantine."""
    c.execute("SELECT COUNT(*) FROM quarantine")
    return int(c.fetchall()[0][0])


def listing(c: Cursor) -> list[dict[str, Any]]:
    """Every quarantined item, oldest first."""
    c.execute(f"SELECT {', '.join(COLUMNS)} FROM quarantine ORDER BY id")
    return [dict(zip(COLUMNS, row, strict=True)) for row in c.fetchall()]


def document(row: dict[str, Any]) -> dict[str, Any]:
    """A quarantined item as `coordinator quarantine --json` and the HTTP API show it."""
    return {"source": row["source"], "line": row["line"], "reason": row["reason"], "raw": row["raw"]}
