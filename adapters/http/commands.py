"""The command endpoints: acknowledge and resolve a task, deliver notifications again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from starlette.concurrency import run_in_threadpool

from adapters.http import auth, deps
from adapters.http.bodies import json_route
from adapters.http.models import (
    AcknowledgedTask,
    AckRequest,
    Problem,
    ResolvedTask,
    ResolveRequest,
    RetryRequest,
    RetryResult,
)
from app.ports import Commands, NotFound

router = APIRouter(dependencies=[Depends(auth.writer)], route_class=json_route(auth.writer))
Write = Annotated[Commands, Depends(deps.commands)]
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 404: {"model": Problem},
                                            415: {"model": Problem}}


async def _carry_out(call: Any, *args: Any) -> Any:
    try:
        return await run_in_threadpool(call, *args)
    except NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@router.post("/tasks/{task_id:path}/ack", response_model=AcknowledgedTask, responses=_ERRORS, tags=["tasks"],
             summary="Acknowledge a task's crisis")
async def acknowledge(task_id: str, request: AckRequest, write: Write) -> Any:
    """Someone takes charge: the PM stops being reminded of the task while it stays RED."""
    return await _carry_out(write.acknowledge, task_id, request.by)


@router.post("/tasks/{task_id:path}/resolve", response_model=ResolvedTask, responses=_ERRORS, tags=["tasks"],
             summary="Resolve a task")
async def resolve(task_id: str, request: ResolveRequest, write: Write) -> Any:
    """Close the task by hand: GREEN and completed; repeats and escalations stop."""
    return await _carry_out(write.resolve, task_id, request.by, request.note)


@router.post("/notifications/retry", response_model=RetryResult, responses=_ERRORS, tags=["notifications"],
             summary="Deliver notifications again")
async def retry(request: RetryRequest, write: Write) -> Any:
    """Make one dead (or failed) notification (`id`: its id or key), or every dead one (`dead`), deliverable
    again and deliver them now."""
    if (request.id is None) == (not request.dead):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "give an id (or key), or dead: true")
    return await _carry_out(write.retry, None if request.dead else str(request.id))
