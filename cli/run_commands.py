"""`coordinator run` and `coordinator tick`: feed alerts and time into the coordinator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from adapters.alert_file import read_alerts
from cli.bootstrap import Services
from cli.options import EXIT_NOT_FOUND, EXIT_USAGE, HomeOption, JsonOption, as_of_moment, fail, settings_for, writing
from cli.render import level_text, print_json, show, table, timestamp
from cli.service import Service
from cli.settings import Settings
from cli.views import catch_up
from domain.notifications import DeliveryOutcome, Notification
from projections import queries

TABLE_ROWS = 40


def run(
    once: Annotated[bool, typer.Option("--once", help="Ingest the file once, evaluate time rules, and exit.")] = False,
    alerts_file: Annotated[
        Path | None,
        typer.Option(
            "--alerts-file", envvar="COORDINATOR_ALERTS_FILE",
            help="Alerts file to read (JSON Lines, JSON array, or a document with an 'alerts'/'events' list). "
            "\\[default: ./coordination_alerts.json]",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Evaluate deadlines and silences as of this ISO 8601 time. \\[default: now]",
                     show_default=False),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any input was quarantined.")] = False,
    test_mode: Annotated[
        bool,
        typer.Option("--test-mode", help="Print every notification decided and every delivery; deliver to the "
                     "console instead of the configured channels."),
    ] = False,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Follow the alerts file and escalate tasks and agents as alerts arrive and time passes (Ctrl-C or
    SIGTERM stops it cleanly); with --once, ingest the file, evaluate time rules and exit.

    Bad input never stops the run: it is quarantined (see `coordinator quarantine`) and
    the valid alerts around it are processed. Alerts already seen are skipped, so running
    again on the same (or a grown) file only applies what is new. Following resumes where
    the last run stopped; a file that does not exist yet is waited for.
    """
    settings = settings_for(home)
    path = alerts_file or settings.alerts_file
    if not once:
        if as_of is not None or strict or json_output:
            raise fail("--as-of, --strict and --json only apply with --once", EXIT_USAGE)
        follow(settings, path, test_mode)
        return
    moment = as_of_moment(as_of)
    if not path.is_file():
        raise fail(f"alerts file not found: {path}", EXIT_USAGE)
    with writing(settings, "run --once") as built:
        newest = _newest_notification(built)
        report = built.coordinator.ingest(read_alerts(path), batch_size=settings.batch_size)
        built.coordinator.tick(moment)
        if test_mode:
            _print_decisions(built, newest)
        delivery = built.dispatcher(test_mode, _print_delivery if test_mode else None).drain()
        catch_up(built.views)
        if json_output:
            print_json(report.as_dict())
        else:
            typer.echo(
                f"{path}: {report.processed} processed, {report.duplicates} duplicates, "
                f"{report.quarantined} quarantined (as of {timestamp(moment)})"
            )
            _print_escalations(built)
            typer.echo(f"notifications: {delivery.delivered} delivered, {delivery.failed} failed (will retry), "
                       f"{delivery.dead} dead; see `coordinator notifications`")
    if strict and report.quarantined:
        raise fail(f"{report.quarantined} item(s) quarantined; see `coordinator quarantine`", EXIT_NOT_FOUND)


def tick(
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO 8601 time to evaluate at. \\[default: now]",
                                              show_default=False)] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Evaluate time rules only: record every deadline and silence threshold crossed by `--as-of`."""
    moment = as_of_moment(as_of)
    with writing(settings_for(home), "tick") as built:
        moved = built.coordinator.tick(moment)
        catch_up(built.views)
        if json_output:
            print_json({"as_of": timestamp(moment), "changed": moved})
        else:
            typer.echo(f"{moved} task(s)/agent(s) changed level as of {timestamp(moment)}")


def follow(settings: Settings, path: Path, test_mode: bool) -> None:
    """Run the coordinator as a service on `path` until stopped."""
    with writing(settings, "run") as built:
        dispatcher = built.dispatcher(test_mode, _print_delivery if test_mode else None)
        seen = [_newest_notification(built)]

        def print_decisions() -> None:
            _print_decisions(built, seen[0])
            seen[0] = _newest_notification(built)

        service = Service(built, path.absolute(), dispatcher, _log, print_decisions if test_mode else None)
        service.handle_signals()
        service.run()


def _log(message: str) -> None:
    typer.echo(f"{datetime.now(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')} {message}",
               err=True)


def _newest_notification(built: Services) -> int:
    rows = built.ledger.notifications(limit=1)
    return int(rows[0]["id"]) if rows else 0


def _print_decisions(built: Services, after: int) -> None:
    for row in reversed(built.ledger.notifications(after=after)):
        typer.echo(f"decided  {row['key']} [{row['priority']}] {row['kind']} -> {row['recipient']}: {row['message']}")


def _print_delivery(notification: Notification, outcome: DeliveryOutcome) -> None:
    result = "ok" if outcome.error is None else f"{outcome.status}: {outcome.error}"
    typer.echo(f"delivery {notification.key} via {outcome.channel} (attempt {outcome.attempt}): {result}")


def _print_escalations(built: Services) -> None:
    rows = queries.tasks(built.views.db)
    escalated = [row for row in rows if row["level"] != "GREEN"]
    shown = escalated[:TABLE_ROWS]
    show(
        table(
            f"Escalations: {len(escalated)} of {len(rows)} task(s) above GREEN",
            ["task", "agent", "level", "status", "deadline"],
            [(r["task_id"], r["agent_id"], level_text(r["level"], r["emergency"]), r["status"], r["deadline"])
             for r in shown],
        )
    )
    if len(escalated) > len(shown):
        typer.echo(f"... and {len(escalated) - len(shown)} more: coordinator task list")
