"""The read endpoints: tasks, agents, notifications, the audit trail, quarantine, health and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from adapters.http import auth, deps
from adapters.http.models import (
    AgentDocument,
    AgentSummary,
    Episode,
    Health,
    NotificationDocument,
    Problem,
    QuarantinedItem,
    TaskDocument,
    TaskSummary,
)
from adapters.outbox_table import STATUSES
from adapters.timeparse import parse_timestamp
from app.ports import NotFound, Queries
from domain.stages import Stage

LEVELS = tuple(stage.value for stage in Stage)
router = APIRouter(dependencies=[Depends(auth.reader)])
metrics_router = APIRouter(dependencies=[Depends(auth.reader)])
Read = Annotated[Queries, Depends(deps.queries)]
_MISSING: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{name}: {error}") from None


@router.get("/tasks", response_model=list[TaskSummary], tags=["tasks"], summary="List tasks")
async def list_tasks(
    read: Read,
    level: Annotated[str | None, Query(max_length=16)] = None,
    agent: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Any:
    """Tasks, most severe first (only those at `level`, any case, or held by `agent`; at most `limit`), as
    `coordinator task list --json`."""
    wanted = None if level is None else level.strip().upper()
    if wanted is not None and wanted not in LEVELS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"level: {level!r} is not one of {', '.join(LEVELS)}")
    return await run_in_threadpool(read.tasks, wanted, agent, limit)


@router.get("/tasks/{task_id:path}", response_model=TaskDocument, responses=_MISSING, tags=["tasks"],
            summary="Show a task")
async def show_task(task_id: str, read: Read) -> Any:
    """One task with its escalation history, as `coordinator task show ID --json`."""
    found = await run_in_threadpool(read.task, task_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(NotFound.named("task", task_id)))
    return found


@router.get("/agents", response_model=list[AgentSummary], tags=["agents"], summary="List agents")
async def list_agents(read: Read) -> Any:
    """Agents, most severe first, with the open tasks each holds, as `coordinator agent list --json`."""
    return await run_in_threadpool(read.agents)


@router.get("/agents/{agent_id:path}", response_model=AgentDocument, responses=_MISSING, tags=["agents"],
            summary="Show an agent")
async def show_agent(agent_id: str, read: Read) -> Any:
    """One agent with its history, as `coordinator agent show ID --json`."""
    found = await run_in_threadpool(read.agent, agent_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(NotFound.named("agent", agent_id)))
    return found


@router.get("/notifications", response_model=list[NotificationDocument], tags=["notifications"],
            summary="List notifications")
async def list_notifications(
    read: Read,
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50,
) -> Any:
    """Notifications, newest first, as `coordinator notifications --json`."""
    if status_ is not None and status_ not in STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"status: {status_!r} is not one of {', '.join(STATUSES)}")
    return await run_in_threadpool(read.notifications, status_, limit)


@router.get("/audit", response_model=list[Episode], tags=["audit"], summary="Crisis timelines")
async def audit(
    read: Read,
    task: Annotated[str | None, Query(max_length=512)] = None,
    agent: Annotated[str | None, Query(max_length=512)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """Crisis episodes with their steps, as `coordinator audit --json`."""
    low, high = _instant(since, "since"), _instant(until, "until")
    return await run_in_threadpool(read.audit, task, agent, low, high)


@router.get("/quarantine", response_model=list[QuarantinedItem], tags=["alerts"], summary="Quarantined input")
async def quarantine(read: Read) -> Any:
    """Input that was refused, oldest first, as `coordinator quarantine --json`."""
    return await run_in_threadpool(read.quarantine)


@router.get("/status", response_model=Health, tags=["health"], summary="Health indicators")
async def health(read: Read) -> Any:
    """The health document of `coordinator status --json`."""
    return await run_in_threadpool(read.health)


@metrics_router.get("/metrics", response_class=PlainTextResponse, tags=["health"], summary="Prometheus metrics")
async def metrics(read: Read) -> str:
    """The Prometheus text exposition of `coordinator metrics --prometheus`."""
    return await run_in_threadpool(read.prometheus)
