"""`coordinator task ...`: what a task's level is, and how it got there."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.bootstrap import services
from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, as_of_moment, fail, settings_for
from cli.plain import task_text
from cli.render import history_entries, level_text, print_json, show, table, task_document, timestamp
from cli.views import catch_up
from domain.coordinator import UnknownTask
from domain.stages import Stage
from projections import queries
from projections.history import history_of

app = typer.Typer(help="Inspect tasks: their level, agent, deadline and escalation history.", no_args_is_help=True)

LEVELS = [stage.level for stage in Stage if stage is not Stage.EMERGENCY]


@app.command("show")
def show_task(
    task_id: Annotated[
        str, typer.Argument(metavar="TASK_ID", help="The task id as the alerts name it, e.g. task-123.")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Show the task as it was at this ISO 8601 instant (replayed from its events).",
                     show_default=False),
    ] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one task with its escalation history (exit 1 if no alert named it)."""
    moment = as_of_moment(at, "--at") if at is not None else None
    with services(settings_for(home)) as built:
        try:
            if moment is None:
                task = built.coordinator.get_task(task_id)
                catch_up(built.views)
                history = history_entries(history_of(built.views.db, "task", task_id))
            else:
                task, history = built.coordinator.task_as_of(task_id, moment)
        except UnknownTask:
            when = "" if moment is None else f" by {timestamp(moment)}"
            raise fail(f"unknown task '{task_id}': no alert had named it{when}", EXIT_NOT_FOUND) from None
    document = task_document(task, history)
    if json_output:
        print_json(document)
        return
    typer.echo(task_text(document))


@app.command("list")
def list_tasks(
    level: Annotated[
        str | None, typer.Option("--level", help=f"Only tasks at this level ({', '.join(LEVELS)}; any case).")
    ] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List tasks, most severe first."""
    wanted = None
    if level is not None:
        wanted = level.strip().upper()
        if wanted not in LEVELS:
            raise typer.BadParameter(f"'{level}' is not one of {', '.join(LEVELS)}", param_hint="--level")
    with services(settings_for(home)) as built:
        catch_up(built.views)
        rows = queries.tasks(built.views.db, level=wanted)
    if json_output:
        print_json([{"task_id": r["task_id"], "agent_id": r["agent_id"], "level": r["level"],
                     "emergency": bool(r["emergency"])} for r in rows])
        return
    show(table(f"{len(rows)} task(s)", ["task", "agent", "level", "status", "deadline"],
               [(r["task_id"], r["agent_id"], level_text(r["level"], r["emergency"]), r["status"], r["deadline"])
                for r in rows]))
