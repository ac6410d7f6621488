"""Rendering pages: the templates (autoescaped), the filters they use, and what every page is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from adapters.event_stream import EVENT_KINDS
from adapters.http import auth, deps
from app.ports import Queries
from domain.rules import describe_duration

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
LEVELS = ("GREEN", "YELLOW", "ORANGE", "RED")
STAGES = ("GREEN", "YELLOW", "ORANGE", "RED", "EMERGENCY")


def instant(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (None for None or anything unreadable)."""
    try:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        if not isinstance(value, str) or not value:
            return None
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # unreadable, or outside years 1-9999 once in UTC
        return None


def span(seconds: float | None) -> str:
    """A duration in words a glance can take: `45s`, `12m 30s`, `2h 05m`, `3d 04h` (as every message says it)."""
    return "—" if seconds is None else describe_duration(timedelta(seconds=seconds))


def since(value: Any, now: datetime) -> str:
    """How long ago `value` was (`—` when unknown)."""
    moment = instant(value)
    return "—" if moment is None else span((now - moment).total_seconds())


def countdown(value: Any, now: datetime) -> str:
    """A deadline as `due in 12m 00s` or `overdue by 5m 00s` (`no deadline` when there is none)."""
    moment = instant(value)
    if moment is None:
        return "no deadline"
    left = (moment - now).total_seconds()
    return f"due in {span(left)}" if left > 0 else f"overdue by {span(left)}"


def clock_text(value: Any) -> str:
    """An instant as `2025-07-16 21:48:00 UTC` (the raw text when unreadable)."""
    moment = instant(value)
    if moment is None:
        return "—" if value is None else str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def level_text(level: str, emergency: bool = False) -> str:
    """`RED · EMERGENCY` or the level itself: the level is always said in words, never by colour alone."""
    return f"{level} · EMERGENCY" if emergency else level


def task_url(task_id: str) -> str:
    """The task page's path (the id percent-encoded whole)."""
    return "/tasks/" + quote(task_id, safe="")


def iso(moment: datetime) -> str:
    """UTC text with a `Z`, as the API writes instants."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


TEMPLATES.env.filters.update(span=span, clock=clock_text, level_text=level_text, task_url=task_url)
TEMPLATES.env.globals.update(since=since, countdown=countdown, LEVELS=LEVELS, STAGES=STAGES, task_url=task_url)


def queries(request: Request) -> Queries:
    """The read side the pages answer from."""
    return deps.queries(request)


def now(request: Request) -> datetime:
    """The coordinator's current time (its injected clock)."""
    moment: datetime = request.app.state.clock.now()
    return moment.astimezone(UTC)


async def position(request: Request) -> int:
    """The event position the read models have applied: a page built after reading it misses nothing after it."""
    return await run_in_threadpool(queries(request).position)


async def page(request: Request, name: str, title: str, context: dict[str, Any], **extra: Any) -> HTMLResponse:
    """Render page template `name`: every page knows the time, its stream position, and whether a token is set."""
    access: auth.Access = request.app.state.access
    body = {
        "request": request, "title": title, "now": context.get("now") or now(request),
        "token_required": access.token is not None, "kinds": sorted(EVENT_KINDS), **context,
    }
    body["now_iso"] = iso(body["now"])
    return TEMPLATES.TemplateResponse(request, name, body, **extra)


def fragment(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a part of a page on its own (live updates swap it in)."""
    body = {"request": request, **context}
    body.setdefault("now", now(request))
    return TEMPLATES.TemplateResponse(request, name, body, status_code=status_code,
                                      headers={"Cache-Control": "no-store"})
