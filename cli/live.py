"""The running service's writer, reachable from other threads: a mailbox of jobs the service loop carries out
between batches, and the `Commands` port of the HTTP API on top of it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

from adapters.delivery import DeliveryStopped
from app.ports import Document, Unavailable
from cli import actions

if TYPE_CHECKING:
    from adapters.delivery import Dispatcher
    from app.cycle import Cycle
    from cli.bootstrap import Services
    from domain.alerts import Item
    from domain.notifications import DeliveryReport

T = TypeVar("T")
ANSWER_TIMEOUT = 300.0
"""Seconds a caller waits for the writer before giving up (it is then busy with something very long)."""


class ServiceStopping(RuntimeError):
    """The service stopped before carrying out the job."""


class Mailbox:
    """Jobs for the writer, from any thread; each caller waits for its own job's answer."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake
        self._jobs: queue.SimpleQueue[tuple[Callable[[], object], Future[object]]] = queue.SimpleQueue()
        self.closed = False

    def submit(self, job: Callable[[], T]) -> T:
        """Have the writer carry out `job`; its result (or its exception) once done."""
        if self.closed:
            raise ServiceStopping("the coordinator is stopping")
        future: Future[object] = Future()
        self._jobs.put((job, future))
        self.wake.set()
        result: T = future.result(ANSWER_TIMEOUT)  # type: ignore[assignment]
        return result

    def run_pending(self, settle: Callable[[], None]) -> bool:
        """Carry out every waiting job (on the writer's thread), then `settle` (e.g. bring the read models up to
        date) before answering them; True when there was any."""
        done: list[tuple[Future[object], object, BaseException | None]] = []
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                break
            try:
                done.append((future, job(), None))
            except Exception as error:  # the caller gets it; the writer carries on
                done.append((future, None, error))
        if not done:
            return False
        try:
            settle()
        finally:
            for future, result, failure in done:
                if failure is None:
                    future.set_result(result)
                else:
                    future.set_exception(failure)
        return True

    def close(self) -> None:
        """Refuse new jobs and fail those still waiting."""
        self.closed = True
        while True:
            try:
                _, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            future.set_exception(ServiceStopping("the coordinator stopped"))


class WriterCommands:
    """The `Commands` port carried out by the service's writer through its mailbox."""

    def __init__(self, mailbox: Mailbox, built: Services, cycle: Cycle, dispatcher: Dispatcher) -> None:
        self.mailbox = mailbox
        self.built = built
        self.cycle = cycle
        self.dispatcher = dispatcher

    def ingest(self, items: Sequence[Item]) -> Document:
        return self.mailbox.submit(lambda: self.cycle.take(items).as_dict())

    def acknowledge(self, task_id: str, by: str) -> Document:
        return self.mailbox.submit(lambda: actions.acknowledge(self.built, task_id, by))

    def resolve(self, task_id: str, by: str, note: str | None) -> Document:
        return self.mailbox.submit(lambda: actions.resolve(self.built, task_id, by, note))

    def retry(self, notification: str | None) -> Document:
        """Requeue and send on the writer; wait here, not there, for the attempts to be recorded."""
        requeued, answer = self.mailbox.submit(lambda: self._requeue(notification))
        try:
            report = answer.result(ANSWER_TIMEOUT)
        except DeliveryStopped as stopped:
            raise ServiceStopping(str(stopped)) from None
        return actions.retried(requeued, report)

    def _requeue(self, notification: str | None) -> tuple[int, Future[DeliveryReport]]:
        return actions.requeue(self.built, notification), self.dispatcher.send_all_due()

    def catch_up(self) -> None:
        self.mailbox.submit(lambda: None)  # the writer settles its read models before it answers any job


class StandbyCommands:
    """The `Commands` port of a standby: it writes nothing until it takes over, so every command is `Unavailable`
    (HTTP 503), naming who writes now (`writer()`)."""

    def __init__(self, writer: Callable[[], str | None]) -> None:
        self.writer = writer

    def _refuse(self) -> Unavailable:
        who = self.writer() or "another coordinator"
        return Unavailable(f"this coordinator is a standby: {who} writes to the store; send commands to it (this one "
                           "takes over when it stops)")

    def ingest(self, items: Sequence[Item]) -> Document:
        raise self._refuse()

    def acknowledge(self, task_id: str, by: str) -> Document:
        raise self._refuse()

    def resolve(self, task_id: str, by: str, note: str | None) -> Document:
        raise self._refuse()

    def retry(self, notification: str | None) -> Document:
        raise self._refuse()

    def catch_up(self) -> None:
        """Nothing to wait for: a standby's queries bring its read models up to date themselves."""
