"""`coordinator store`: where the events are kept, and moving a home's history to PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.help import Command, group
from cli.options import EXIT_BUSY, EXIT_USAGE, HomeOption, JsonOption, fail, settings_for

if TYPE_CHECKING:
    from adapters.postgres_store import PostgresStore
    from adapters.store_migration import Migrated

app = group("The event store: move a home's history to a PostgreSQL server.")


@app.command("migrate", cls=Command)
def migrate(
    to: Annotated[str, typer.Option("--to", metavar="URL", show_default=False,
                                    help="The PostgreSQL database to copy into "
                                         "(postgresql://user:password@host:port/database); it must hold no events.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Copy the home's whole history (events, snapshots, accepted alerts, quarantine, outbox and delivery state)
    into an empty PostgreSQL database, in one transaction, with a progress bar.

    Nothing is sent again: delivered notifications stay delivered. Stop the coordinator writing to the home first.
    Afterwards point every coordinator at the server (`store = "postgresql://..."` in coordinator.toml, or
    COORDINATOR_STORE) and check the copy with `coordinator --store URL replay --verify`.

    Example: `coordinator store migrate --to postgresql://coordinator:secret@db:5432/hive`
    """
    from adapters import store_url
    from adapters.home_files import EVENTS_FILE
    from cli.bootstrap import services
    from cli.reading import existing_home
    from cli.render import print_json, say
    from cli.storage import guarded

    try:
        target_url = store_url.check(to)
    except ValueError as error:
        raise fail(f"--to: {error}", EXIT_USAGE) from None
    path = existing_home(home)
    if not (path / EVENTS_FILE).is_file():
        raise fail(f"{path} keeps no events of its own to migrate (no {EVENTS_FILE})", EXIT_USAGE)
    source_settings = settings_for(home).model_copy(update={"store": None})
    with guarded(path), services(source_settings, writer="store migrate"):  # today's tables; nobody else writes
        from adapters.postgres_lease import LeaseHeld, WriterLease
        from adapters.postgres_open import EventSource

        try:
            lease = WriterLease(target_url, "store migrate").acquire()
        except LeaseHeld as error:
            raise fail(str(error), EXIT_BUSY) from None
        try:
            target = EventSource(target_url)
            try:
                done = _copy(path / EVENTS_FILE, target.recorder, json_output)
            finally:
                target.application.close()
        finally:
            lease.release()
    if json_output:
        print_json({"to": store_url.redacted(target_url), **done.as_dict()})
        return
    say(f"copied {done.events:,} events, {done.snapshots:,} snapshots, {done.alerts:,} accepted alerts, "
        f"{done.notifications:,} notifications and {done.quarantined:,} quarantined items to "
        f"{store_url.redacted(target_url)}; check it with `coordinator --store URL replay --verify`")


def _copy(source: Path, target: PostgresStore, quiet: bool) -> Migrated:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from adapters.store_migration import TargetNotEmpty, count_events, migrate

    total = count_events(source)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True), disable=quiet) as progress:
            bar = progress.add_task("copying events", total=max(total, 1))
            return migrate(source, target, lambda count: progress.advance(bar, count))
    except TargetNotEmpty as error:
        raise fail(str(error), EXIT_USAGE) from None
