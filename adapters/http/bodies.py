"""Endpoints that take a JSON document: whether the caller may call is checked first (401), then the body's content
type (415), and only then the body itself (422)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute

from adapters.alert_body import JSON_TYPES

Check = Callable[[Request], None]


def media_type(request: Request) -> str:
    """The request's content type, without its parameters, in lower case."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def json_route(check: Check) -> type[APIRoute]:
    """A route class whose endpoints with a body run `check` (an access check raising `HTTPException`) and refuse
    a body that is not `application/json` with 415, before the body is read."""

    class JsonRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            if self.body_field is None:
                return handler

            async def checked(request: Request) -> Response:
                check(request)
                if media_type(request) not in JSON_TYPES:
                    raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json")
                return await handler(request)

            return checked

    return JsonRoute
