"""Who may call the API: a bearer token, when one is configured, for writes (and for reads if asked)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status


@dataclass(frozen=True, slots=True)
class Access:
    """The token writes need (None: none needed), and whether reads need it too."""

    token: str | None = None
    protect_reads: bool = False


def _check(request: Request) -> None:
    access: Access = request.app.state.access
    if access.token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), access.token.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})


def writer(request: Request) -> None:
    """Dependency of every write endpoint: the token, when one is configured."""
    _check(request)


def reader(request: Request) -> None:
    """Dependency of every read endpoint: the token, when reads are protected."""
    if request.app.state.access.protect_reads:
        _check(request)
