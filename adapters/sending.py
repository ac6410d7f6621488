"""Sending through one channel off the writer's thread: a lane of daemon threads, a bounded number at once.

A lane never touches the event store: it hands each attempt back (`Returned`) for the writer to record. Its
threads live only while there is something to send, so an idle lane holds none; being daemons, one stuck in
a hung channel never keeps the process from exiting (what it was sending is sent again after a restart).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.notifications import BatchChannel, Channel, DeliveryError, Notification

IN_FLIGHT = 16
"""Attempts one channel makes at once; a channel may ask for fewer with an integer `concurrency` attribute."""

Item = tuple[Mapping[str, Any], Notification]
"""An outbox row and the notification it holds."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One finished attempt: the row it was for, the channel it went through, and the error if it failed."""

    row: Mapping[str, Any]
    notification: Notification
    channel: Channel
    error: DeliveryError | None


Returned = Callable[[list[Attempt]], None]
"""Where a lane hands finished attempts (called on the lane's thread)."""


class Lane:
    """Sends through `channel` on up to `width` threads at once, in the order items were put.

    A batch channel (`deliver_many`) gets everything waiting, up to `batch` at a time, on a single thread: one
    call (e.g. one fsync) for many notifications, and a channel that needs no locks of its own.
    """

    def __init__(self, channel: Channel, returned: Returned, width: int = IN_FLIGHT, batch: int = 200) -> None:
        self.channel = channel
        self.returned = returned
        self.batching = isinstance(channel, BatchChannel)
        wanted = getattr(channel, "concurrency", width)
        self.width = 1 if self.batching else max(1, min(width, wanted if isinstance(wanted, int) else width))
        self.batch = max(1, batch) if self.batching else 1
        self._waiting: deque[Item] = deque()
        self._lock = threading.Lock()
        self.running = 0
        """Threads sending now (each holds work: it takes more or ends under the lock)."""

    def put(self, items: Sequence[Item]) -> None:
        """Queue `items`; start threads for them while fewer than `width` run. Never waits for the channel."""
        starts: list[list[Item]] = []
        with self._lock:
            self._waiting.extend(items)
            while self._waiting and self.running < self.width:
                starts.append(self._take())
                self.running += 1
        for first in starts:
            threading.Thread(target=self._work, args=(first,), name=f"deliver-{self.channel.name}",
                             daemon=True).start()

    def _take(self) -> list[Item]:
        return [self._waiting.popleft() for _ in range(min(self.batch, len(self._waiting)))]

    def _work(self, items: list[Item]) -> None:
        try:
            while items:
                self.returned(self._send(items))
                with self._lock:
                    items = self._take()
                    if not items:
                        self.running -= 1
        except BaseException:
            with self._lock:
                self.running -= 1
            raise

    def _send(self, items: list[Item]) -> list[Attempt]:
        notifications = [notification for _, notification in items]
        if isinstance(self.channel, BatchChannel):
            errors = guarded_many(self.channel, notifications)
        else:
            errors = [guarded(self.channel, notification) for notification in notifications]
        return [Attempt(row, notification, self.channel, error)
                for (row, notification), error in zip(items, errors, strict=True)]


def guarded(channel: Channel, notification: Notification) -> DeliveryError | None:
    """Deliver one; a channel bug becomes a retryable failure instead of stopping the others."""
    try:
        channel.deliver(notification)
    except DeliveryError as failure:
        return failure
    except Exception as failure:
        return DeliveryError(f"{type(failure).__name__}: {failure}", retryable=True)
    return None


def guarded_many(channel: BatchChannel, notifications: list[Notification]) -> list[DeliveryError | None]:
    """Deliver a batch; a channel bug fails every notification in it (retryably)."""
    try:
        errors = channel.deliver_many(notifications)
    except Exception as failure:
        error = DeliveryError(f"{type(failure).__name__}: {failure}", retryable=True)
        return [error] * len(notifications)
    if len(errors) != len(notifications):
        error = DeliveryError(f"{channel.name} answered {len(errors)} results for {len(notifications)}")
        return [error] * len(notifications)
    return errors
