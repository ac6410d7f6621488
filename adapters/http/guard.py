"""What every request and response passes: the `Host` a request names must be one of this service's (so a web
page cannot rebind a name of its own to this address and read or drive the API), and every response carries the
headers that keep a browser from sniffing, framing or leaking it."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Names of this machine a request may always use."""
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
"""Bind addresses that listen on every interface (a token is required there): any `Host` is then accepted."""
POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
"""Scripts, styles, images and connections from this service only; never framed."""
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", POLICY.encode()),
)


class Hosts:
    """The host names requests may name: this machine's loopback names, those given, and the address served on."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = set(LOOPBACK_NAMES) | {name.lower().strip("[]") for name in names}
        self.any = False

    def listening_on(self, host: str) -> None:
        """Accept the address the server is bound to too (any name at all when it is every interface's)."""
        host = host.lower().strip("[]")
        if host in WILDCARDS:
            self.any = True
        elif host not in self.names:
            self.names |= {host, socket.gethostname().lower()}

    def allows(self, header: str | None) -> bool:
        """Whether a request with this `Host` header value is for this service."""
        return self.any or (header is not None and host_of(header) in self.names)


def host_of(header: str) -> str:
    """The host of a `Host` header value, lower case, without its port or an IPv6 address's brackets."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    name, _, port = text.rpartition(":")
    return name if name and port.isdigit() else text


class Guard:
    """Refuses a request naming another `Host` with 400, and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, hosts: Hosts) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((name, value) for name, value in HEADERS if name not in present)]
            await send(message)

        header = dict(scope.get("headers") or []).get(b"host")
        named = None if header is None else header.decode("latin-1")
        if not self.hosts.allows(named):
            refusal: Any = JSONResponse({"detail": _refusal(named)}, status.HTTP_400_BAD_REQUEST)
            await refusal(scope, receive, guarded)
            return
        await self.app(scope, receive, guarded)


def _refusal(header: str | None) -> str:
    if header is None:
        return "a Host header is required"
    return (f"Host {header!r} is not an address of this service: ask for it by the address it listens on, "
            "127.0.0.1 or localhost")
