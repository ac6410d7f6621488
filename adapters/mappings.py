"""Mapping rules: records of foreign shapes turned into alerts, as `[[mappings]]` in coordinator.toml describe them.

A rule matches a record whose fields (dotted paths reach into nested objects, and into lists by position) equal
every value of its `when`; it makes an alert of its `type` whose fields are its `fields`. A field's text is a
template: `{field}`, `{dotted.path}`, `{field|default}` (`{{` and `}}` are braces); a template that is one
placeholder alone gives the value as it is (a number stays a number), otherwise each value is written into the
text. A value that is missing (or null) takes the default; without one the alert has no such field, and its
validation says so. The alert's `timestamp` is the record's unless the rule gives one. Rules are tried in order
and the first that matches wins; alerts in the coordinator's own form are never mapped.

Rules are checked once, when the settings are read; `configure` makes them the ones every reader applies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from hashlib import sha256
from typing import Any, Final

from domain.alerts import AlertType

Path = tuple[str, ...]
MISSING: Final = object()
"""What a path or template gives when the record has no value there."""
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}|]*)(?:\|([^{}]*))?\}|[{}]")


class MappingError(ValueError):
    """A rule that cannot be used; the message says what is wrong with it."""


def parse_path(text: str) -> Path:
    """`("data", "crisis_id")` for `data.crisis_id`; MappingError for an empty path or segment."""
    path = tuple(part.strip() for part in text.strip().split("."))
    if not all(path):
        raise MappingError(f"{text!r} is not a field path (dotted names, e.g. data.crisis_id)")
    return path


def resolve(record: Any, path: Path) -> Any:
    """The value at `path` in `record`, or `MISSING`."""
    value = record
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


@dataclass(frozen=True, slots=True)
class Placeholder:
    """`{path}` or `{path|default}`."""

    path: Path
    default: str | None

    def value(self, record: Any) -> Any:
        found = resolve(record, self.path)
        if found is MISSING or found is None:
            return MISSING if self.default is None else self.default
        return found


@dataclass(frozen=True, slots=True)
class Template:
    """A field's text: literal pieces and placeholders."""

    pieces: tuple[str | Placeholder, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """The template `text` is; MappingError naming the character of a brace that opens or closes nothing."""
        pieces: list[str | Placeholder] = []
        literal, end = [], 0
        for match in _TOKEN.finditer(text):
            literal.append(text[end : match.start()])
            end = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                literal.append(token[0])
            elif token in ("{", "}"):
                raise MappingError(f"template {text!r}: unmatched {token!r} at character {match.start() + 1} "
                                   "(write {{ or }} for a brace)")
            else:
                pieces.append("".join(literal))
                literal = []
                pieces.append(Placeholder(parse_path(match.group(1)), match.group(2)))
        literal.append(text[end:])
        pieces.append("".join(literal))
        return cls(tuple(piece for piece in pieces if piece != ""))

    def render(self, record: Any) -> Any:
        """The field's value for `record`, or `MISSING` when a placeholder has neither a value nor a default."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], Placeholder):
            return self.pieces[0].value(record)
        text: list[str] = []
        for piece in self.pieces:
            value = piece if isinstance(piece, str) else piece.value(record)
            if value is MISSING:
                return MISSING
            text.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        return "".join(text)


@dataclass(frozen=True, slots=True)
class Rule:
    """One mapping rule, checked. `identity` names it and digests its content: recorded with what it made."""

    index: int
    name: str | None
    when: tuple[tuple[Path, Any], ...]
    type: AlertType
    fields: tuple[tuple[str, Any], ...]
    """Each alert field with its `Template`, or its literal value when not a string."""
    identity: str

    @property
    def label(self) -> str:
        """`mappings[0]`, with the rule's name if it has one: `mappings[0] (upstream-crisis)`."""
        return f"mappings[{self.index}]" + (f" ({self.name})" if self.name else "")

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether every field of `when` has the value given."""
        return all(_equal(resolve(record, path), wanted) for path, wanted in self.when)

    def alert_of(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The alert the rule makes of `record` (not validated yet)."""
        alert: dict[str, Any] = {"type": self.type.value}
        for name, value in self.fields:
            rendered = value.render(record) if isinstance(value, Template) else value
            if rendered is not MISSING:
                alert[name] = rendered
        if "timestamp" not in alert and "timestamp" in record:
            alert["timestamp"] = record["timestamp"]
        return alert


def parse_rule(index: int, name: str | None, when: Mapping[str, Any], kind: str, fields: Mapping[str, Any]) -> Rule:
    """The rule a `[[mappings]]` table describes; MappingError saying what is wrong with it."""
    from adapters.alert_schema import required_fields  # the schema is loaded only when there are rules

    if not when:
        raise MappingError("when: give at least one field to match")
    upper = kind.strip().upper()
    if upper not in AlertType.__members__:
        raise MappingError(f"type: {kind!r} is not an alert type (one of {', '.join(AlertType)})")
    alert_type = AlertType(upper)
    if "type" in fields:
        raise MappingError("fields: 'type' is the rule's own type, not a field")
    missing = [needed for needed in required_fields(alert_type) if needed not in fields]
    if missing:
        raise MappingError(f"fields: a {alert_type.value} needs {', '.join(repr(name) for name in missing)}")
    for where, value in [*((f"when.{key}", value) for key, value in when.items()),
                         *((f"fields.{key}", value) for key, value in fields.items())]:
        _check_value(where, value)
    parsed_fields: list[tuple[str, Any]] = []
    for key, value in fields.items():
        try:
            parsed_fields.append((key, Template.parse(value) if isinstance(value, str) else value))
        except MappingError as error:
            raise MappingError(f"fields.{key}: {error}") from None
    content = {"when": dict(when), "type": alert_type.value, "fields": dict(fields)}
    digest = sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    return Rule(index, name, tuple((parse_path(key), value) for key, value in when.items()), alert_type,
                tuple(parsed_fields), f"{name or f'mappings[{index}]'}@{digest[:12]}")


def _check_value(where: str, value: Any) -> None:
    """MappingError unless `value` is plain JSON (TOML dates and times are not)."""
    if isinstance(value, date | time):
        raise MappingError(f"{where}: a TOML date or time; write it as a string")
    if isinstance(value, Mapping):
        for key, member in value.items():
            _check_value(f"{where}.{key}", member)
    elif isinstance(value, list):
        for position, member in enumerate(value):
            _check_value(f"{where}[{position}]", member)


def _equal(found: Any, wanted: Any) -> bool:
    """JSON equality: numbers by value, but a boolean is never a number."""
    if found is MISSING:
        return False
    if isinstance(found, bool) or isinstance(wanted, bool):
        return type(found) is type(wanted) and found == wanted
    if isinstance(found, int | float) and isinstance(wanted, int | float):
        return found == wanted
    return type(found) is type(wanted) and bool(found == wanted)


def first_match(rules: Sequence[Rule], record: Mapping[str, Any]) -> Rule | None:
    """The first rule that matches `record`, if any."""
    return next((rule for rule in rules if rule.matches(record)), None)


@dataclass(frozen=True, slots=True)
class Mappings:
    """The mapping rules, and the fields that name the task and agent an observation is about (first found)."""

    rules: tuple[Rule, ...] = ()
    task_fields: tuple[Path, ...] = (("task_id",),)
    agent_fields: tuple[Path, ...] = (("agent_id",),)


_configured = Mappings()


def current() -> Mappings:
    """The mappings readers apply unless given others (the settings', once the services are built)."""
    return _configured


def configure(mappings: Mappings) -> None:
    """Make `mappings` the ones `current` returns, for this process."""
    global _configured
    _configured = mappings
