"""The alert file's schema: one pydantic model per alert type, and the mapping to domain `Alert`s."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter, ValidationError

from adapters.alert_limits import (
    check_duration,
    check_id,
    check_timestamp,
    plainly_representable,
    unrepresentable,
)
from adapters.timeparse import parse_duration, parse_timestamp
from domain.alerts import MILESTONE_PREFIX, Alert, AlertType, failure_reason, fingerprint
from domain.moments import later
from domain.stages import Stage


class AlertRejected(ValueError):
    """An input item that is not a valid alert; `reason` says which field is wrong and how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAnAlert(AlertRejected):
    """An object without a `type` (nor an alert type elsewhere): not an alert, perhaps another record of the hive."""


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
               list: "array", dict: "object"}
_LEVELS = ("red", "orange", "yellow", "green")
log = logging.getLogger(__name__)


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type: object, array, string, number, boolean or null."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _ident(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {json_type(value)}")
    if not value.strip():
        raise ValueError("must not be empty")
    return check_id(value)


def _text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"expected a string, got {json_type(value)}")
    return value


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 timestamp string, got {json_type(value)}")
    return check_timestamp(parse_timestamp(value), value)


def timestamp_of(value: object) -> datetime:
    """An item's timestamp as alerts' are validated (aware, within the accepted range); ValueError otherwise."""
    return _timestamp(value)


def _duration(value: object) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a duration, got {json_type(value)}")
    return check_duration(parse_duration(value), value)


def _level(value: object) -> Stage:
    if isinstance(value, str) and value.strip().lower() in _LEVELS:
        return Stage.from_level(value)
    got = "" if isinstance(value, str) else f" (got {json_type(value)})"
    raise ValueError(f"{_show(value)} is not one of {', '.join(_LEVELS)}{got}")


