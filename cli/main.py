"""The `coordinator` command."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.help import group
from cli.lazy import lazy_group

COMMANDS = {
    "run": "cli.run_commands:run",
    "tick": "cli.run_commands:tick",
    "quarantine": "cli.quarantine_command:quarantine",
    "ack": "cli.crisis_commands:ack",
    "resolve": "cli.crisis_commands:resolve",
    "start": "cli.service_commands:start",
    "stop": "cli.service_commands:stop",
    "status": "cli.health_commands:status",
    "metrics": "cli.health_commands:metrics",
    "events": "cli.history_commands:events",
    "replay": "cli.history_commands:replay",
    "test-event": "cli.service_commands:test_event",
    "audit": "cli.audit_commands:audit",
    "doctor": "cli.doctor_command:doctor",
    "rules": "cli.rules_command:rules",
    "project": "cli.project_command:project",
    "task": "cli.task_commands:app",
    "agent": "cli.agent_commands:app",
    "notifications": "cli.notification_commands:app",
    "projections": "cli.projection_commands:app",
    "export": "cli.audit_commands:export_app",
    "mappings": "cli.mapping_commands:app",
    "store": "cli.store_commands:app",
}
"""Every command and command group, in the order help lists them, by where it lives (imported when used)."""

app = group(
    "Escalate tasks and agents from an accountability system's alerts, GREEN → YELLOW → ORANGE → RED (EMERGENCY), "
    "with a replayable event-sourced audit trail.\n\nStart with `coordinator run --once --alerts-file FILE`, then "
    "`coordinator task list`; `coordinator COMMAND -h` explains each command.",
    name="coordinator", pretty_exceptions_enable=False, invoke_without_command=True, cls=lazy_group(COMMANDS),
)


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.")] = False,
    store: Annotated[str | None, typer.Option(
        "--store", metavar="URL", show_default=False,
        help="Keep the events on this PostgreSQL server (postgresql://user:password@host:port/database) instead of "
             "the home's SQLite file; the read models are kept on that server too. Same as COORDINATOR_STORE or "
             "`store` in coordinator.toml.")] = None,
    hive: Annotated[str | None, typer.Option(
        "--hive", metavar="NAME", show_default=False,
        help="Work on this hive (one of the [hives.NAME] sections; `default` is the home's own): its tasks and "
             "agents, its alerts file and its writer. Same as COORDINATOR_HIVE.")] = None,
) -> None:
    """Escalate tasks and agents from an accountability system's alerts."""
    import os

    if store is not None:
        os.environ["COORDINATOR_STORE"] = store  # every command's settings (and a service it starts) read it
    if hive is not None:
        import re

        from adapters.home_files import HIVE_NAME

        if not re.match(HIVE_NAME, hive):
            raise typer.BadParameter("a hive's name is lower-case letters, digits and _, starting with a letter",
                                     param_hint="--hive")
        os.environ["COORDINATOR_HIVE"] = hive
    if version:
        from importlib.metadata import version as installed

        typer.echo(f"coordinator {installed('hive-coordinator')}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


if __name__ == "__main__":
    app()
