"""What one decoded input item is: an alert, an observation, or quarantined (with why).

An object in the coordinator's own form (its `type` one of the alert types) is validated as an alert. Any other
object is first offered to the mapping rules (`adapters.mappings`): the first that matches makes an alert of it,
validated like any other, and the record is observed with it (an invalid alert quarantines the record, naming the
rule). A record no rule matches and that has no `type` (nor an alert type in the wrong field) is an observation
when it is well formed (an object with a `timestamp`, an `event_id` or an `event_type`); anything else is
quarantined: an object whose `type` is no alert type speaks the alerts' form and gets it wrong. An observation
passes the same checks of ranges and sizes as an alert (its timestamp, if it has one, is a valid one), since it
is stored whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from adapters import mappings
from adapters.alert_limits import ID_LIMIT, unrepresentable
from adapters.alert_schema import AlertRejected, NotAnAlert, is_alert_type, timestamp_of, to_alert
from domain.alerts import Item, Observation, Quarantined, fingerprint

RECORD_KEYS = ("event_id", "event_type")
"""Fields that make an object without a timestamp a well-formed record of the hive."""


def item_for(value: Any, raw: str, source: str, line: int | None, index: int | None,
             rules: mappings.Mappings | None = None, decoded: bool = False) -> Item:
    """The item a decoded `value` (written as `raw`) is, under `rules` (by default the configured ones).

    `decoded`: `raw` is the very text `value` was decoded from (not an excerpt or a text made from it again)."""
    chosen = rules or mappings.current()
    if isinstance(value, dict) and not is_alert_type(value.get("type")):
        rule = mappings.first_match(chosen.rules, value)
        if rule is not None:
            return _mapped(rule, value, raw, source, line, index)
    try:
        return to_alert(value, source, line, raw if decoded else None)
    except NotAnAlert as exc:
        if not well_formed(value):
            return Quarantined(source, line, index, raw, exc.reason)
        try:
            return to_observation(value, source, line, chosen, index)
        except AlertRejected as rejected:
            return Quarantined(source, line, index, raw, rejected.reason)
    except AlertRejected as exc:
        return Quarantined(source, line, index, raw, exc.reason)


def well_formed(value: Mapping[str, Any]) -> bool:
    """Whether an object that is no alert is still a record worth keeping: it has a timestamp, or says what it is."""
    return "timestamp" in value or any(isinstance(value.get(key), str) for key in RECORD_KEYS)


def to_observation(value: dict[str, Any], source: str, line: int | None, rules: mappings.Mappings | None = None,
                   index: int | None = None) -> Observation:
    """The observation a well-formed record is; AlertRejected when it holds what cannot be stored or a bad
    timestamp."""
    problem = unrepresentable(value)
    if problem is not None:
        raise AlertRejected(problem)
    at = None
    if "timestamp" in value:
        try:
            at = timestamp_of(value["timestamp"])
        except ValueError as error:
            raise AlertRejected(f"field 'timestamp': {error}") from None
    chosen = rules or mappings.current()
    return Observation(fingerprint(value), value, at, _named(value, chosen.task_fields),
                       _named(value, chosen.agent_fields), source=source, line=line, index=index)


def _mapped(rule: mappings.Rule, value: dict[str, Any], raw: str, source: str, line: int | None,
            index: int | None) -> Item:
    """The observation of a record `rule` matched, with the alert it made; or the record quarantined naming the rule."""
    try:
        alert = to_alert(rule.alert_of(value), source, line)
        observed = to_observation(value, source, line)
    except AlertRejected as exc:
        return Quarantined(source, line, index, raw, f"mapping {rule.label}: {exc.reason}", rule.identity)
    # the record's identity, whatever the rules make of it
    alert = replace(alert, fingerprint=observed.fingerprint, fingerprint_of_raw=False)
    return Observation(observed.fingerprint, value, observed.at, alert.task_id, alert.agent_id, rule.identity, alert,
                       source=source, line=line, index=index)


def _named(value: Mapping[str, Any], paths: tuple[mappings.Path, ...]) -> str | None:
    """The first id found at one of `paths` (a non-blank string of at most `ID_LIMIT` characters)."""
    for path in paths:
        found = mappings.resolve(value, path)
        if isinstance(found, str) and found.strip() and len(found) <= ID_LIMIT:
            return found
    return None
