"""`coordinator task ...`: what a task's level is, and how it got there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cli.help import Command, group
from cli.options import EXIT_NOT_FOUND, MOST_ROWS, HomeOption, JsonOption, as_of_moment, fail
from cli.watching import WatchOption, watched
from domain.stages import Stage

app = group("Inspect tasks: their level, agent, deadline and escalation history.")
LEVELS = [stage.value for stage in Stage]
"""The levels a listing can be narrowed to (EMERGENCY: RED's last stage)."""


@app.command("show", cls=Command)
def show_task(
    task_id: Annotated[
        str, typer.Argument(metavar="TASK_ID", help="The task id as the alerts name it, e.g. task-123.")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="WHEN", show_default=False,
                     help="Show the task as it was at this instant (ISO 8601, a date, yesterday, 2h ago, "
                     "@1752704400 for a Unix time...), replayed from its events."),
    ] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one task with its escalation history (exit 1 if no alert named it).

    Example: `coordinator task show task-101 --at 2025-07-16T21:00:00Z`
    """
    from app.ports import NotFound
    from cli.present import show_task
    from cli.render import print_json, timestamp

    moment = as_of_moment(at, "--at") if at is not None else None
    document = _as_of(task_id, moment, home) if moment is not None else _now(task_id, home)
    if document is None:
        when = "" if moment is None else f" by {timestamp(moment)}"
        raise fail(str(NotFound.named("task", task_id, when)), EXIT_NOT_FOUND)
    if json_output:
        print_json(document)
        return
    show_task(document)


def _now(task_id: str, home: HomeOption) -> dict[str, object] | None:
    from cli.queries import HomeQueries

    return HomeQueries(home).task(task_id)


def _as_of(task_id: str, moment: datetime, home: HomeOption) -> dict[str, object] | None:
    """The task as it was at `moment`, replayed from its events."""
    from app.failures import UnknownTask
    from cli.bootstrap import services
    from cli.options import settings_for
    from cli.reading import existing_home
    from cli.render import history_rows, task_fields
    from cli.storage import guarded
    from projections.queries import document_of_task

    with guarded(existing_home(home)), services(settings_for(home)) as built:
        try:
            task, history = built.coordinator.task_as_of(task_id, moment)
        except UnknownTask:
            return None
    return document_of_task(task_fields(task), history_rows(history))


@app.command("list", cls=Command)
def list_tasks(
    level: Annotated[
        str | None, typer.Option("--level", help=f"Only tasks at this level ({', '.join(LEVELS)}; any case).")
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only tasks this agent holds.", show_default=False)]
    = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=MOST_ROWS, show_default=False,
                                              help="Show at most this many (most severe first).")] = None,
    json_output: JsonOption = False,
    watch: WatchOption = None,
    home: HomeOption = None,
) -> None:
    """List tasks, most severe first.

    Example: `coordinator task list --level red --agent working-agent --limit 20`
    """
    from cli.queries import HomeQueries
    from cli.render import level_text, print_json, say, show, table

    wanted = None
    if level is not None:
        wanted = level.strip().upper()
        if wanted not in LEVELS:
            raise typer.BadParameter(f"'{level}' is not one of {', '.join(LEVELS)}", param_hint="--level")
    def draw() -> None:
        rows = HomeQueries(home).tasks(wanted, agent, limit)
        if json_output:
            print_json(rows)
        elif not rows:
            say("no tasks match" if level or agent else "no tasks yet: no alert has named one")
        else:
            show(table(f"{len(rows)} task(s)", ["task", "agent", "level", "status", "deadline", "acknowledged by"],
                       [(r["task_id"], r["agent_id"], level_text(r["level"], r["emergency"]), r["status"],
                         r["deadline"], r["acknowledged_by"]) for r in rows]))

    watched(watch, draw)
