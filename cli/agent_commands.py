"""`coordinator agent ...`: which agents are silent, and what they hold."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.bootstrap import services
from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, fail, settings_for
from cli.render import agent_document, history_entries, level_text, print_json, show, table
from cli.views import catch_up
from domain.coordinator import UnknownAgent
from projections import queries
from projections.history import history_of

app = typer.Typer(help="Inspect agents: responsiveness, level and the tasks they hold.", no_args_is_help=True)


@app.command("show")
def show_agent(
    agent_id: Annotated[str, typer.Argument(metavar="AGENT_ID", help="The agent id as the alerts name it.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one agent (exit 1 if no alert named it)."""
    with services(settings_for(home)) as built:
        try:
            agent = built.coordinator.get_agent(agent_id)
        except UnknownAgent:
            raise fail(f"unknown agent '{agent_id}': no alert has named it", EXIT_NOT_FOUND) from None
        catch_up(built.views)
        held = queries.open_tasks_of(built.views.db, agent_id)
        history = history_entries(history_of(built.views.db, "agent", agent_id))
    document = agent_document(agent, held, history)
    if json_output:
        print_json(document)
        return
    typer.echo(f"agent {document['agent_id']}  responsive {'yes' if document['responsive'] else 'no'}"
               f"  last activity {document['last_activity'] or '-'}")
    typer.echo(f"level {document['level']}{' (EMERGENCY)' if document['emergency'] else ''}"
               f"  open tasks {', '.join(held) or '-'}")
    show(table("History", ["at", "from", "to", "reason"],
               [(h["at"], h["from"], level_text(h["to"], h["emergency"]), h["reason"]) for h in document["history"]]))


@app.command("list")
def list_agents(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """List agents, most severe first, with the open tasks each holds."""
    with services(settings_for(home)) as built:
        catch_up(built.views)
        rows = queries.agents(built.views.db)
    if json_output:
        print_json(rows)
        return
    show(table(f"{len(rows)} agent(s)", ["agent", "level", "responsive", "last activity", "open tasks"],
               [(r["agent_id"], level_text(r["level"], r["emergency"]), "yes" if r["responsive"] else "no",
                 r["last_activity"], len(r["tasks"])) for r in rows]))
