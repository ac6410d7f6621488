"""The `coordinator` command."""

from __future__ import annotations

import typer

from cli import agent_commands, notification_commands, projection_commands, task_commands
from cli.audit_commands import audit, export_app
from cli.crisis_commands import ack, resolve
from cli.doctor_command import doctor
from cli.health_commands import metrics, status
from cli.history_commands import events, replay
from cli.quarantine_command import quarantine
from cli.run_commands import run, tick
from cli.service_commands import start, stop, test_event

app = typer.Typer(
    name="coordinator",
    help="Escalate tasks and agents from an accountability system's alerts, "
    "GREEN -> YELLOW -> ORANGE -> RED (EMERGENCY), with a replayable event-sourced audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(run)
app.command()(tick)
app.command()(quarantine)
app.command()(ack)
app.command()(resolve)
app.command()(start)
app.command()(stop)
app.command()(status)
app.command()(metrics)
app.command()(events)
app.command()(replay)
app.command("test-event")(test_event)
app.command()(audit)
app.command()(doctor)
app.add_typer(task_commands.app, name="task")
app.add_typer(agent_commands.app, name="agent")
app.add_typer(notification_commands.app, name="notifications")
app.add_typer(projection_commands.app, name="projections")
app.add_typer(export_app, name="export")

if __name__ == "__main__":
    app()
