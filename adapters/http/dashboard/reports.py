"""The dashboard's report pages: the crisis log (and its export), health and metrics, and the rules."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.http.dashboard import charts, rules
from adapters.http.dashboard.pages import signed_out
from adapters.http.dashboard.render import instant, now, page, position, queries
from app.ports import Queries

router = APIRouter(include_in_schema=False)
Bound = Annotated[str | None, Query(max_length=64)]


def bounds(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None, list[str]]:
    """The time range asked for (a `datetime-local` value is read as UTC), and what could not be read."""
    found, problems = [], []
    for name, value in (("from", since), ("to", until)):
        moment = instant(value) if value else None
        if value and moment is None:
            problems.append(f"{name}: {value!r} {_unreadable(value)}")
        found.append(moment)
    return found[0], found[1], problems


def _unreadable(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "is not a date and time"
    return "is outside years 1-9999 once in UTC"


def crisis_status(context: dict[str, Any]) -> int:
    """422 when the range asked for could not be read (the page says why), else 200."""
    return status.HTTP_422_UNPROCESSABLE_ENTITY if context["problems"] else status.HTTP_200_OK


def crisis_context(read: Queries, since: str | None, until: str | None) -> dict[str, Any]:
    low, high, problems = bounds(since, until)
    episodes = read.audit(None, None, low, high)
    return {"episodes": list(reversed(episodes)), "since": since or "", "until": until or "", "problems": problems}


@router.get("/crisis", response_class=HTMLResponse)
async def crisis_page(request: Request, since: Bound = None, until: Bound = None) -> Response:
    """Crisis episodes, newest first: start, severity, who was told what, acknowledgement, resolution."""
    if (refused := signed_out(request)) is not None:
        return refused
    at = await position(request)
    context = await run_in_threadpool(crisis_context, queries(request), since, until)
    return await page(request, "crisis.html", "Crisis log", {"position": at, **context},
                      status_code=crisis_status(context))


@router.get("/crisis/export")
async def crisis_export(request: Request) -> Response:
    """The crisis log as `coordination_crisis_log.json` lines (one JSON object a line), to download."""
    if (refused := signed_out(request)) is not None:
        return refused
    lines = await run_in_threadpool(queries(request).crisis_log)
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return Response(body, media_type="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="coordination_crisis_log.json"', "Cache-Control": "no-store"})


def health_context(read: Queries) -> dict[str, Any]:
    metrics = read.metrics()
    return {
        "health": read.health(), "metrics": metrics,
        "per_hour": charts.events_per_hour(metrics["events_per_hour"]),
        "escalations": charts.escalations(metrics["escalations"]),
        "delivery": charts.delivery(metrics["notifications"]),
        "responses": charts.response_times(read.response_times()), "sla": charts.SLA,
    }


@router.get("/health", response_class=HTMLResponse)
async def health_page(request: Request) -> Response:
    """The health indicators and the metrics' charts."""
    if (refused := signed_out(request)) is not None:
        return refused
    at = await position(request)
    context = await run_in_threadpool(health_context, queries(request))
    return await page(request, "health.html", "Health and metrics", {"position": at, **context})


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(request: Request) -> Response:
    """The escalation state machine, drawn from the rulebook, and the thresholds in force."""
    if (refused := signed_out(request)) is not None:
        return refused
    return await page(request, "rules.html", "Rules", {
        "now": now(request), "diagram": rules.diagram(), "moves": rules.moves(), "thresholds": rules.thresholds(),
    })
