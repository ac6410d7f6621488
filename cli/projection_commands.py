"""`coordinator projections`: the read models' versions and positions, and forced rebuilds."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.help import Command, group
from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, fail, settings_for

app = group("Read models (projections): their version, position and lag; rebuild them.")


@app.command("status", cls=Command)
def projections_status(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Each projection's schema version, the last event it applied, and how many events it has yet to apply.

    Example: `coordinator projections status`
    """
    from cli.bootstrap import services
    from cli.reading import existing_home
    from cli.render import print_json, show, table
    from cli.storage import guarded

    with guarded(existing_home(home)), services(settings_for(home)) as built:
        rows = built.views.status()
    if json_output:
        print_json(rows)
        return
    show(table("Projections", ["name", "version", "position", "lag"],
               [(r["name"], r["version"], r["position"], r["lag"]) for r in rows]))


@app.command("rebuild", cls=Command)
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(
        metavar="NAME", help="Only this projection: status, metrics, history or crisis. \\[default: all]",
        show_default=False)] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Drop a projection's tables and rebuild it from the start of history (others are untouched). A damaged
    read-model file is moved aside (`views.sqlite.damaged-<time>`) and every projection rebuilt.

    Example: `coordinator projections rebuild metrics`
    """
    from adapters.home_files import VIEWS_FILE
    from cli.bootstrap import services
    from cli.reading import existing_home
    from cli.render import print_json, say
    from cli.storage import damage, guarded, set_aside
    from cli.views import catch_up

    path = existing_home(home)
    with guarded(path):
        if (found := damage(path / VIEWS_FILE)) is not None:  # not for a file this user may not open: see `denied`
            kept = set_aside(path / VIEWS_FILE)
            say(f"the read models were damaged ({found}): moved aside to {kept}; rebuilding every projection",
                err=True)
            name = None
    with guarded(path), services(settings_for(home)) as built:
        views = built.views
        try:
            chosen = [views.named(name)] if name is not None else list(views.projections)
        except KeyError as error:
            raise fail(str(error.args[0]), EXIT_NOT_FOUND) from None
        for projection in chosen:
            views.rebuild(projection)
        names = [projection.name for projection in chosen]
        catch_up(views, names, force_bar=not json_output)
        events = built.ledger.max_notification_id() or 0
    if json_output:
        print_json({"rebuilt": names, "events": events})
    else:
        say(f"rebuilt {', '.join(names)} from {events:,} event(s)")
