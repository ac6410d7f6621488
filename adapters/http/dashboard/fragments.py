"""Parts of pages rendered alone, for live updates: the page asks for what the events it saw changed.

Each takes `after`, the position of the newest event the page saw, and answers once the read models have applied
it, so what the page shows next is never older than what it was told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from adapters.http import auth, deps
from adapters.http.bodies import json_route
from adapters.http.dashboard import board as boards
from adapters.http.dashboard.pages import agent_rows, task_context
from adapters.http.dashboard.render import fragment, now, position, queries
from adapters.http.dashboard.reports import crisis_context, crisis_status, health_context
from adapters.http.events import LAST_POSITION
from app.ports import Commands

router = APIRouter(prefix="/fragments", include_in_schema=False, dependencies=[Depends(auth.reader)],
                   route_class=json_route(auth.reader))
CATCH_UP_WAIT = 3.0
After = Annotated[int | None, Query(ge=0, le=LAST_POSITION)]
Bound = Annotated[str | None, Query(max_length=64)]


async def caught_up(request: Request, after: int | None) -> None:
    """Make sure the read models have applied the event at `after`: when they have not, the writer brings them up
    to date (it does so between its batches; waiting at most `CATCH_UP_WAIT` seconds for it)."""
    if after is None or await position(request) >= after:
        return
    write: Commands = deps.commands(request)
    with contextlib.suppress(TimeoutError, RuntimeError):
        await asyncio.wait_for(run_in_threadpool(write.catch_up), CATCH_UP_WAIT)


class CardsWanted(BaseModel):
    """The tasks whose cards the page wants again, and the newest event it saw."""

    ids: list[Annotated[str, Field(max_length=512)]] = Field(max_length=5_000)
    after: int | None = Field(default=None, ge=0, le=LAST_POSITION)


@router.post("/cards")
async def cards(request: Request, wanted: CardsWanted) -> Response:
    """The cards of the tasks asked for, as the board's script gets them (`board.ROW`; a task completed before
    today is marked gone)."""
    await caught_up(request, wanted.after)
    moment = now(request)
    found = await run_in_threadpool(queries(request).cards, wanted.ids)
    return Response(json.dumps(boards.rows(found, moment), separators=(",", ":")), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.get("/agents", response_class=HTMLResponse)
async def agents(request: Request, after: After = None) -> Response:
    """The agents table."""
    await caught_up(request, after)
    moment = now(request)
    found = await run_in_threadpool(queries(request).agents)
    return fragment(request, "_agents.html", {"agents": agent_rows(found, moment), "now": moment})


@router.get("/tasks/{task_id:path}", response_class=HTMLResponse)
async def task(request: Request, task_id: str, after: After = None) -> Response:
    """The live part of a task's page: its standing, timeline, history and episodes."""
    await caught_up(request, after)
    moment = now(request)
    context = await run_in_threadpool(task_context, queries(request), task_id, moment)
    if context is None:
        return HTMLResponse("", status_code=404)
    return fragment(request, "_task_live.html", {"now": moment, **context})


@router.get("/crisis", response_class=HTMLResponse)
async def crisis(request: Request, since: Bound = None, until: Bound = None, after: After = None) -> Response:
    """The crisis log table (within the range asked for)."""
    await caught_up(request, after)
    context = await run_in_threadpool(crisis_context, queries(request), since, until)
    return fragment(request, "_crisis.html", context, status_code=crisis_status(context))


@router.get("/health", response_class=HTMLResponse)
async def health(request: Request, after: After = None) -> Response:
    """The health indicators and charts."""
    await caught_up(request, after)
    context = await run_in_threadpool(health_context, queries(request))
    return fragment(request, "_health.html", context)
