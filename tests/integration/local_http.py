"""A real HTTP server on 127.0.0.1 for channel and delivery tests: it answers POSTs as the test decides."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, dict[str, str], bytes], int]
"""Given the request path, headers and body, the status code to answer with."""


@contextmanager
def serving(answer: Answer, on_close: Callable[[], None] | None = None) -> Iterator[str]:
    """Run a server whose POSTs are answered by `answer`; yields its base URL (`http://127.0.0.1:PORT`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status = answer(self.path, dict(self.headers.items()), self.rfile.read(length))
            payload = b"service unavailable" if status >= 500 else (b"rejected" if status >= 300 else b"ok")
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if on_close is not None:
            on_close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
