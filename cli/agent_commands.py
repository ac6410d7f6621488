"""`coordinator agent ...`: which agents are silent, and what they hold."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.help import Command, group
from cli.options import EXIT_NOT_FOUND, HomeOption, JsonOption, fail
from cli.render import say
from cli.watching import WatchOption, watched

app = group("Inspect agents: responsiveness, level and the tasks they hold.")


@app.command("show", cls=Command)
def show_agent(
    agent_id: Annotated[str, typer.Argument(metavar="AGENT_ID", help="The agent id as the alerts name it.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one agent (exit 1 if no alert named it).

    Example: `coordinator agent show working-agent --json`
    """
    from app.ports import NotFound
    from cli.queries import HomeQueries
    from cli.render import level_text, print_json, show, table

    document = HomeQueries(home).agent(agent_id)
    if document is None:
        raise fail(str(NotFound.named("agent", agent_id)), EXIT_NOT_FOUND)
    if json_output:
        print_json(document)
        return
    say(f"agent {document['agent_id']}  responsive {'yes' if document['responsive'] else 'no'}"
               f"  last activity {document['last_activity'] or '-'}")
    say(f"level {document['level']}{' (EMERGENCY)' if document['emergency'] else ''}"
               f"  open tasks {', '.join(document['tasks']) or '-'}")
    show(table("History", ["at", "from", "to", "reason"],
               [(h["at"], h["from"], level_text(h["to"], h["emergency"]), h["reason"]) for h in document["history"]]))


@app.command("list", cls=Command)
def list_agents(json_output: JsonOption = False, watch: WatchOption = None, home: HomeOption = None) -> None:
    """List agents, most severe first, with the open tasks each holds.

    Example: `coordinator agent list`
    """
    from cli.queries import HomeQueries
    from cli.render import level_text, print_json, show, table

    def draw() -> None:
        rows = HomeQueries(home).agents()
        if json_output:
            print_json(rows)
        else:
            show(table(f"{len(rows)} agent(s)", ["agent", "level", "responsive", "last activity", "open tasks"],
                       [(r["agent_id"], level_text(r["level"], r["emergency"]), "yes" if r["responsive"] else "no",
                         r["last_activity"], len(r["tasks"])) for r in rows]))

    watched(watch, draw)
