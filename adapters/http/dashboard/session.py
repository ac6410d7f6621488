"""Signing in to the dashboard when the service has a token.

The sign-in form takes the token. The page keeps it in the tab's `sessionStorage` and sends it as a bearer token
with every action (Ack, Resolve); the server, once it has checked it, sets a session cookie (HttpOnly, SameSite
Strict) that lets the browser read pages and follow the event stream when reads are protected. Signing out
forgets both.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.http import auth
from adapters.http.dashboard.render import page

router = APIRouter(include_in_schema=False)
Next = Annotated[str, Query(alias="next", max_length=2048)]
FIELDS = 4
"""Fields a sign-in form may have (it has two)."""


def _safe(target: str) -> str:
    """Only a path of this site (never another site's address) to go back to."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next_: Next = "/") -> Response:
    """The sign-in form."""
    return await page(request, "login.html", "Sign in", {"next": _safe(next_), "problem": None})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the token given in the form; set the session cookie and go back, or say it was wrong (401)."""
    try:
        fields = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=FIELDS)
    except ValueError:
        return await page(request, "login.html", "Sign in", {
            "next": "/", "problem": f"The form has more than {FIELDS} fields: send the token (and next) alone."},
            status_code=400)
    token, target = fields.get("token", [""])[0], _safe(fields.get("next", ["/"])[0])
    access: auth.Access = request.app.state.access
    if access.token is None:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(token.encode(), access.token.encode()):
        return await page(request, "login.html", "Sign in", {"next": target, "problem": "That token is not right."},
                          status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, auth.session_value(access.token), httponly=True, samesite="strict",
                        path="/")
    return response


@router.post("/logout")
async def logout() -> Response:
    """Forget the session cookie (the page forgets its stored token)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
