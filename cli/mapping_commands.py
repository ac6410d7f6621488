"""`coordinator mappings test`: what the mapping rules make of each record of a file, without recording anything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.help import Command, group
from cli.options import EXIT_USAGE, HomeOption, JsonOption, fail, settings_for

if TYPE_CHECKING:
    from adapters.mappings import Mappings
    from domain.alerts import Item

app = group("Mapping rules (`[[mappings]]` in coordinator.toml): records of other shapes turned into alerts.")


@app.command("test", cls=Command)
def mappings_test(
    alerts_file: Annotated[Path, typer.Argument(metavar="FILE", help="A file in any form the alerts file may take.",
                                                show_default=False)],
    rules: Annotated[Path | None, typer.Option(
        "--rules", metavar="TOML", show_default=False,
        help="Try the [[mappings]] (and [observations]) of this file instead of the home's configuration.")] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """For each record of FILE, which mapping rule matched and the alert it became; or that it is an alert as
    written, an observation, or why it would be quarantined. Nothing is recorded.

    Example: `coordinator mappings test upstream/alerts.json --rules examples/upstream-mappings.toml`
    """
    from adapters import input_limits, mappings
    from adapters.alert_file import read_alerts
    from cli.render import print_json

    settings = settings_for(home)
    if not alerts_file.is_file():
        raise fail(f"alerts file not found: {alerts_file}", EXIT_USAGE)
    input_limits.configure(settings.limits)
    mappings.configure(settings.mapping_rules if rules is None else _rules_of(rules))
    documents = [_document(item) for item in read_alerts(alerts_file)]
    if json_output:
        print_json(documents)
    else:
        _show(documents)


def _rules_of(path: Path) -> Mappings:
    """The mappings of a TOML file (exit 2 naming the file and what is wrong)."""
    import tomllib

    from pydantic import ValidationError

    from cli.settings import MappingSection, problems

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise fail(f"--rules {path}: {error.strerror or error}", EXIT_USAGE) from None
    except tomllib.TOMLDecodeError as error:
        raise fail(f"--rules {path}: not valid TOML: {error}", EXIT_USAGE) from None
    try:
        return MappingSection.model_validate(data).mapping_rules
    except ValidationError as error:
        raise fail(f"--rules {path}: invalid mappings: {problems(error)}", EXIT_USAGE) from None


def _document(item: Item) -> dict[str, Any]:
    """What became of one record: `outcome` alert (as written), mapped, observation or quarantined; the rule that
    matched, the alert it is or became, the record as written, the task and agent named, the quarantine reason."""
    from domain.alerts import Alert, Observation

    document: dict[str, Any] = {"line": item.line, "index": None, "outcome": "alert", "rule": None, "alert": None,
                                "record": None, "task_id": None, "agent_id": None, "reason": None}
    if isinstance(item, Alert):
        return {**document, "alert": dict(item.raw), "task_id": item.task_id, "agent_id": item.agent_id}
    if isinstance(item, Observation):
        mapped = item.alert
        return {**document, "index": item.index, "outcome": "observation" if mapped is None else "mapped",
                "rule": item.rule, "alert": None if mapped is None else dict(mapped.raw), "record": dict(item.raw),
                "task_id": item.task_id, "agent_id": item.agent_id}
    return {**document, "index": item.index, "outcome": "quarantined", "rule": item.rule, "reason": item.reason}


def _show(documents: list[dict[str, Any]]) -> None:
    import json

    from cli.render import clip, say, show, table

    counts = {outcome: sum(d["outcome"] == outcome for d in documents)
              for outcome in ("alert", "mapped", "observation", "quarantined")}
    show(table(f"{len(documents)} record(s): {counts['alert']} alert(s) as written, {counts['mapped']} mapped, "
               f"{counts['observation']} observation(s), {counts['quarantined']} quarantined",
               ["line", "index", "outcome", "rule", "became"],
               [(d["line"], d["index"], d["outcome"], d["rule"] or "", clip(_became(d, json.dumps), 100))
                for d in documents]))
    if not documents:
        say("the file holds no record")


def _became(document: dict[str, Any], dumps: Any) -> str:
    if document["alert"] is not None:
        return str(dumps(document["alert"], ensure_ascii=False))
    if document["outcome"] == "quarantined":
        return str(document["reason"])
    from cli.history_commands import observed_summary

    return f"kept as an observation: {observed_summary(document)}"
