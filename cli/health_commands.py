"""`coordinator status` and `coordinator metrics`: how the coordinator is doing."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.options import EXIT_USAGE, HomeOption, JsonOption, fail
from cli.watching import WatchOption, watched


def status(json_output: JsonOption = False, watch: WatchOption = None, home: HomeOption = None) -> None:
    """Health indicators: running or not, uptime, events processed, crises, deadline warnings, responses sent,
    average response time, quarantined input and projection lag.

    Example: `coordinator status --json`
    """
    from cli.present import show_health
    from cli.queries import HomeQueries
    from cli.render import print_json

    def draw() -> None:
        document = HomeQueries(home).health()
        if json_output:
            print_json(document)
        else:
            show_health(document)

    watched(watch, draw)


def metrics(
    json_output: JsonOption = False,
    prometheus: Annotated[bool, typer.Option("--prometheus", help="Print the Prometheus text exposition format.")]
    = False,
    home: HomeOption = None,
) -> None:
    """Events per hour, response times, escalations by rule and level, observations by kind and severity, agent
    responsiveness, notification delivery and SLA breaches (YELLOW 1 min, ORANGE 30 s, RED 10 s).

    Example: `coordinator metrics --prometheus`
    """
    from cli.queries import HomeQueries
    from cli.render import print_json

    if json_output and prometheus:
        raise fail("choose one of --json and --prometheus", EXIT_USAGE)
    document = HomeQueries(home).metrics()
    if prometheus:
        from projections.prometheus import prometheus_text

        typer.echo(prometheus_text(document), nl=False)
    elif json_output:
        print_json(document)
    else:
        _show(document)


def _show(document: dict[str, Any]) -> None:
    from cli.render import show, table

    notes = document["notifications"]
    timing = document["response_time"]
    typer.echo(f"notifications: {notes['requested']} requested, {notes['delivered']} delivered, "
               f"{notes['failed']} failed, {notes['dead']} dead (success rate {notes['success_rate']})")
    typer.echo(f"response time: mean {timing['mean_seconds']} s, p50 {timing['p50_seconds']} s, "
               f"p90 {timing['p90_seconds']} s over {timing['count']}")
    breaches = document["sla_breaches"]
    typer.echo(f"SLA breaches: {breaches['total']} (YELLOW {breaches['YELLOW']}, ORANGE {breaches['ORANGE']}, "
               f"RED {breaches['RED']})")
    show(table("Events per hour", ["hour (business time)", "events"],
               [(row["hour"], row["events"]) for row in document["events_per_hour"]]))
    show(table("Escalations", ["kind", "rule", "level", "count"],
               [(row["kind"], row["rule"], row["level"] + (" (EMERGENCY)" if row["emergency"] else ""),
                 row["count"]) for row in document["escalations"]]))
    if document["observations"]:
        show(table("Observations (records of the hive that are no alert)",
                   ["event_type", "alert_type", "severity", "count", "mapped to alerts"],
                   [(row["event_type"], row["alert_type"], row["severity"], row["count"], row["mapped"])
                    for row in document["observations"]]))
    show(table("Agent responsiveness", ["agent", "flagged", "seen", "rate"],
               [(row["agent_id"], row["flagged"], row["seen"], row["rate"])
                for row in document["agent_responsiveness"]]))
