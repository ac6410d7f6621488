"""Commands that change the home go to its writer: the running service, through its HTTP API, or, when no
service runs, a writer opened here for the command alone. Either way they print the same and exit the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.ports import Document, NotFound
from cli.options import EXIT_BUSY, EXIT_NOT_FOUND, EXIT_USAGE, fail, writing

if TYPE_CHECKING:
    from cli.bootstrap import Services
    from cli.settings import Settings

TIMEOUT = 300.0
"""Seconds to wait for the service's answer (it answers once the command is recorded)."""


def segment(text: str) -> str:
    """`text` as one segment of a URL's path: percent-encoded whole, the dots of `.` and `..` too (which a client
    would otherwise take for the current and the parent path)."""
    from urllib.parse import quote

    return quote(text, safe="") if text.strip(".") else "%2E" * len(text)


def carry_out(
    settings: Settings, command: str, local: Callable[[Services], Document], path: str, body: dict[str, Any],
) -> Document:
    """Run `local` on a writer of the home, or POST `body` to `path` of the running service's API."""
    from adapters.home_lock import running_service
    from cli.reading import existing_home

    existing_home(settings.home)
    service = running_service(settings.home)
    if service is None:
        try:
            with writing(settings, command) as built:
                return local(built)
        except NotFound as error:
            raise fail(str(error), EXIT_NOT_FOUND) from None
    return _post(settings, service, path, body)


def _post(settings: Settings, service: dict[str, Any], path: str, body: dict[str, Any]) -> Document:
    import httpx

    pid, url = service.get("pid"), service.get("http")
    if not url:
        raise fail(f"{settings.home} is in use by the coordinator service (pid {pid}), which serves no HTTP API: "
                   "stop it first (`coordinator stop`) or run it with its HTTP API on", EXIT_BUSY)
    headers = {"Authorization": f"Bearer {settings.http.token}"} if settings.http.token else {}
    try:
        response = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        raise fail(f"the coordinator service holding {settings.home} (pid {pid}) does not answer at {url}: "
                   f"{error}", EXIT_BUSY) from None
    if response.status_code == 404:
        raise fail(_detail(response), EXIT_NOT_FOUND)
    if response.status_code == 503:  # a standby: another coordinator writes (the detail names it)
        raise fail(_detail(response), EXIT_BUSY)
    if response.status_code == 401:
        raise fail(f"the coordinator service refused the request ({_detail(response)}): set the same "
                   "[http] token (or COORDINATOR_HTTP__TOKEN) as the service", EXIT_USAGE)
    if response.is_error:
        raise fail(f"the coordinator service could not do it: {_detail(response)}", EXIT_NOT_FOUND)
    document: Document = response.json()
    return document


def _detail(response: Any) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
