"""`coordinator audit` and `coordinator export crisis-log`: the crisis audit trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.help import Command, group
from cli.options import EXIT_USAGE, HomeOption, JsonOption, as_of_moment, fail
from cli.render import clip, say

export_app = group("Export read models in the upstream system's formats.")

SinceOption = Annotated[str | None, typer.Option("--since", metavar="WHEN", show_default=False,
                                                  help="Only episodes that started at or after this instant "
                                                  "(ISO 8601, a date, yesterday, 2h ago, @1752704400 for a Unix "
                                                  "time...).")]
UntilOption = Annotated[str | None, typer.Option("--until", metavar="WHEN", show_default=False,
                                                  help="Only episodes that started at or before this instant "
                                                  "(ISO 8601, a date, now, 2h ago, @1752704400 for a Unix time...).")]


def audit(
    task: Annotated[str | None, typer.Option("--task", help="Only this task's crises.", show_default=False)] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only crises of tasks this agent held.",
                                              show_default=False)] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Crisis timelines: each episode of a task in RED, with its ordered steps (the alert, escalations,
    notifications and their delivery, acknowledgement, resolution) and their times.

    Example: `coordinator audit --task task-106 --since 2025-07-16`
    """
    from cli.queries import HomeQueries
    from cli.render import print_json, show, table

    low = as_of_moment(since, "--since") if since is not None else None
    high = as_of_moment(until, "--until") if until is not None else None
    found = HomeQueries(home).audit(task, agent, low, high)
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo("no crisis episodes match")
        return
    for episode in found:
        ended = f"{episode['end']} at {episode['ended_at']}" if episode["ended_at"] else "still open"
        show(table(
            f"{episode['task_id']} (agent {episode['agent_id'] or '-'}): {episode['severity']} from "
            f"{episode['started_at']}, {ended}",
            ["at", "clock", "step", "detail"],
            [(step["at"], step["clock"], step["step"], _detail(step)) for step in episode["steps"]],
        ))


@export_app.command("crisis-log", cls=Command)
def export_crisis_log(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output.",
                                             show_default=False)] = None,
    home: HomeOption = None,
) -> None:
    """The crisis log as JSON Lines in the shape of the upstream `coordination_crisis_log.json`
    (timestamp, severity, original_event, coordinator_response, resolution_time).

    Example: `coordinator export crisis-log --out coordination_crisis_log.json`
    """
    from cli.queries import HomeQueries

    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        what = "is a directory" if out.is_dir() else f"is in {out.parent}, which does not exist"
        raise fail(f"--out {out} {what}: give a file in an existing directory", EXIT_USAGE)
    lines = [json.dumps(line, ensure_ascii=False) + "\n" for line in HomeQueries(home).crisis_log()]
    if out is None:
        typer.echo("".join(lines), nl=False)
    else:
        try:
            out.write_text("".join(lines), encoding="utf-8")
        except OSError as error:
            raise fail(f"cannot write {out}: {error.strerror or error}", EXIT_USAGE) from None
        say(f"{len(lines)} crisis episode(s) written to {out}", err=True)


def _detail(step: dict[str, Any]) -> str:
    detail = step["detail"]
    kind = step["step"]
    if kind == "alert":
        alert = detail.get("alert") or {}
        return f"{alert.get('type', '?')}: {alert.get('description') or alert.get('reason') or ''}".strip()
    if kind == "escalation" or kind == "de-escalated":
        return f"{detail.get('from_stage')} -> {detail.get('to_stage')}: {detail.get('reason')}"
    if kind == "notification":
        return "; ".join(f"{n['recipient']} ({n['priority']}): {clip(n['message'], 60)}"
                         for n in detail["notifications"])
    if kind == "delivery":
        outcome = "delivered" if "error" not in detail else f"failed: {detail['error']}"
        return f"{detail.get('key')} via {detail.get('channel')}: {outcome}"
    if kind == "observation":
        from cli.history_commands import observed_summary

        message = (detail.get("record") or {}).get("message")
        return observed_summary(detail) + (f": {clip(str(message), 60)}" if message else "")
    for field in ("by", "reason", "to_agent"):
        if detail.get(field):
            return str(detail[field])
    return ""
