"""`coordinator rules`: the thresholds in force, and a picture of the escalation state machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.options import EXIT_USAGE, HomeOption, JsonOption, fail, settings_for

FORMATS = ("mermaid", "svg", "png")


def rules(
    diagram: Annotated[str | None, typer.Option(
        "--diagram", metavar="FORMAT", show_default=False,
        help="Draw the escalation state machine from the rulebook itself: mermaid (text), svg or png (need "
        "Graphviz).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the diagram to this file (with --diagram only).",
                                             show_default=False)] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The escalation rules in force: the deadline and silence thresholds, the crisis rule, the PM, repeats,
    reassignment and retries (from the configuration), and with `--diagram` the state machine that allows or
    refuses every move.

    Example: `coordinator rules --diagram mermaid --out docs/rulebook.mmd`
    """
    if diagram is not None:
        _draw(diagram, out)
        return
    if out is not None:
        raise fail("--out writes the diagram: give --diagram FORMAT too (the rules themselves print to standard "
                   "output; redirect it to keep them)", EXIT_USAGE)
    from cli.render import print_json, show, table

    document = thresholds(settings_for(home))
    if json_output:
        print_json(document)
        return
    show(table("Deadline rule", ["time window left", "level"],
               [(f"{row['at_least']:.0%}", row["level"]) for row in document["deadline"]]
               + [("deadline passed", "RED (EMERGENCY)")]))
    show(table("Silence rule", ["agent silent for more than", "level"],
               [("0 (flagged)", "YELLOW"), *((row["longer_than"], row["level"]) for row in document["silence"])]))
    show(table("Responses", ["setting", "value"], [(key, value) for key, value in document["responses"].items()]))


def thresholds(settings: Any) -> dict[str, Any]:
    """The rules' thresholds and the response settings, as plain values."""
    from domain.rules import DEADLINE_FRACTIONS, SILENCE_LIMITS, describe_duration

    def level(stage: Any) -> str:
        return f"{stage.level} (EMERGENCY)" if stage.emergency else str(stage.level)

    return {
        "deadline": [{"at_least": floor, "level": level(stage)} for floor, stage in DEADLINE_FRACTIONS],
        "silence": [{"longer_than": describe_duration(limit), "level": level(stage)}
                    for limit, stage in reversed(SILENCE_LIMITS)],
        "crisis": "a COORDINATION_CRISIS sets the level it names until a green one, a reassignment or a resolution",
        "responses": {
            "pm_agent": settings.pm_agent, "repeat_interval": describe_duration(settings.repeat_interval),
            "auto_reassign": settings.auto_reassign, "backup_pool": ", ".join(settings.backup_pool) or "-",
            "max_attempts": settings.max_attempts, "retry_base_delay": describe_duration(settings.retry_base_delay),
            "retry_max_delay": describe_duration(settings.retry_max_delay),
        },
    }


def _draw(image_format: str, out: Path | None) -> None:
    from adapters.rulebook_diagram import DiagramUnavailable, mermaid, picture

    chosen = image_format.strip().lower()
    if chosen not in FORMATS:
        raise fail(f"--diagram {image_format!r}: choose one of {', '.join(FORMATS)}", EXIT_USAGE)
    if chosen != "mermaid" and out is None:
        raise fail(f"--diagram {chosen} draws an image: give --out FILE", EXIT_USAGE)
    try:
        data = mermaid().encode() if chosen == "mermaid" else picture(chosen)
    except DiagramUnavailable as error:
        raise fail(str(error), EXIT_USAGE) from None
    if out is None:
        typer.echo(data.decode(), nl=False)
        return
    try:
        out.write_bytes(data)
    except OSError as error:
        raise fail(f"cannot write {out}: {error.strerror or error}", EXIT_USAGE) from None
    typer.echo(f"rulebook diagram ({chosen}) written to {out}", err=True)
