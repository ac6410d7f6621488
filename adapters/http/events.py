"""`GET /api/v1/events/stream`: the typed event stream as Server-Sent Events, resumable with `Last-Event-ID`.

Each event's `id:` is its position in the event store and, after a dot, its place among the events recorded at
that position (a decision to notify several people is one stored event): `12.0`, `12.1`. A client that
reconnects with `Last-Event-ID` (or `?after=`, a position or such an id) gets exactly what follows: nothing
missed, nothing twice. The `event:` field is the kind (`Escalated`, `AlertReceived`, ...), the data its JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from sse_starlette import EventSourceResponse

from adapters.event_stream import ALERT_TYPES, EVENT_KINDS, CoordinationEvent, CoordinationEventConsumer, OtherEvent
from adapters.event_stream import names_of as subscription_names
from adapters.http import auth

router = APIRouter(dependencies=[Depends(auth.reader)], tags=["events"])
POLL = 0.1
"""Seconds between looks at the event store for new events."""
SHUTDOWN_GRACE = 1.0
"""Seconds a stream has to end by itself once the server stops (it ends at once)."""
T = TypeVar("T")
LAST_POSITION = 2**63 - 1
"""The greatest position the event store can hold (a 64-bit integer)."""
_ID = re.compile(r"(\d+)(?:\.(\d+))?", re.ASCII)


def _mark(text: str) -> tuple[int, int]:
    """(position, how many of its events were seen) from an event id `12.1` or a position `12`."""
    found = _ID.fullmatch(text.strip())
    if found is None or int(found[1]) > LAST_POSITION or int(found[2] or 0) >= LAST_POSITION:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{text!r} is not an event id")
    return int(found[1]), int(found[2]) + 1 if found[2] is not None else 0


def kind_of(event: CoordinationEvent) -> str:
    """`Escalated`, `AlertReceived`, ... (for other events, their stored kind)."""
    return event.kind if isinstance(event, OtherEvent) else type(event).__name__


def as_json(event: CoordinationEvent) -> dict[str, Any]:
    """The event's fields as JSON values (instants in UTC with a `Z`), with its kind as `event` (a notification's
    own `kind` field, such as `crisis` or `ping`, is one of its fields)."""
    return {**{name: _plain(value) for name, value in asdict(event).items()}, "event": kind_of(event)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


@router.get("/events/stream", summary="Follow the event stream (Server-Sent Events)",
            response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def stream(
    request: Request,
    after: Annotated[str, Query(max_length=32, description="A position or event id to start after")] = "0",
    type_: Annotated[str | None, Query(alias="type", max_length=64, description="An event kind or alert type")]
    = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> EventSourceResponse:
    """Every event after `after` (or the `Last-Event-ID` header), then new ones as they are recorded."""
    if type_ is not None and type_ != "*" and type_ not in EVENT_KINDS | ALERT_TYPES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"type: {type_!r} is neither an event kind nor "
                            "an alert type")
    position, skip = _mark(last_event_id if last_event_id else after)
    consumer = CoordinationEventConsumer(request.app.state.home)
    stopping = anyio.Event()

    async def events() -> AsyncIterator[dict[str, str]]:
        current, index = -1, 0
        start = position - 1 if skip else position
        following = consumer.stream_events(after=max(start, 0), follow=True, poll_interval=POLL)
        async for event in until(stopping, following):
            index = index + 1 if event.position == current else 0
            current = event.position
            if current == position and index < skip:
                continue
            if type_ is not None and type_ not in subscription_names(event):
                continue
            yield {"id": f"{current}.{index}", "event": kind_of(event), "data": json.dumps(as_json(event))}

    return EventSourceResponse(events(), ping=15, shutdown_event=stopping, shutdown_grace_period=SHUTDOWN_GRACE)


async def until(stopping: anyio.Event, source: AsyncGenerator[T, None]) -> AsyncIterator[T]:
    """The items of `source` until it ends or `stopping` is set (then it is closed at once, even while it waits)."""
    stopped = asyncio.ensure_future(stopping.wait())
    step: asyncio.Future[T] | None = None
    try:
        while True:
            step = asyncio.ensure_future(anext(source))
            await asyncio.wait((step, stopped), return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                return
            try:
                item = step.result()
            except StopAsyncIteration:
                return
            step = None
            yield item
    finally:
        with anyio.CancelScope(shield=True):  # closed even when the stream is cancelled (its client gone)
            stopped.cancel()
            if step is not None and not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await step
            await source.aclose()
