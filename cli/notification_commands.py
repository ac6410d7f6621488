"""`coordinator notifications`: what was sent to whom, what is waiting, and re-delivering dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.outbox_table import STATUSES
from cli.options import EXIT_NOT_FOUND, EXIT_USAGE, HomeOption, JsonOption, fail, settings_for, writing

if TYPE_CHECKING:
    from cli.bootstrap import Services

app = typer.Typer(
    help="Notifications the coordinator decided to send: list them by status, re-deliver dead letters.",
    invoke_without_command=True,
    no_args_is_help=False,
)

StatusOption = Annotated[
    str | None,
    typer.Option("--status", help=f"Only notifications with this status: {', '.join(STATUSES)}.", show_default=False),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, help="Show at most this many (newest first).")]


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
    """
    if ctx.invoked_subcommand is not None:
        return
    from adapters import outbox_table
    from cli.reading import event_store
    from cli.render import print_json, show, table

    if status is not None and status not in STATUSES:
        raise fail(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}", EXIT_USAGE)
    with event_store(home) as store:
        rows = outbox_table.listing(store.cursor(), status, limit)
        counts = outbox_table.counts(store.cursor())
    documents = [_document(row) for row in rows]
    if json_output:
        print_json(documents)
        return
    summary = ", ".join(f"{counts[name]} {name}" for name in STATUSES)
    show(table(f"Notifications ({summary})", ["id", "recipient", "priority", "status", "attempts", "message"],
               [(d["id"], d["recipient"], d["priority"], d["status"], d["attempts"], _clip(d["message"]))
                for d in documents]))


@app.command()
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
    """Make dead letters deliverable again (fresh attempts) and deliver them now."""
    from cli.render import print_json

    if (notification is None) == (not dead):
        raise fail("give a notification id (or key), or --dead for all dead notifications", EXIT_USAGE)
    with writing(settings_for(home), "notifications retry") as built:
        requeued = built.ledger.requeue_notifications(built.clock.now(), None if dead else notification)
        if notification is not None and requeued == 0:
            raise fail(f"no dead or failed notification {notification!r}", EXIT_NOT_FOUND)
        report = _deliver(built)
    if json_output:
        print_json({"requeued": requeued, **report})
    else:
        typer.echo(f"{requeued} notification(s) requeued: {report['delivered']} delivered, "
                   f"{report['failed']} failed (will retry), {report['dead']} dead")


def _deliver(built: Services) -> dict[str, int]:
    report = built.dispatcher().drain()
    return {"delivered": report.delivered, "failed": report.failed, "dead": report.dead}


def _document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "key": row["key"], "subject": row["subject"], "recipient": row["recipient"],
        "priority": row["priority"], "kind": row["kind"], "status": row["status"], "attempts": row["attempts"],
        "channel": row["channel"], "requested_at": _z(row["requested_at"]), "delivered_at": _z(row["delivered_at"]),
        "next_attempt_at": _z(row["next_attempt_at"]) if row["status"] in ("pending", "failed") else None,
        "last_error": row["last_error"], "message": row["message"],
    }


def _z(text: str | None) -> str | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _clip(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
