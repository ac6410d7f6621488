"""Options shared by every command, and the helpers that turn them into settings.

Command modules are imported whenever `coordinator` starts, so this module and they import only what parsing
needs: everything heavier is imported inside the command that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from adapters.home_lock import HomeLock
    from adapters.postgres_lease import WriterLease
    from cli.bootstrap import Services
    from cli.settings import Settings

def _home(value: str) -> Path:
    """`--home` as given: an empty one is refused (it would quietly be the current directory)."""
    if not value.strip():
        raise typer.BadParameter("is empty: name the home's directory (or leave --home out for ./.coordinator)")
    return Path(value)


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="COORDINATOR_HOME",
        help="Directory holding the coordinator's state (event store, read models). \\[default: ./.coordinator]",
        show_default=False, parser=_home, metavar="PATH",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print stable machine-readable JSON instead of a table.")]

HttpOption = Annotated[
    str | None,
    typer.Option("--http", metavar="HOST:PORT", show_default=False,
                 help="Serve the HTTP API here (port 0 picks a free one). "
                 "\\[default: \\[http] listen, 127.0.0.1:8686]"),
]
NoHttpOption = Annotated[bool, typer.Option("--no-http", help="Serve no HTTP API.")]

MOST_ROWS = 1_000_000_000
"""The largest count or `--limit` a listing takes (a larger one is a usage error, not an overflow in the store)."""

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
"""Another coordinator process is writing to the home."""
EXIT_DAMAGED = 4
"""A file of the home is damaged (the message says which, and how to recover)."""
EXIT_FULL = 5
"""No space left on the device while writing (nothing was half-written)."""
EXIT_UNREACHABLE = 6
"""The PostgreSQL server holding the events cannot be reached (or refused the connection, or the role lacks a
right it needs)."""


def settings_for(home: Path | None, **overrides: Any) -> Settings:
    """Settings for `--home` (defaults < coordinator.toml < environment < options); a bad config exits 2."""
    from adapters.home_files import home_path
    from cli.settings import ConfigError, load_settings

    chosen = home_path(home)
    if chosen.exists() and not chosen.is_dir():
        raise fail(f"--home {chosen} is a file, not a coordinator home directory", EXIT_USAGE)
    try:
        return load_settings(home, **overrides)
    except ConfigError as error:
        raise fail(str(error), EXIT_USAGE) from None


def as_of_moment(value: str | None, option: str = "--as-of") -> datetime:
    """Parse an instant option (ISO 8601, a date, `now`, `yesterday`, `2h`, `@1752704400`...; see `cli.when`); now
    when absent."""
    from adapters.clock import clock_from_environment
    from cli.when import parse_when

    now = clock_from_environment().now()
    if value is None:
        return now
    try:
        return parse_when(value, now)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


def fail(message: str, code: int) -> typer.Exit:
    """Print `message` to stderr and return the Exit to raise."""
    from adapters.terminal import visible

    typer.echo(f"Error: {visible(message)}", err=True)
    return typer.Exit(code)


@contextmanager
def writing(
    settings: Settings, command: str, lease: WriterLease | None = None, lock: HomeLock | None = None,
) -> Iterator[Services]:
    """The services, holding the home's writer lock for `command` and a PostgreSQL store's writer lease (`lock`
    and `lease` if already taken): exit 3 naming the holder if either is taken."""
    from adapters.home_lock import HomeLocked
    from cli.bootstrap import services
    from cli.storage import guarded

    held: tuple[type[Exception], ...] = (HomeLocked,)
    if settings.store is not None:
        from adapters.postgres_lease import LeaseHeld

        held = (HomeLocked, LeaseHeld)
    try:
        with guarded(settings.home), services(settings, writer=command, lease=lease, lock=lock) as built:
            yield built
    except held as error:
        raise fail(str(error), EXIT_BUSY) from None


def with_http(settings: Settings, listen: str | None, off: bool) -> Settings:
    """`settings` with the HTTP API moved to `listen` (`--http`) or turned off (`--no-http`)."""
    if listen is not None and off:
        raise fail("choose one of --http and --no-http", EXIT_USAGE)
    if listen is None and not off:
        return settings
    from adapters.http.address import ListenError, parse_listen

    if listen is not None:
        try:
            parse_listen(listen)
        except ListenError as error:
            raise fail(f"--http: {error}", EXIT_USAGE) from None
    changes: dict[str, Any] = {"enabled": False} if off else {"listen": listen, "enabled": True}
    return settings.model_copy(update={"http": settings.http.model_copy(update=changes)})
