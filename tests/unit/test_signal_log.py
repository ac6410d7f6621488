"""A SIGTERM that arrives while the service is writing a log line stops it, and its line is still written: the
handler never waits for the log's lock, which the interrupted thread holds."""

from __future__ import annotations

import faulthandler
import io
import signal
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest

from cli.service import Service
from cli.service_log import ServiceLog, log_from_handler


@pytest.fixture
def handlers_restored() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        faulthandler.unregister(signal.SIGUSR1)


def test_a_line_logged_from_a_handler_waits_for_the_line_being_written_instead_of_for_itself() -> None:
    out = io.StringIO()
    log = ServiceLog(stream=out)
    with log._lock:  # the interrupted thread is halfway through writing a line
        writer = log_from_handler(log, "received SIGTERM", event="signal")
        assert writer.is_alive() and out.getvalue() == ""
    writer.join()
    assert out.getvalue().rstrip().endswith("received SIGTERM")


def test_sigterm_in_the_middle_of_a_log_line_stops_the_service_and_logs_it(handlers_restored: None) -> None:
    out = io.StringIO()
    service = SimpleNamespace(log=ServiceLog(stream=out), stop=threading.Event(), wake=threading.Event())
    Service.handle_signals(cast(Service, service))

    faulthandler.dump_traceback_later(120, exit=True)  # a handler waiting for its own thread would hang for ever
    try:
        with service.log._lock:
            signal.raise_signal(signal.SIGTERM)  # the handler once waited here for this lock, held by its thread
            assert service.stop.is_set() and service.wake.is_set()
    finally:
        faulthandler.cancel_dump_traceback_later()
    for thread in threading.enumerate():
        if thread.name == "signal-log":
            thread.join()
    assert "received SIGTERM: finishing the current batch" in out.getvalue()
