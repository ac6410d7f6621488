"""`coordinator ack` and `coordinator resolve`: people taking charge of a crisis and closing it."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, fail, settings_for, writing

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
    from cli.render import print_json, timestamp
    from cli.views import catch_up
    from domain.coordinator import UnknownTask

    who = by or _user()
    with writing(settings_for(home), "ack") as built:
        try:
            acknowledged = built.coordinator.acknowledge(task, who, built.clock.now())
        except UnknownTask:
            raise fail(f"unknown task: {task}", EXIT_NOT_FOUND) from None
        catch_up(built.views)
        document = _document(built.views.db, task)
    if json_output:
        print_json({**document, "acknowledged_by": who, "acknowledged_at": timestamp(acknowledged.acknowledged_at)})
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
    from cli.render import print_json
    from cli.views import catch_up
    from domain.coordinator import UnknownTask

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
        document = _document(built.views.db, task)
    if json_output:
        print_json({**document, "resolved_by": resolved.resolved_by, "note": resolved.resolution_note})
    else:
        typer.echo(f"{task} resolved by {who}" + (f": {note}" if note else ""))


def _document(views: Any, task: str) -> dict[str, Any]:
    from projections.queries import task_document

    document = task_document(views, task)
    assert document is not None, "a task just changed is in the read models once they caught up"
    return document


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