def _issues(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list of strings, got {json_type(value)}")
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueError(f"item {position} is not a string but {json_type(item)}")
    return value


Ident = Annotated[str, PlainValidator(_ident)]
Text = Annotated[str | None, PlainValidator(_text)]
Timestamp = Annotated[datetime, PlainValidator(_timestamp)]
OptionalTimestamp = Annotated[
    datetime | None, PlainValidator(lambda value: None if value is None else _timestamp(value))
]
Duration = Annotated[timedelta, PlainValidator(_duration)]
Level = Annotated[Stage, PlainValidator(_level)]
Issues = Annotated[list[str], PlainValidator(_issues)]


class _AlertModel(BaseModel):
    """Fields every alert has. Unknown fields are accepted; the raw item keeps them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    timestamp: Timestamp

    def build(self, fingerprint: str, raw: Mapping[str, Any], source: str, line: int | None) -> Alert:
        """The domain alert for this validated item, whose `fingerprint` is the digest of `raw`."""
        kind = _TYPES[self.type]
        self._check()
        return Alert(kind, self.timestamp, fingerprint, raw, source=source, line=line, **self._fields(),
                     fingerprint_of_raw=True)

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check(self) -> None:
        """Raise `AlertRejected` when the fields together say what the coordinator cannot represent."""


class CoordinationCrisis(_AlertModel):
    """A task's coordination is in trouble, at an escalation level."""

    type: Literal["COORDINATION_CRISIS"]
    task_id: Ident
    agent_id: Ident
    escalation_level: Level
    description: Text = None

    def _fields(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "agent_id": self.agent_id, "crisis_stage": self.escalation_level,
                "note": self.description}


class DeadlineWarning(_AlertModel):
    """A task's deadline is near."""

    type: Literal["DEADLINE_WARNING"]
    task_id: Ident
    agent_id: Ident
    time_remaining: Duration

    def _fields(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "agent_id": self.agent_id, "time_remaining": self.time_remaining}

    def _check(self) -> None:
        if later(self.timestamp, self.time_remaining) is None:
            raise AlertRejected("field 'time_remaining': the deadline it sets (timestamp + time_remaining) is after "
                                "the end of year 9999")


class AgentUnresponsive(_AlertModel):
    """An agent has not been heard from for a while."""

    type: Literal["AGENT_UNRESPONSIVE"]
    agent_id: Ident
    last_activity: Timestamp
    unresponsive_duration: Duration

    def _fields(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "last_activity": self.last_activity}


class TaskReassignment(_AlertModel):
    """A task moved from one agent to another."""

    type: Literal["TASK_REASSIGNMENT"]
    task_id: Ident
    old_agent: Ident
    new_agent: Ident
    reason: Text = None

    def _fields(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "agent_id": self.new_agent, "old_agent": self.old_agent,
                "note": self.reason}


class Phase1Milestone(_AlertModel):
    """A milestone's status, with what blocks it."""

    type: Literal["PHASE1_MILESTONE"]
    milestone: Ident
    status: Ident
    blocking_issues: Issues = Field(default_factory=list)
    assigned_agent: Ident

    def _fields(self) -> dict[str, Any]:
        note = f"blocking: {', '.join(self.blocking_issues)}" if self.blocking_issues else None
        return {"task_id": MILESTONE_PREFIX + self.milestone, "agent_id": self.assigned_agent,
                "milestone_status": self.status, "note": note}


class TaskAssigned(_AlertModel):
    """A task was given to an agent, perhaps with a deadline."""

    type: Literal["TASK_ASSIGNED"]
    task_id: Ident
    agent_id: Ident
    deadline: OptionalTimestamp = None

    def _fields(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "agent_id": self.agent_id, "deadline": self.deadline}


class TaskCompleted(_AlertModel):
    """A task is done."""

    type: Literal["TASK_COMPLETED"]
    task_id: Ident

    def _fields(self) -> dict[str, Any]:
        return {"task_id": self.task_id}


class AgentHeartbeat(_AlertModel):
    """An agent is alive."""

    type: Literal["AGENT_HEARTBEAT"]
    agent_id: Ident

    def _fields(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id}


AlertModel = Annotated[
    CoordinationCrisis | DeadlineWarning | AgentUnresponsive | TaskReassignment | Phase1Milestone
    | TaskAssigned | TaskCompleted | AgentHeartbeat,
    Field(discriminator="type"),
]
ALERT_ADAPTER: TypeAdapter[AlertModel] = TypeAdapter(AlertModel)
_TYPES = {kind.value: kind for kind in AlertType}
_MODELS: dict[str, type[_AlertModel]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (CoordinationCrisis, DeadlineWarning, AgentUnresponsive, TaskReassignment, Phase1Milestone,
                  TaskAssigned, TaskCompleted, AgentHeartbeat)
}


def required_fields(kind: AlertType) -> tuple[str, ...]:
    """The fields an alert of type `kind` must have besides its `type` and `timestamp`."""
    fields = _MODELS[kind.value].model_fields
    return tuple(name for name, info in fields.items() if info.is_required() and name not in ("type", "timestamp"))


def to_alert(raw: dict[str, Any], source: str, line: int | None = None, written: str | None = None) -> Alert:
    """Validate one decoded item and map it to a domain `Alert`; raise `AlertRejected` if it is not one.

    `written`: the very JSON text `raw` was decoded from, when the caller has it (not an excerpt or another
    encoding): its strings then need no look when the text shows none can be unrepresentable."""
    if not isinstance(raw, dict):
        raise AlertRejected(f"expected a JSON object, got {json_type(raw)}")
    if "type" not in raw:
        reason, hinted = _missing_type(raw)
        raise AlertRejected(reason) if hinted else NotAnAlert(reason)
    kind = raw["type"]
    if not isinstance(kind, str):
        raise AlertRejected(f"field 'type': expected a string, got {json_type(kind)}")
    upper = kind.strip().upper()
    if upper not in _TYPES:
        raise AlertRejected(f"unknown alert type {_show(kind)}")
    problem = None if written is not None and plainly_representable(written) else unrepresentable(raw)
    if problem is not None:
        raise AlertRejected(problem)
    try:
        model = ALERT_ADAPTER.validate_python(raw if upper == kind else {**raw, "type": upper})
        digest = fingerprint(raw)
        return model.build(digest, raw, source, line)
    except AlertRejected:
        raise
    except ValidationError as exc:
        raise AlertRejected(_describe(exc)) from None
    except (TypeError, ValueError) as exc:
        raise AlertRejected(f"not representable as JSON: {exc}") from None
    except Exception as exc:  # a backstop: no item may stop the reading of the others
        reason = failure_reason(exc)
        log.warning("quarantined %s line %s: %s", source, line, reason, exc_info=exc)
        raise AlertRejected(reason) from None


def is_alert_type(kind: object) -> bool:
    """Whether `kind` (an item's `type`) names one of the alert types, in any case."""
    return isinstance(kind, str) and kind.strip().upper() in _TYPES


def _missing_type(raw: Mapping[str, Any]) -> tuple[str, bool]:
    """Why an item without `type` is not an alert, and whether it names an alert type elsewhere (a misplaced type,
    not another kind of record)."""
    for key in ("alert_type", "event_type"):
        found = raw.get(key)
        if found is None:
            continue
        if is_alert_type(found):
            return f"missing field 'type' (found {key} {_show(found)}; the alert type belongs in 'type')", True
        return f"missing field 'type' (found {key} {_show(found)}, not a supported alert type)", False
    return "missing field 'type'", False


def _describe(exc: ValidationError) -> str:
    """One sentence for a validation failure: the missing fields, then each bad field (at most three)."""
    missing: list[str] = []
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        # Errors of a discriminated union are located under the tag: drop it.
        name = ".".join(str(part) for part in error["loc"][1:])
        if error["type"] == "missing":
            missing.append(f"'{name}'")
            continue
        context = error.get("ctx") or {}
        problems.append(f"field '{name}': {context['error'] if 'error' in context else error['msg']}")
    if missing:
        problems.insert(0, f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if len(problems) > 3:
        more = len(problems) - 3
        problems[3:] = [f"and {more} more problem{'s' if more > 1 else ''}"]
    return "; ".join(problems)
