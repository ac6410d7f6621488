"""`coordinator ack` and `coordinator resolve`: people taking charge of a crisis and closing it."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from cli.options import HomeOption, JsonOption, settings_for
from cli.render import say

TaskArgument = Annotated[
    str, typer.Argument(metavar="TASK", help="The task id (a milestone is `milestone:<name>`).")
]


def _actor(value: str) -> str:
    """`--by` as given: someone must be named (an empty name would be recorded in the audit trail as no one)."""
    if not value.strip():
        raise typer.BadParameter("is empty: name who is acting (or leave --by out for your user name)")
    return value


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is acting (recorded in the audit trail). \\[default: your user name]",
                 show_default=False, parser=_actor, metavar="NAME"),
]


def ack(task: TaskArgument, by: ByOption = None, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Acknowledge a task's crisis: the PM stops being reminded of it while it stays RED.

    Example: `coordinator ack task-106 --by alice`
    """
    from cli import actions
    from cli.remote import carry_out, segment
    from cli.render import print_json

    who = by or _user()
    document = carry_out(settings_for(home), "ack", lambda built: actions.acknowledge(built, task, who),
                         f"/api/v1/tasks/{segment(task)}/ack", {"by": who})
    if json_output:
        print_json(document)
    elif not document["changed"]:
        say(f"{document['reason']}; nothing recorded")
    else:
        say(f"{task} acknowledged by {who} at {document['acknowledged_at']}")


def resolve(
    task: TaskArgument,
    by: ByOption = None,
    note: Annotated[str | None, typer.Option("--note", help="Why or how it was resolved.", show_default=False)] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Resolve a task by hand: it goes GREEN and completed; repeats and escalations stop.

    Example: `coordinator resolve task-106 --by bob --note "agent replaced"`
    """
    from cli import actions
    from cli.remote import carry_out, segment
    from cli.render import print_json

    who = by or _user()
    document = carry_out(settings_for(home), "resolve", lambda built: actions.resolve(built, task, who, note),
                         f"/api/v1/tasks/{segment(task)}/resolve", {"by": who, "note": note})
    if document.get("changed") is False:
        say(f"{task} is already completed; nothing to do")
    elif json_output:
        print_json(document)
    else:
        say(f"{task} resolved by {who}" + (f": {note}" if note else ""))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
