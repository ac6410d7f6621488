"""`coordinator run` and `coordinator tick`: feed alerts and time into the coordinator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.options import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    HomeOption,
    HttpOption,
    JsonOption,
    NoHttpOption,
    as_of_moment,
    fail,
    settings_for,
    with_http,
)


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
        typer.Option("--as-of", metavar="WHEN", show_default=False,
                     help="Evaluate deadlines and silences as of this instant (ISO 8601, a date, now, 2h ago, "
                     "@1752704400 for a Unix time...). \\[default: now]"),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if this run quarantined any input (input "
                                         "quarantined by an earlier run counts as a duplicate).")] = False,
    test_mode: Annotated[
        bool,
        typer.Option("--test-mode", help="Print every notification decided and every delivery; deliver to the "
                     "console instead of the configured channels."),
    ] = False,
    json_output: JsonOption = False,
    http: HttpOption = None,
    no_http: NoHttpOption = False,
    log_format: LogFormatOption = "text",
    home: HomeOption = None,
) -> None:
    """Follow the alerts file and escalate tasks and agents as alerts arrive and time passes (Ctrl-C or
    SIGTERM stops it cleanly); with --once, ingest the file, evaluate time rules and exit.

    Bad input never stops the run: it is quarantined (see `coordinator quarantine`) and
    the valid alerts around it are processed. Alerts already seen are skipped, so running
    again on the same (or a grown) file only applies what is new. Following resumes where
    the last run stopped; a file that does not exist yet is waited for.

    Example: `coordinator run --once --alerts-file coordination_alerts.json --as-of 2025-07-16T22:30:00Z`
    """
    from cli import running

    settings = settings_for(home)
    path = alerts_file or settings.alerts_file
    if path.is_dir():
        raise fail(f"{path} is a directory, not an alerts file (--alerts-file)", EXIT_USAGE)
    if not once:
        if as_of is not None or strict or json_output:
            raise fail("--as-of, --strict and --json only apply with --once", EXIT_USAGE)
        running.follow(with_http(settings, http, no_http), path, test_mode, service_log(log_format))
        return
    if http is not None or no_http or log_format != "text":
        raise fail("--http, --no-http and --log-format only apply to the service (without --once)", EXIT_USAGE)
    moment = as_of_moment(as_of)
    if not path.is_file():
        what = "not found" if not path.exists() else "not a regular file (a device or a FIFO?)"
        raise fail(f"alerts file {what}: {path} (--alerts-file)", EXIT_USAGE)
    quarantined = running.once(settings, path, moment, test_mode, json_output)
    if strict and quarantined:
        raise fail(f"{quarantined} item(s) quarantined; see `coordinator quarantine`", EXIT_NOT_FOUND)


LogFormatOption = Annotated[str, typer.Option("--log-format", metavar="FORMAT",
                                             help="How the service logs to standard error: text or json.")]


def service_log(log_format: str) -> Any:
    """The service's log in `log_format` (exit 2 for an unknown one)."""
    from cli.service_log import ServiceLog

    try:
        return ServiceLog(log_format)
    except ValueError as error:
        raise fail(f"--log-format: {error}", EXIT_USAGE) from None


def tick(
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="WHEN", show_default=False,
                                              help="The instant to evaluate at (ISO 8601, a date, now, 2h ago, "
                                              "@1752704400 for a Unix time...). \\[default: now]")] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Evaluate time rules only: record every deadline and silence threshold crossed by `--as-of`, then deliver
    the notifications now due (those crossings' and any retries).

    Example: `coordinator tick --as-of 2025-07-16T23:00:00Z`
    """
    from cli import running

    running.tick(settings_for(home), as_of_moment(as_of), json_output)
