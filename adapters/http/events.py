"""`GET /api/v1/events/stream`: the typed event stream as Server-Sent Events, resumable with `Last-Event-ID`.

Each event's `id:` is its position in the event store and, after a dot, its place among the events recorded at
that position (a decision to notify several people is one stored event): `12.0`, `12.1`. A client that
reconnects with `Last-Event-ID` (or `?after=`, a position or such an id) gets exactly what follows: nothing
missed, nothing twice. The `event:` field is the kind (`Escalated`, `AlertReceived`, ...), the data its JSON.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from sse_starlette import EventSourceResponse

from adapters.event_stream import ALERT_TYPES, EVENT_KINDS, CoordinationEvent, CoordinationEventConsumer, OtherEvent
from adapters.event_stream import names_of as subscription_names
from adapters.http import auth

router = APIRouter(dependencies=[Depends(auth.reader)], tags=["events"])
POLL = 0.1
"""Seconds between looks at the event store for new events."""


def _mark(text: str) -> tuple[int, int]:
    """(position, how many of its events were seen) from an event id `12.1` or a position `12`."""
    position, _, seen = text.strip().partition(".")
    try:
        return int(position), int(seen) + 1 if seen else 0
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{text!r} is not an event id") from None


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

    async def events() -> AsyncIterator[dict[str, str]]:
        current, index = -1, 0
        start = position - 1 if skip else position
        async for event in consumer.stream_events(after=max(start, 0), follow=True, poll_interval=POLL):
            index = index + 1 if event.position == current else 0
            current = event.position
            if current == position and index < skip:
                continue
            if type_ is not None and type_ not in subscription_names(event):
                continue
            yield {"id": f"{current}.{index}", "event": kind_of(event), "data": json.dumps(as_json(event))}

    return EventSourceResponse(events(), ping=15)
