"""Serving the API from the coordinator's own process: uvicorn in a thread, on a socket bound beforehand (so an
address in use is a clear start-up error, and port 0 picks a free port that is then known)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from sse_starlette.sse import AppStatus

from adapters.http.address import ListenError
from adapters.http.guard import Hosts

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (`ListenError` naming the address when it is in use or not ours)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


class HttpServer:
    """An ASGI app served by uvicorn in a background thread until `stop`."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.app = app
        self.sock = sock
        hosts = getattr(getattr(app, "state", None), "hosts", None)
        if isinstance(hosts, Hosts):  # requests may name the address bound
            hosts.listening_on(sock.getsockname()[0])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="http", daemon=True)

    @property
    def address(self) -> str:
        """`http://HOST:PORT` as bound."""
        host, port = self.sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        """Serve; return once requests are answered (`RuntimeError` if the server failed to start)."""
        self.thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server on {self.address} did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread: open event streams end (within half a second), so the server
        stops without cutting them off."""
        AppStatus.should_exit = True  # sse-starlette's streams watch this flag (uvicorn sets it only from a signal)
        self.server.should_exit = True
        try:
            self.thread.join(STOP_TIMEOUT)
        finally:
            AppStatus.should_exit = False  # for a server started later in this process
            self.sock.close()
