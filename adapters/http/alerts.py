"""`POST /api/v1/alerts` and `POST /api/v1/alertmanager`: alerts over HTTP, recorded before the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from adapters import alertmanager
from adapters.alert_body import JSON_TYPES, LINES_TYPES, parse_body
from adapters.alert_file import Item
from adapters.alert_json import loads
from adapters.http import auth, deps
from adapters.http.bodies import media_type
from adapters.http.models import IngestResult, Problem
from app.ports import Commands
from domain.alerts import Quarantined

router = APIRouter(tags=["alerts"], dependencies=[Depends(auth.writer)])
SOURCE = "http"
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "The body is not JSON (it is quarantined)."},
    401: {"model": Problem}, 413: {"model": Problem}, 415: {"model": Problem},
}
_BODY = {"requestBody": {"content": {
    "application/json": {"schema": {"description": "An alert, a list of alerts, or {'alerts'|'events': [...]}"}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "JSON Lines, one alert a line"}},
}, "required": True}}


async def _record(commands: Commands, items: list[Item]) -> IngestResult:
    report = await run_in_threadpool(commands.ingest, items)
    rejects = [{"index": item.index, "reason": item.reason} for item in items if isinstance(item, Quarantined)]
    return IngestResult.model_validate({**report, "rejects": rejects})


@router.post("/alerts", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult, responses=_ERRORS,
             openapi_extra=_BODY, summary="Ingest alerts")
async def post_alerts(request: Request, commands: Annotated[Commands, Depends(deps.commands)]) -> IngestResult:
    """Apply alerts as the alerts file would: same forms, validation, fingerprints and quarantine (source `http`,
    each reject with its index in the request). Answers once everything is durably recorded."""
    kind = media_type(request)
    if kind not in JSON_TYPES | LINES_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "send application/json or application/x-ndjson")
    body = parse_body(await request.body(), kind in LINES_TYPES, SOURCE)
    result = await _record(commands, body.items)
    if body.broken is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body was quarantined: {body.broken}")
    return result


@router.post("/alertmanager", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult,
             responses=_ERRORS, summary="Receive an Alertmanager webhook")
async def post_alertmanager(request: Request, commands: Annotated[Commands, Depends(deps.commands)]) -> IngestResult:
    """A Prometheus Alertmanager webhook payload (version 4): each alert becomes a coordination crisis from its
    labels (`task_id`, `agent_id`, `escalation_level` or `severity`); a resolved alert clears the crisis."""
    if media_type(request) not in JSON_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json")
    data = await request.body()
    try:
        payload = loads(data)
    except (ValueError, RecursionError) as error:
        broken = parse_body(data, False, alertmanager.SOURCE)
        await _record(commands, broken.items)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body was quarantined: not valid JSON: {error}") from None
    return await _record(commands, alertmanager.alerts_of(payload))
