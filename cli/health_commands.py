"""`coordinator status` and `coordinator metrics`: how the coordinator is doing."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.home_lock import running_service
from cli.bootstrap import Services, services
from cli.options import EXIT_USAGE, HomeOption, JsonOption, fail, settings_for
from cli.plain import health_text
from cli.render import print_json, show, table
from cli.views import catch_up
from projections.health import health, open_crises


def status(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Health indicators: running or not, uptime, events processed, crises, deadline warnings, responses sent,
    average response time, quarantined input and projection lag."""
    with services(settings_for(home)) as built:
        catch_up(built.views)
        document = health_document(built)
    if json_output:
        print_json(document)
    else:
        typer.echo(health_text(document))


def health_document(built: Services) -> dict[str, Any]:
    """The health indicators for this home."""
    ledger = built.ledger
    return health(
        built.views.db,
        events_recorded=ledger.max_notification_id() or 0,
        projection_lag=built.views.lag(),
        quarantined=ledger.quarantine_count(),
        crises=open_crises(built.views.db),
        service=running_service(built.settings.home),
    )


def metrics(
    json_output: JsonOption = False,
    prometheus: Annotated[bool, typer.Option("--prometheus", help="Print the Prometheus text exposition format.")]
    = False,
    home: HomeOption = None,
) -> None:
    """Events per hour, response times, escalations by rule and level, agent responsiveness, notification
    delivery and SLA breaches (YELLOW 1 min, ORANGE 30 s, RED 10 s)."""
    if json_output and prometheus:
        raise fail("choose one of --json and --prometheus", EXIT_USAGE)
    from projections.metrics import metrics as metrics_document
    from projections.prometheus import prometheus_text

    with services(settings_for(home)) as built:
        catch_up(built.views)
        document = metrics_document(built.views.db)
    if prometheus:
        typer.echo(prometheus_text(document), nl=False)
    elif json_output:
        print_json(document)
    else:
        _show(document)


def _show(document: dict[str, Any]) -> None:
    notes = document["notifications"]
    timing = document["response_time"]
    typer.echo(f"notifications: {notes['requested']} requested, {notes['delivered']} delivered, "
               f"{notes['failed']} failed, {notes['dead']} dead (success rate {notes['success_rate']})")
    typer.echo(f"response time: mean {timing['mean_seconds']} s, p50 {timing['p50_seconds']} s, "
               f"p90 {timing['p90_seconds']} s over {timing['count']}")
    breaches = document["sla_breaches"]
    typer.echo(f"SLA breaches: {breaches['total']} (YELLOW {breaches['YELLOW']}, ORANGE {breaches['ORANGE']}, "
               f"RED {breaches['RED']})")
    show(table("Escalations", ["kind", "rule", "level", "count"],
               [(row["kind"], row["rule"], row["level"] + (" (EMERGENCY)" if row["emergency"] else ""),
                 row["count"]) for row in document["escalations"]]))
    show(table("Agent responsiveness", ["agent", "flagged", "seen", "rate"],
               [(row["agent_id"], row["flagged"], row["seen"], row["rate"])
                for row in document["agent_responsiveness"]]))
