"""`coordinator quarantine`: input that was refused, where it came from, and why."""

from __future__ import annotations

from cli.options import HomeOption, JsonOption


def quarantine(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """List quarantined input: source file, line, reason and the raw text, oldest first."""
    from adapters import quarantine_table
    from cli.reading import event_store
    from cli.render import print_json, show, table

    with event_store(home) as store:
        rows = quarantine_table.listing(store.cursor())
    documents = [{"source": r["source"], "line": r["line"], "reason": r["reason"], "raw": r["raw"]} for r in rows]
    if json_output:
        print_json(documents)
        return
    show(table(f"{len(rows)} quarantined item(s)", ["source", "line", "reason", "raw"],
               [(d["source"], d["line"], d["reason"], _clip(d["raw"])) for d in documents]))


def _clip(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
