"""The dashboard's main pages: the board (`/`), the agents, and a task's page (`/tasks/{id}`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.http import auth
from adapters.http.dashboard import board as boards
from adapters.http.dashboard import timeline
from adapters.http.dashboard.render import instant, now, page, position, queries
from app.ports import Document, Queries

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=512)]


def signed_out(request: Request) -> Response | None:
    """A redirect to sign in when reads need the token and the browser has no session; None when it may read."""
    if auth.may_read(request):
        return None
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(wanted, safe='')}", status_code=303)


@router.get("/", response_class=HTMLResponse)
async def board_page(request: Request, agent: Text = None, level: Text = None, q: Text = None) -> Response:
    """Every open task as a card in its level's column, with the tasks done today."""
    if (refused := signed_out(request)) is not None:
        return refused
    at, moment = await position(request), now(request)
    cards = await run_in_threadpool(queries(request).cards, None, boards.start_of_day(moment))
    filters = boards.Filters.of(agent, level, q)
    laid = boards.board(cards, filters, moment)
    return await page(request, "board.html", "Board", {
        "now": moment, "position": at, "board": laid, "filters": filters,
        "cards": boards.script_json(boards.rows(laid.kept, moment)),
    })


def agent_rows(agents: list[Document], moment: datetime) -> list[Document]:
    """Agents with how long each has been silent, the silent ones first (then most severe first)."""
    rows = []
    for agent in agents:
        last = instant(agent["last_activity"])
        silent_for = None if agent["responsive"] or last is None else (moment - last).total_seconds()
        rows.append({**agent, "silent_for": silent_for})
    return sorted(rows, key=lambda row: row["responsive"])


@router.get("/agents", response_class=HTMLResponse)
async def agents_page(request: Request) -> Response:
    """Agents: responsive or silent, for how long, their level and open tasks."""
    if (refused := signed_out(request)) is not None:
        return refused
    at, moment = await position(request), now(request)
    agents = await run_in_threadpool(queries(request).agents)
    return await page(request, "agents.html", "Agents", {
        "now": moment, "position": at, "agents": agent_rows(agents, moment),
    })


def task_context(read: Queries, task_id: str, moment: datetime) -> dict[str, Any] | None:
    """Everything the task page shows (None for an unknown task)."""
    document = read.task(task_id)
    if document is None:
        return None
    events = read.task_events(task_id) or []
    [card] = read.cards([task_id]) or [{}]
    return {
        "task": document, "card": card, "events": events,
        "timeline": timeline.timeline(document["history"], events, moment, document["status"] == "open"),
        "rows": timeline.rows(events), "episodes": read.audit(task_id), "lanes": timeline.LANE_LABELS,
    }


@router.get("/tasks/{task_id:path}", response_class=HTMLResponse)
async def task_page(request: Request, task_id: str) -> Response:
    """One task: its timeline, escalation history, crisis episodes, and the Ack and Resolve actions."""
    if (refused := signed_out(request)) is not None:
        return refused
    at, moment = await position(request), now(request)
    context = await run_in_threadpool(task_context, queries(request), task_id, moment)
    if context is None:
        return await page(request, "missing.html", "Unknown task", {"task_id": task_id}, status_code=404)
    return await page(request, "task.html", f"Task {task_id}", {"now": moment, "position": at, **context})
