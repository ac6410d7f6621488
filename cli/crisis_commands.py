"""`coordinator ack` and `coordinator resolve`: people taking charge of a crisis and closing it."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, fail, settings_for, writing
from cli.render import print_json, task_document, timestamp
from cli.views import catch_up
from domain.coordinator import UnknownTask

TaskArgument = Annotated[
    str, typer.Argument(metavar="TASK", help="The task id (a milestone is `milestone:<name>`).")
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is acting (recorded in the audit trail). \\[default: your user name]",
                 show_default=False),
]


def ack(task: TaskArgument, by: ByOption = None, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Acknowledge a task's crisis: the PM stops being reminded of it while it stays RED."""
    who = by or _user()
    with writing(settings_for(home), "ack") as built:
        try:
            acknowledged = built.coordinator.acknowledge(task, who, built.clock.now())
        except UnknownTask:
            raise fail(f"unknown task: {task}", EXIT_NOT_FOUND) from None
        catch_up(built.views)
    if json_output:
        print_json({**task_document(acknowledged), "acknowledged_by": who,
                    "acknowledged_at": timestamp(acknowledged.acknowledged_at)})
    else:
        typer.echo(f"{task} acknowledged by {who} at {timestamp(acknowledged.acknowledged_at)}")


def resolve(
    task: TaskArgument,
    by: ByOption = None,
    note: Annotated[str | None, typer.Option("--note", help="Why or how it was resolved.", show_default=False)] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Resolve a task by hand: it goes GREEN and completed; repeats and escalations stop."""
    who = by or _user()
    with writing(settings_for(home), "resolve") as built:
        try:
            if built.coordinator.get_task(task).resolved:
                typer.echo(f"{task} is already completed; nothing to do")
                return
            resolved = built.coordinator.resolve(task, who, built.clock.now(), note)
        except UnknownTask:
            raise fail(f"unknown task: {task}", EXIT_NOT_FOUND) from None
        catch_up(built.views)
    if json_output:
        print_json({**task_document(resolved), "resolved_by": resolved.resolved_by, "note": resolved.resolution_note})
    else:
        typer.echo(f"{task} resolved by {who}" + (f": {note}" if note else ""))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
