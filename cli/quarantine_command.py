"""`coordinator quarantine`: input that was refused, where it came from, and why."""

from __future__ import annotations

from cli.options import HomeOption, JsonOption


def quarantine(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """List quarantined input: source file, line, reason and the raw text, oldest first.

    Example: `coordinator quarantine --json`
    """
    from cli.queries import HomeQueries
    from cli.render import clip, print_json, show, table

    documents = HomeQueries(home).quarantine()
    if json_output:
        print_json(documents)
        return
    show(table(f"{len(documents)} quarantined item(s)", ["source", "line", "reason", "raw"],
               [(d["source"], d["line"], d["reason"], clip(d["raw"], 60)) for d in documents]))
