"""`coordinator project`: keep the read models up to date as a process of their own."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import HomeOption, settings_for

LogFormatOption = Annotated[str, typer.Option("--log-format", metavar="text|json",
                                              help="How the log lines on standard error look.")]


def project(
    once: Annotated[bool, typer.Option("--once", help="Bring the read models up to date and exit.")] = False,
    log_format: LogFormatOption = "text",
    home: HomeOption = None,
) -> None:
    """Keep the read models up to date with the event store, until stopped (SIGTERM or Ctrl-C): the home's, or on a
    PostgreSQL store the server's own.

    On a PostgreSQL store it is woken the moment events are committed (LISTEN/NOTIFY), so every machine that only
    answers queries (the HTTP API, the dashboard, `coordinator task list`) reads fresh read models without
    catching up first; on the SQLite home it looks every second. Any number may run, on any machines: each page
    of events is applied to each read model once, in the same transaction as its position.

    Example: `coordinator --store postgresql://coordinator:secret@db:5432/hive project`
    """
    from cli.projecting import keep_current
    from cli.service_log import FORMATS, ServiceLog

    if log_format not in FORMATS:
        from cli.options import EXIT_USAGE, fail

        raise fail(f"--log-format: choose one of {', '.join(FORMATS)}", EXIT_USAGE)
    keep_current(settings_for(home), ServiceLog(log_format), once)
