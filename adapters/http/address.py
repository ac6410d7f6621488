"""Where the API listens: `HOST:PORT` parsed, and whether only this machine can reach it."""

from __future__ import annotations

import ipaddress


class ListenError(ValueError):
    """The address cannot be parsed or bound; the message says which and why."""


def parse_listen(listen: str) -> tuple[str, int]:
    """(host, port) of `HOST:PORT` (`[::1]:8686` for IPv6)."""
    host, separator, port = listen.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port.isdigit() or int(port) > 65_535:
        raise ListenError(f"{listen!r} is not HOST:PORT (e.g. 127.0.0.1:8686; port 0 picks a free one)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
