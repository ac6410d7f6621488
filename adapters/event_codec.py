"""A fast mapper for the coordinator's own events: plain JSON in, typed fields back out.

eventsourcing's stock JSON transcoder tags every datetime and enum (`{"_type_": ..., "_data_": ...}`)
and calls back into Python for each of them, both ways. The coordinator's events declare their field
types, so this mapper stores datetimes as ISO 8601 strings (UTC as `Z`; older stores kept `+00:00`, and both
read the same) and stages as their names, lets the C JSON codec do the rest, and restores the types from the event
class's annotations when reading (a field declared as a `TypedDict` has its values converted by that record's own
annotations), and packs the JSON text against a dictionary of the coordinator's events (`adapters.state_packing`).
Anything else (snapshots, classes with field types it does not know) goes through the stock path, unpacked.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol, Snapshot
from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor
from eventsourcing.utils import get_topic, resolve_topic

from adapters.state_packing import pack, unpack
from app import stored_json
from domain.moments import iso_text
from domain.stages import Stage

Convert = Callable[[Any], Any]
_PLAIN: frozenset[Any] = frozenset({str, int, float, bool, dict, list, Mapping, Any, type(None)})
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _encode_datetime(value: datetime | None) -> str | None:
    return None if value is None else iso_text(value)


def _decode_datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _encode_stage(value: Stage | None) -> str | None:
    return None if value is None else value.value


def _decode_stage(value: str | None) -> Stage | None:
    return None if value is None else Stage(value)


def _encode_uuid(value: UUID | None) -> str | None:
    return None if value is None else value.hex


def _decode_uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


_CONVERTERS: dict[Any, tuple[Convert, Convert]] = {
    datetime: (_encode_datetime, _decode_datetime),
    Stage: (_encode_stage, _decode_stage),
    UUID: (_encode_uuid, _decode_uuid),
}


class FieldCodec:
    """How to turn one event class's fields into plain JSON values and back.

    A field declared with a default is stored only when it holds another value: a reader of the event finds the
    class's default where the stored state has none (so a field added with a default needs no upcaster).
    """

    def __init__(self, converted: dict[str, tuple[Convert, Convert]], defaults: dict[str, Any] | None = None) -> None:
        self.encoders = [(name, pair[0]) for name, pair in converted.items()]
        self.decoders = [(name, pair[1]) for name, pair in converted.items()]
        self.defaults = list((defaults or {}).items())

    def encode(self, state: dict[str, Any]) -> bytes:
        for name, default in self.defaults:
            if name in state and state[name] == default:
                del state[name]
        for name, encode in self.encoders:
            if name in state:
                state[name] = encode(state[name])
        return _ENCODER.encode(state).encode("utf8")

    def decode(self, state: dict[str, Any]) -> dict[str, Any]:
        """Restore the typed fields of `state`, parsed from stored JSON (and upcast)."""
        for name, decode in self.decoders:
            if name in state:
                state[name] = decode(state[name])
        return state


def _record_pair(record: type) -> tuple[Convert, Convert] | None:
    """Converters for a field holding a `TypedDict` (a record of typed values), or None if a value's type is unknown."""
    converted: dict[str, tuple[Convert, Convert]] = {}
    for name, annotation in typing.get_type_hints(record).items():
        base = _base_type(annotation)
        if base in _CONVERTERS:
            converted[name] = _CONVERTERS[base]
        elif base not in _PLAIN:
            return None

    def encode(value: dict[str, Any]) -> dict[str, Any]:
        return {name: converted[name][0](item) if name in converted else item for name, item in value.items()}

    def decode(value: dict[str, Any]) -> dict[str, Any]:
        return {name: converted[name][1](item) if name in converted else item for name, item in value.items()}

    return encode, decode


def _base_type(annotation: Any) -> Any:
    """`X` for `X`, `X | None`, `Optional[X]`; `None` when the annotation is a wider union."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else None
    return origin or annotation


@cache
def codec_for(cls: type) -> FieldCodec | None:
    """The field codec for an event class, or None when it has a field type this mapper does not know."""
    if issubclass(cls, Snapshot) or not cls.__module__.startswith("domain."):
        return None
    converted: dict[str, tuple[Convert, Convert]] = {}
    for name, annotation in typing.get_type_hints(cls).items():
        if name in ("originator_id", "originator_version") or typing.get_origin(annotation) is typing.ClassVar:
            continue
        base = _base_type(annotation)
        if base in _CONVERTERS:
            converted[name] = _CONVERTERS[base]
        elif typing.is_typeddict(base):
            pair = _record_pair(base)
            if pair is None:
                return None
            converted[name] = pair
        elif base not in _PLAIN:
            return None
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    defaults = {field.name: field.default for field in fields if field.default is not dataclasses.MISSING}
    return FieldCodec(converted, defaults)


class EventMapper(Mapper[UUID]):
    """The stock mapper, with a fast path for the coordinator's events (no cipher or compressor)."""

    packing = True
    """Whether the fast path packs the states it writes (tests turn it off to compare with the plain path)."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        codec = codec_for(type(domain_event))
        if codec is None or self.cipher or self.compressor:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=pack(codec.encode(state)) if self.packing else codec.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        codec = codec_for(cls)
        if codec is None or self.cipher or self.compressor:
            return super().to_domain_event(stored_event)
        state: dict[str, Any] = stored_json.decode(unpack(stored_event.state))
        convert_id = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        state["originator_id"] = convert_id(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        codec.decode(state)  # after upcasting: upcasters work on the stored form, as `state_of` readers see it
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[UUID], domain_event)
