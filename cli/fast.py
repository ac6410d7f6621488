"""Answers `coordinator task show ID` and `coordinator status` straight from the read models.

These are the commands people and scripts run most, so they must start as fast as Python itself: this
module imports only the standard library. It answers only when the read models are up to date with the
event store and at the schema versions this code writes; otherwise (or for any other arguments) it
declines, and the full command catches the read models up and answers the same way.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from adapters.home_lock import running_service
from cli.plain import health_text, task_text
from projections import versions
from projections.health import health, open_crises

DEFAULT_HOME = ".coordinator"
NEEDED = {
    "task": {"status": versions.STATUS, "history": versions.HISTORY},
    "status": {"status": versions.STATUS, "metrics": versions.METRICS},
}


def answer(argv: list[str]) -> int | None:
    """Run the command if it can be answered here; its exit code, or None to let the full command run."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    command, task_id, as_json, home = parsed
    home_dir = Path(home or os.environ.get("COORDINATOR_HOME") or DEFAULT_HOME)
    events, views = home_dir / "events.sqlite", home_dir / "views.sqlite"
    if not (events.is_file() and views.is_file()):
        return None
    try:
        with _read_only(events) as event_db, _read_only(views) as views_db:
            head = event_db.execute("SELECT IFNULL(MAX(rowid), 0) FROM stored_events").fetchone()[0]
            if not _current(views_db, NEEDED[command], head):
                return None
            if task_id is not None:
                document = _task(views_db, task_id)
                if document is None:
                    return None
                print(json.dumps(document, indent=2, ensure_ascii=False) if as_json else task_text(document))
                return 0
            quarantined = event_db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
            document = health(views_db, events_recorded=head, projection_lag=0, quarantined=quarantined,
                              crises=open_crises(views_db), service=running_service(home_dir))
    except sqlite3.Error:
        return None
    print(json.dumps(document, indent=2, ensure_ascii=False) if as_json else health_text(document))
    return 0


def _parse(argv: list[str]) -> tuple[str, str | None, bool, str | None] | None:
    """(command, task id, --json, --home) for the forms answered here; None for anything else."""
    words: list[str] = []
    as_json, home = False, None
    rest = iter(argv)
    for word in rest:
        if word == "--json":
            as_json = True
        elif word == "--home":
            home = next(rest, None)
            if home is None:
                return None
        elif word.startswith("--home="):
            home = word.removeprefix("--home=")
        elif word.startswith("-"):
            return None
        else:
            words.append(word)
    if words == ["status"]:
        return "status", None, as_json, home
    if len(words) == 3 and words[:2] == ["task", "show"]:
        return "task", words[2], as_json, home
    return None


class _read_only:
    """A read-only SQLite connection, closed on exit."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _current(views_db: sqlite3.Connection, needed: dict[str, int], head: int) -> bool:
    stored = {name: (version, position) for name, version, position in
              views_db.execute("SELECT name, version, position FROM projection_positions").fetchall()}
    return all(stored.get(name) == (version, head) for name, version in needed.items())


def _task(views_db: sqlite3.Connection, task_id: str) -> dict[str, Any] | None:
    row = views_db.execute(
        "SELECT task_id, agent_id, level, emergency, status, deadline FROM task_status WHERE task_id = ?", (task_id,)
    ).fetchone()
    if row is None:
        return None
    history = [
        {"at": at, "from": from_level, "to": to_level, "emergency": bool(emergency), "reason": reason}
        for at, from_level, to_level, emergency, reason in views_db.execute(
            "SELECT at, from_level, to_level, emergency, reason FROM escalation_history"
            " WHERE subject_kind = 'task' AND subject = ? ORDER BY position", (task_id,)
        ).fetchall()
    ]
    return {"task_id": row[0], "agent_id": row[1], "level": row[2], "emergency": bool(row[3]), "status": row[4],
            "deadline": row[5], "history": history}
