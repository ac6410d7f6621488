"""The FastAPI application: routers per resource under `/api/v1`, `/metrics`, `/healthz`, the OpenAPI description,
and the dashboard's pages at `/`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.clock import Clock, clock_from_environment
from adapters.http import alerts, commands, dashboard, deps, events, reads
from adapters.http.auth import Access
from adapters.http.guard import Guard, Hosts
from adapters.http.models import Problem
from app.ports import Commands, NotFound, Queries, Unavailable

API = "/api/v1"
DEFAULT_MAX_BODY = 10 * 1024 * 1024


def create_app(
    queries: Queries, commands_port: Commands, home: Path, access: Access | None = None,
    max_body: int = DEFAULT_MAX_BODY, clock: Clock | None = None, hive: str = deps.DEFAULT_HIVE,
    hosts: Iterable[str] = (),
) -> FastAPI:
    """The API over a hive's read side (`queries`) and its writer (`commands_port`): the default hive unless
    `hive` names another; `clock` tells the dashboard the time (the environment's clock by default). Requests
    must name this machine's loopback address, one of `hosts`, or the address the server listens on as `Host`.
    No docs page is served (it would need assets from the network): the OpenAPI description is."""
    api = FastAPI(
        title="hive-coordinator", version="1",
        description="Alerts in; tasks, agents, notifications, the audit trail and the live event stream out.",
        openapi_url=f"{API}/openapi.json", docs_url=None, redoc_url=None,
    )
    api.state.hives = {hive: deps.Side(queries, commands_port)}
    """Each hive served, by name (a coordinator sharing out hives adds the others)."""
    api.state.home = home
    api.state.access = access or Access()
    api.state.clock = clock or clock_from_environment()
    api.state.hosts = Hosts(hosts)
    """The `Host` names requests may use (the server adds the address it listens on)."""
    for router in (alerts.router, reads.router, commands.router, events.router):
        api.include_router(router, prefix=API)
    for router in (alerts.router, reads.router, commands.router):  # the same, for any hive by its name
        api.include_router(router, prefix=f"{API}/hives/{{hive}}", dependencies=[Depends(deps.hive)])
    api.include_router(reads.metrics_router)
    dashboard.mount(api)

    @api.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        """Answers while the service runs (no token needed)."""
        return {"status": "ok"}

    @api.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_404_NOT_FOUND)

    @api.exception_handler(Unavailable)
    async def unavailable(request: Request, error: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "5"})

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
                             for issue in error.errors())
        return JSONResponse({"detail": problems or "invalid request"}, status.HTTP_422_UNPROCESSABLE_ENTITY)

    api.add_middleware(BodyLimit, limit=max_body)
    api.add_middleware(Guard, hosts=api.state.hosts)

    def described() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = as_answered(get_openapi(title=api.title, version=api.version,
                                                         description=api.description, routes=api.routes))
        return api.openapi_schema

    api.openapi = described  # type: ignore[method-assign]  # FastAPI's documented way to adjust the description
    return api


PROBLEM = {"$ref": "#/components/schemas/Problem"}


def as_answered(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI description with every 422 described as it is answered: a `Problem` whose `detail` says, in one
    line, what was wrong with which part of the request (not FastAPI's list of validation errors)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None:
                invalid["description"] = "The request is not valid: `detail` says which part, and why"
                invalid["content"] = {"application/json": {"schema": PROBLEM}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema())
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, before anything reads it whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, self._reason())
            return message

        try:
            await self.app(scope, counted, send)
        except HTTPException as error:
            if error.status_code != status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
                raise
            await _too_large(self.limit, send)

    def _reason(self) -> str:
        return f"the body is over the limit of {self.limit:,} bytes (http.max_body)"


async def _too_large(limit: int, send: Send) -> None:
    response: Any = JSONResponse({"detail": f"the body is over the limit of {limit:,} bytes (http.max_body)"},
                                 status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
