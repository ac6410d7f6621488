"""`coordinator notifications`: what was sent to whom, what is waiting, and re-delivering dead letters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from adapters.outbox_table import STATUSES
from cli.help import Command, group
from cli.options import EXIT_USAGE, MOST_ROWS, HomeOption, JsonOption, fail, settings_for

if TYPE_CHECKING:
    pass

app = group("Notifications the coordinator decided to send: list them by status, re-deliver dead letters.\n\n"
            "Example: `coordinator notifications --status dead`",
            invoke_without_command=True, no_args_is_help=False)

StatusOption = Annotated[
    str | None,
    typer.Option("--status", help=f"Only notifications with this status: {', '.join(STATUSES)}.", show_default=False),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=MOST_ROWS,
                                          help="Show at most this many (newest first).")]


@app.callback()
def notifications(
    ctx: typer.Context,
    status: StatusOption = None,
    limit: LimitOption = 50,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List notifications, newest first: recipient, priority, status, attempts and the message.

    Statuses: pending (waiting for its first attempt), failed (will be retried), delivered, dead
    (gave up; see `coordinator notifications retry`).

    Example: `coordinator notifications --status dead`
    """
    if ctx.invoked_subcommand is not None:
        return
    from cli.queries import HomeQueries
    from cli.render import clip, print_json, say, show, table

    if status is not None and status not in STATUSES:
        raise fail(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}", EXIT_USAGE)
    read = HomeQueries(home)
    documents = read.notifications(status, limit)
    counts = read.notification_counts()
    if json_output:
        print_json(documents)
        return
    summary = ", ".join(f"{counts[name]} {name}" for name in STATUSES)
    if not documents:
        say(f"no {status} notifications (in all: {summary})" if status else "no notifications yet")
        return
    show(table(f"Notifications ({summary})", ["id", "recipient", "priority", "status", "attempts", "message"],
               [(d["id"], d["recipient"], d["priority"], d["status"], d["attempts"], clip(d["message"], 90))
                for d in documents]))


@app.command(cls=Command)
def retry(
    notification: Annotated[
        str | None,
        typer.Argument(metavar="NOTIFICATION", help="Id or idempotency key of a dead (or failed) notification.",
                       show_default=False),
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Re-deliver every dead notification.")] = False,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Make dead letters deliverable again (fresh attempts) and deliver them now.

    Example: `coordinator notifications retry --dead`
    """
    from cli import actions
    from cli.remote import carry_out
    from cli.render import print_json

    if (notification is None) == (not dead):
        raise fail("give a notification id (or key), or --dead for all dead notifications", EXIT_USAGE)
    chosen = None if dead else notification
    report = carry_out(settings_for(home), "notifications retry",
                       lambda built: actions.retry(built, built.dispatcher().drain, chosen),
                       "/api/v1/notifications/retry", {"dead": True} if dead else {"id": notification})
    if json_output:
        print_json(report)
    else:
        typer.echo(f"{report['requeued']} notification(s) requeued: {report['delivered']} delivered, "
                   f"{report['failed']} failed (will retry), {report['dead']} dead")
