"""Fields read straight from stored JSON (the read models' fast path) equal a full decode, for every event class
the coordinator records, whatever text its fields hold; for plain text the fast path is the one taken."""

from __future__ import annotations

import types
import typing
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.state_packing import unpack
from app.records import Record, event_kind, state_of, utc_text
from domain.deliveries import Deliveries
from domain.notifications import DeliveryOutcome, NotificationKey
from domain.stages import Stage
from projections.sliced import (
    alert_fields,
    hour_of,
    recorded_wall,
    sliced_delivery,
    sliced_requests,
    sliced_task_requests,
    text_field,
)
from tests.unit.test_event_codec import domain_event_classes, mapper

CLASSES = [cls for cls in domain_event_classes() if typing.get_type_hints(cls).keys() - {
    "timestamp", "originator_id", "originator_version", "originator_id_type", "originator_topic"}]
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES)
ANY_TEXT = st.text(max_size=12)
PLAIN_TEXT = st.text(alphabet="abcXYZ09-_ :.é✓", max_size=12)


def values(annotation: Any, text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Values of a field's declared type; strings drawn from `text`, JSON objects holding lookalike keys."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return st.none() | values(options[0], text)
    if annotation is datetime:
        return INSTANTS
    if annotation is Stage:
        return st.sampled_from(list(Stage))
    if annotation is str:
        return text
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(0, 10**6)
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation)
        return st.fixed_dictionaries({}, optional={name: values(hint, text) for name, hint in hints.items()})
    if typing.get_origin(annotation) is list:  # the notifications requested, in the order the responder writes
        notification = st.builds(lambda key, recipient, priority, kind, message: {
            "key": key, "recipient": recipient, "priority": priority, "kind": kind, "message": message,
        }, text, text, text, text, text)
        return st.lists(notification, max_size=3)
    if annotation is dict or typing.get_origin(annotation) in (dict, Mapping):
        keys = st.sampled_from(["agent_id", "at", "changes", "deadline", "key", "type"]) | text
        leaves = st.none() | st.booleans() | st.integers() | text
        return st.dictionaries(keys, st.recursive(leaves, lambda inner: st.dictionaries(keys, inner, max_size=3)
                                                  | st.lists(inner, max_size=3), max_leaves=6), max_size=4)
    raise AssertionError(f"no strategy for {annotation}")


@st.composite
def records(draw: st.DrawFn, text: st.SearchStrategy[str]) -> Record:
    cls = draw(st.sampled_from(CLASSES))
    hints = typing.get_type_hints(cls)
    fields = {name: draw(values(hint, text)) for name, hint in hints.items()
              if name not in ("originator_id", "originator_version", "originator_id_type", "originator_topic")}
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", {"originator_id": uuid.uuid4(), "originator_version": 2,
                                           **fields})
    stored = mapper().to_stored_event(event)
    state = unpack(stored.state)
    if draw(st.booleans()):  # as stores written before the codec wrote UTC as `Z` kept it
        state = state.replace(b'Z"', b'+00:00"')
    return Record(1, stored.originator_id.hex, 2, stored.topic, state)


def check(record: Record, plain: bool) -> None:
    """Each fast read the read models use on this kind of event agrees with the full decode (and, for plain
    text, is not passed over)."""
    full = state_of(record)
    kind = event_kind(record.topic)
    sure: list[bool] = []
    wall = utc_text(full["timestamp"])
    assert recorded_wall(record) == wall
    at = full.get("at")
    assert hour_of(record) == (utc_text(at) if isinstance(at, str) else wall)[:13].encode()  # type: ignore[index]
    if kind == "Task.AlertReceived":
        found = alert_fields(record)
        sure.append(found is not None)
        assert found is None or found == {"at": full["at"], "agent_id": full["agent_id"], "changes": full["changes"]}
        sliced = text_field(record.state, b',"alert_type":"')
        sure.append(sliced is not None)
        assert sliced in (None, full["alert_type"])
    if kind.endswith("Escalated"):
        stage, rule = text_field(record.state, b',"to_stage":"'), text_field(record.state, b',"rule":"', last=True)
        sure += [stage is not None, rule is not None]
        assert stage in (None, full["to_stage"]) and rule in (None, full["rule"])
    if kind.endswith("NotificationsRequested"):
        requests = sliced_requests(record.state)
        sure.append(bool(requests) or not full["notifications"])
        assert requests in ([], [(item["key"], item["priority"]) for item in full["notifications"]]), record.state
    if kind.endswith(("NotificationDelivered", "DeliveryFailed")):
        delivery = sliced_delivery(record.state)
        codec_form = all(  # UTC, with microseconds
            (len(text) == 27 and text.endswith("Z")) or (len(text) == 32 and text.endswith("+00:00"))
            for text in (full["timestamp"], full["at"]))
        if kind.endswith("NotificationDelivered") and codec_form:
            sure.append(delivery is not None)
        assert delivery in (None, (full["key"], utc_text(full["at"])))
    if plain:
        assert all(sure), f"the fast read was passed over for plain {kind}: {record.state!r}"


@settings(max_examples=400, deadline=None)
@given(records(ANY_TEXT))
def test_fast_reads_of_any_event_equal_a_full_decode_or_decline(record: Record) -> None:
    check(record, plain=False)


@settings(max_examples=300, deadline=None)
@given(records(PLAIN_TEXT))
def test_fast_reads_of_events_with_plain_text_are_taken_and_equal_a_full_decode(record: Record) -> None:
    check(record, plain=True)


@st.composite
def batches(draw: st.DrawFn, text: st.SearchStrategy[str]) -> Record:
    """A batch of the delivery stream, as stored, of attempts for tasks and agents of any names, failed ones too."""
    outcomes = []
    for _ in range(draw(st.integers(0, 6))):
        kind, subject = draw(st.sampled_from(["task", "agent"])), draw(text)
        key = str(NotificationKey(kind, subject, draw(st.integers(1, 10**6)), draw(st.integers(0, 3))))
        error = draw(st.none() | text)
        outcomes.append(DeliveryOutcome(key, kind, subject, draw(text), 1, draw(INSTANTS), error, False,
                                        None if error is None else draw(INSTANTS)))
    stored = mapper().to_stored_event(Deliveries.record(outcomes).collect_events()[0])
    return Record(1, stored.originator_id.hex, 1, stored.topic, unpack(stored.state))


def requests_decoded(record: Record) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for row in state_of(record)["attempts"]:
        key = NotificationKey.parse(row[0])
        if key.subject_kind == "task":
            found.setdefault(key.subject, []).append(key.request)
    return found


@settings(max_examples=300, deadline=None)
@given(batches(ANY_TEXT))
def test_the_requests_a_batch_of_deliveries_answers_read_fast_equal_a_full_decode_or_decline(record: Record) -> None:
    assert sliced_task_requests(record.state) in (None, requests_decoded(record))


@settings(max_examples=200, deadline=None)
@given(batches(st.text(alphabet="ab#:.09 é✓", max_size=12)))
def test_the_requests_a_batch_of_deliveries_with_plain_names_answers_are_read_fast(record: Record) -> None:
    assert sliced_task_requests(record.state) == requests_decoded(record)


def test_a_batch_written_before_attempts_were_rows_is_decoded_not_read_fast() -> None:
    state = (b'{"timestamp":"2025-07-16T10:00:00.000000Z","attempts":[{"key":"task:t1#3.0","channel":"file",'
             b'"attempt":1,"at":"2025-07-16T10:00:00.000000Z"}]}')

    assert sliced_task_requests(state) is None
