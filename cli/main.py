"""The `coordinator` command."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import (
    agent_commands,
    mapping_commands,
    notification_commands,
    projection_commands,
    store_commands,
    task_commands,
)
from cli.audit_commands import audit, export_app
from cli.crisis_commands import ack, resolve
from cli.doctor_command import doctor
from cli.health_commands import metrics, status
from cli.help import Command, group
from cli.history_commands import events, replay
from cli.project_command import project
from cli.quarantine_command import quarantine
from cli.rules_command import rules
from cli.run_commands import run, tick
from cli.service_commands import start, stop, test_event

app = group(
    "Escalate tasks and agents from an accountability system's alerts, GREEN → YELLOW → ORANGE → RED (EMERGENCY), "
    "with a replayable event-sourced audit trail.\n\nStart with `coordinator run --once --alerts-file FILE`, then "
    "`coordinator task list`; `coordinator COMMAND -h` explains each command.",
    name="coordinator", pretty_exceptions_enable=False, invoke_without_command=True,
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


app.command(cls=Command)(run)
app.command(cls=Command)(tick)
app.command(cls=Command)(quarantine)
app.command(cls=Command)(ack)
app.command(cls=Command)(resolve)
app.command(cls=Command)(start)
app.command(cls=Command)(stop)
app.command(cls=Command)(status)
app.command(cls=Command)(metrics)
app.command(cls=Command)(events)
app.command(cls=Command)(replay)
app.command("test-event", cls=Command)(test_event)
app.command(cls=Command)(audit)
app.command(cls=Command)(doctor)
app.command(cls=Command)(rules)
app.command(cls=Command)(project)
app.add_typer(task_commands.app, name="task")
app.add_typer(agent_commands.app, name="agent")
app.add_typer(notification_commands.app, name="notifications")
app.add_typer(projection_commands.app, name="projections")
app.add_typer(export_app, name="export")
app.add_typer(mapping_commands.app, name="mappings")
app.add_typer(store_commands.app, name="store")

if __name__ == "__main__":
    app()
