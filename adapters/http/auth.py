"""Who may call the API: a bearer token, when one is configured, for writes (and for reads if asked).

A browser signed in to the dashboard holds a session cookie derived from the token; it stands for the token on
reads only (pages, fragments, the event stream), so a page can never be made to write by another site.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status


@dataclass(frozen=True, slots=True)
class Access:
    """The token writes need (None: none needed), and whether reads need it too."""

    token: str | None = None
    protect_reads: bool = False


SESSION_COOKIE = "coordinator_session"


def session_value(token: str) -> str:
    """The session cookie's value for `token` (a keyed digest: the token itself never sits in a cookie)."""
    return hmac.new(token.encode(), b"hive-coordinator dashboard session", hashlib.sha256).hexdigest()


def bearer_ok(request: Request) -> bool:
    """Whether the request needs no token or carries the right one as a bearer token."""
    access: Access = request.app.state.access
    if access.token is None:
        return True
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), access.token.encode())


def may_read(request: Request) -> bool:
    """Whether the request may read: reads are open, or it carries the token or a dashboard session."""
    access: Access = request.app.state.access
    if access.token is None or not access.protect_reads or bearer_ok(request):
        return True
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_value(access.token).encode())


def _refuse() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required",
                         headers={"WWW-Authenticate": "Bearer"})


def writer(request: Request) -> None:
    """Dependency of every write endpoint: the token, when one is configured."""
    if not bearer_ok(request):
        raise _refuse()


def reader(request: Request) -> None:
    """Dependency of every read endpoint: the token (or a dashboard session), when reads are protected."""
    if not may_read(request):
        raise _refuse()
