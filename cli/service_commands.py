"""`coordinator start`, `stop` and `test-event`: the seed's control script as commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from adapters.clock import clock_from_environment
from adapters.home_files import base_home
from adapters.home_lock import holder
from cli.options import (
    EXIT_BUSY,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    HomeOption,
    HttpOption,
    NoHttpOption,
    fail,
    settings_for,
    with_http,
)
from cli.render import say
from cli.run_commands import LogFormatOption, service_log
from domain.alerts import AlertType

LOG_FILE = "coordinator.log"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

AlertsFileOption = Annotated[
    Path | None,
    typer.Option("--alerts-file", envvar="COORDINATOR_ALERTS_FILE", show_default=False,
                 help="Alerts file to follow. \\[default: ./coordination_alerts.json]"),
]


def start(
    alerts_file: AlertsFileOption = None, http: HttpOption = None, no_http: NoHttpOption = False,
    log_format: LogFormatOption = "text", home: HomeOption = None,
) -> None:
    """Start the coordinator in the background, following the alerts file and serving its HTTP API; returns once
    it is ready (or, on a PostgreSQL store another coordinator writes to, once it stands by to take over). Its
    log is `<home>/coordinator.log`; `coordinator status` shows its pid, uptime and API address.

    Example: `coordinator start --alerts-file coordination_alerts.json --http 127.0.0.1:8686`
    """
    settings = with_http(settings_for(home), http, no_http)
    running = holder(settings.home)
    if running is not None:
        raise fail(f"already running (pid {running.get('pid')}, {running.get('command')}); "
                   "`coordinator stop` first", EXIT_BUSY)
    path = (alerts_file or settings.alerts_file).absolute()
    from cli.storage import guarded

    with guarded(settings.home):  # a home that cannot be made or written is said plainly
        settings.home.mkdir(parents=True, exist_ok=True)
        log = (settings.home / LOG_FILE).open("ab")
    service_log(log_format)  # an unknown format is refused here, not in the background
    serving = ["--no-http"] if no_http else ["--http", http] if http is not None else []
    serving += ["--log-format", log_format]
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "--alerts-file", str(path), "--home", str(settings.home.absolute()),
         *serving],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))},
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        running = holder(settings.home)
        if running is not None and running.get("pid") == process.pid and running.get("standby"):
            say(f"started (pid {process.pid}) as a standby: another coordinator writes to the store, and this one "
                f"takes over when it stops (`coordinator status` names the writer); log: {settings.home / LOG_FILE}")
            return
        if running is not None and running.get("pid") == process.pid and running.get("ready"):
            api = f"; HTTP API at {running['http']}" if running.get("http") else ""
            hives = running.get("hives")
            following = f"writing hives {', '.join(hives)}" if hives else f"following {path}"
            say(f"started (pid {process.pid}), {following}; log: {settings.home / LOG_FILE}{api}")
            return
        if process.poll() is not None:
            raise fail(f"the coordinator exited at once (code {process.returncode}); see {settings.home / LOG_FILE}",
                       EXIT_USAGE)
        time.sleep(0.05)
    raise fail(f"the coordinator did not start within {START_TIMEOUT:.0f} s; see {settings.home / LOG_FILE}",
               EXIT_USAGE)


def stop(home: HomeOption = None) -> None:
    """Stop the background coordinator gracefully: it finishes its current batch and flushes, then exits.

    Example: `coordinator stop`
    """
    settings = settings_for(home)
    running = holder(settings.home)
    if running is None:
        typer.echo("not running")
        return
    pid = int(running.get("pid", 0))
    base = base_home(settings.home)
    sharing = None if base == settings.home else holder(base)
    if sharing is not None and sharing.get("pid") == pid:  # a hive's writer thread, not a process of its own
        raise fail(f"hive {settings.hive} is written by the coordinator of {base} (pid {pid}), which shares every "
                   f"hive of its store: `coordinator stop --home {base}` stops it (another coordinator on the store "
                   "then takes its hives)", EXIT_USAGE)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        typer.echo("not running")
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if holder(settings.home) is None and _exited(pid):
            say(f"stopped (pid {pid})")
            return
        time.sleep(0.05)
    raise fail(f"pid {pid} did not stop within {STOP_TIMEOUT:.0f} s", EXIT_NOT_FOUND)


def test_event(
    alerts_file: AlertsFileOption = None,
    alert_type: Annotated[str, typer.Option("--type", help=f"Alert type: {', '.join(t.value for t in AlertType)}.")]
    = AlertType.COORDINATION_CRISIS.value,
    task: Annotated[str, typer.Option("--task", help="Task (or agent) the alert names.")] = "test-task",
    agent: Annotated[str, typer.Option("--agent", help="Agent the alert names.")] = "test-agent",
    home: HomeOption = None,
) -> None:
    """Append a valid synthetic alert (stamped now) to the alerts file, to see the coordinator respond.

    Example: `coordinator test-event --type AGENT_UNRESPONSIVE --agent agent-3`
    """
    settings = settings_for(home)
    try:
        kind = AlertType(alert_type.strip().upper())
    except ValueError:
        raise fail(f"unknown alert type {alert_type!r}; choose one of {', '.join(t.value for t in AlertType)}",
                   EXIT_USAGE) from None
    path = alerts_file or settings.alerts_file
    alert = synthetic(kind, task, agent, clock_from_environment().now())
    if path.is_dir():
        raise fail(f"{path} is a directory, not an alerts file (--alerts-file)", EXIT_USAGE)
    if not path.parent.is_dir():
        raise fail(f"cannot append to {path}: its directory {path.parent} does not exist (--alerts-file)", EXIT_USAGE)
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(alert, ensure_ascii=False) + "\n")
    except OSError as error:
        raise fail(f"cannot append to {path}: {error.strerror or error} (--alerts-file)", EXIT_USAGE) from None
    say(f"appended {kind.value} for {task} to {path}")


def synthetic(kind: AlertType, task: str, agent: str, now: datetime) -> dict[str, object]:
    """A valid alert of `kind` (the sample its type declares)."""
    from domain.alert_types.registry import KINDS

    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"type": kind.value, "timestamp": stamp, "test_event": True, **KINDS[kind].sample(task, agent, stamp)}


def _exited(pid: int) -> bool:
    """Whether the process has ended (a zombie waiting to be reaped has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return not Path("/proc/self").exists()  # no /proc to tell a zombie by: signal 0 is all there is
    return state == "Z"


def _root() -> str:
    return str(Path(__file__).resolve().parent.parent)
