"""Mapping rules: matching on fields, templates with dotted paths and defaults, the checks a rule passes before it
is used, and what an item becomes under them (an alert, an observation, or quarantined naming the rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters.alert_items import item_for
from adapters.mappings import MISSING, MappingError, Mappings, Rule, Template, first_match, parse_path, parse_rule
from domain.alerts import Alert, AlertType, Observation, Quarantined

T = "2025-07-17T00:50:16.628079"
ENVELOPE: dict[str, Any] = {
    "event_type": "coordination_alert", "alert_type": "PM_AGENT_ALERT_HIGH", "severity": "high", "timestamp": T,
    "message": "[HIGH] Crisis: agent_timeout", "resolved": False, "schema_version": "1.0",
    "data": {"crisis_id": "crisis_1", "impact_assessment": {"timeline_impact_hours": 4,
                                                             "affected_components": ["api_gateway"]}},
}
CRISIS_FIELDS = {"task_id": "{data.crisis_id}", "agent_id": "{data.agent_id|unknown-agent}",
                 "escalation_level": "red", "description": "{message}"}


def rule(when: dict[str, Any] | None = None, kind: str = "COORDINATION_CRISIS", fields: dict[str, Any] | None = None,
         index: int = 0, name: str | None = None) -> Rule:
    return parse_rule(index, name, when or {"event_type": "coordination_alert"}, kind,
                      CRISIS_FIELDS if fields is None else fields)


def item(value: Any, *rules: Rule, **options: Any) -> Any:
    return item_for(value, "raw text", "alerts.json", 7, 2, Mappings(rules, **options))


# --- matching --------------------------------------------------------------------------------------------------------


def test_a_rule_matches_when_every_field_of_when_has_its_value() -> None:
    assert rule({"event_type": "coordination_alert", "severity": "high"}).matches(ENVELOPE)
    assert not rule({"event_type": "coordination_alert", "severity": "low"}).matches(ENVELOPE)
    assert not rule({"no_such_field": "high"}).matches(ENVELOPE)


def test_when_reaches_into_nested_objects_and_lists_by_dotted_paths() -> None:
    assert rule({"data.crisis_id": "crisis_1"}).matches(ENVELOPE)
    assert rule({"data.impact_assessment.timeline_impact_hours": 4}).matches(ENVELOPE)
    assert rule({"data.impact_assessment.affected_components.0": "api_gateway"}).matches(ENVELOPE)
    assert not rule({"data.impact_assessment.affected_components.1": "api_gateway"}).matches(ENVELOPE)
    assert not rule({"message.length": 5}).matches(ENVELOPE), "a path through a string finds nothing"


def test_equality_is_json_equality_where_a_boolean_is_never_a_number() -> None:
    assert rule({"resolved": False}).matches(ENVELOPE)
    assert not rule({"resolved": 0}).matches(ENVELOPE)
    assert rule({"data.impact_assessment.timeline_impact_hours": 4.0}).matches(ENVELOPE)
    assert not rule({"schema_version": 1.0}).matches(ENVELOPE), "text is not a number"


def test_the_first_rule_that_matches_wins() -> None:
    broad = rule({"event_type": "coordination_alert"}, index=1)
    resolved = rule({"event_type": "coordination_alert", "resolved": True}, index=0)
    assert first_match([resolved, broad], ENVELOPE) is broad
    assert first_match([resolved, broad], {**ENVELOPE, "resolved": True}) is resolved
    assert first_match([resolved], ENVELOPE) is None


# --- templates -------------------------------------------------------------------------------------------------------


def test_a_lone_placeholder_gives_the_value_as_it_is_and_text_gets_the_values_written_in() -> None:
    assert Template.parse("{data.impact_assessment.timeline_impact_hours}").render(ENVELOPE) == 4
    assert Template.parse("{data.impact_assessment}").render(ENVELOPE) == ENVELOPE["data"]["impact_assessment"]
    assert Template.parse("{severity}: {message} ({data.impact_assessment.timeline_impact_hours} h)").render(
        ENVELOPE) == "high: [HIGH] Crisis: agent_timeout (4 h)"
    assert Template.parse("plain text").render(ENVELOPE) == "plain text"


def test_a_missing_or_null_value_takes_the_default_and_without_one_the_template_gives_nothing() -> None:
    record = {**ENVELOPE, "owner": None}
    assert Template.parse("{data.agent_id|unknown-agent}").render(record) == "unknown-agent"
    assert Template.parse("{owner|nobody}").render(record) == "nobody"
    assert Template.parse("{owner|}").render(record) == ""
    assert Template.parse("agent {data.agent_id|unknown}").render(record) == "agent unknown"
    assert Template.parse("{data.agent_id}").render(record) is MISSING
    assert Template.parse("agent {owner}").render(record) is MISSING
    assert Template.parse("{severity|low}").render(record) == "high", "a value present wins over the default"


def test_doubled_braces_are_braces_and_a_default_may_hold_a_bar() -> None:
    assert Template.parse("{{{severity}}}").render(ENVELOPE) == "{high}"
    assert Template.parse("{nothing|a|b}").render(ENVELOPE) == "a|b"


@pytest.mark.parametrize(("text", "problem"), [
    ("{data.crisis_id", "unmatched '{' at character 1"),
    ("crisis }", "unmatched '}' at character 8"),
    ("{}", "'' is not a field path"),
    ("{data..crisis_id}", "'data..crisis_id' is not a field path"),
])
def test_a_template_that_cannot_be_read_is_refused_saying_where(text: str, problem: str) -> None:
    with pytest.raises(MappingError) as raised:
        Template.parse(text)
    assert problem in str(raised.value)


# --- rules as alerts -------------------------------------------------------------------------------------------------


def test_a_rule_makes_the_alert_of_its_type_from_its_fields_stamped_with_the_records_time() -> None:
    assert rule().alert_of(ENVELOPE) == {
        "type": "COORDINATION_CRISIS", "task_id": "crisis_1", "agent_id": "unknown-agent", "escalation_level": "red",
        "description": "[HIGH] Crisis: agent_timeout", "timestamp": T,
    }
    own_time = rule(fields={**CRISIS_FIELDS, "timestamp": "2025-07-18T00:00:00Z", "hours": 2})
    assert own_time.alert_of(ENVELOPE)["timestamp"] == "2025-07-18T00:00:00Z"
    assert own_time.alert_of(ENVELOPE)["hours"] == 2, "a value that is not text is taken as it is"


@pytest.mark.parametrize(("when", "kind", "fields", "problem"), [
    ({}, "TASK_COMPLETED", {"task_id": "t"}, "when: give at least one field to match"),
    ({"a": 1}, "CRISIS", {"task_id": "t"}, "type: 'CRISIS' is not an alert type"),
    ({"a": 1}, "COORDINATION_CRISIS", {"task_id": "t"}, "fields: a COORDINATION_CRISIS needs 'agent_id', "
                                                        "'escalation_level'"),
    ({"a": 1}, "TASK_COMPLETED", {"task_id": "t", "type": "X"}, "fields: 'type' is the rule's own type"),
    ({"a": 1}, "TASK_COMPLETED", {"task_id": "{id"}, "fields.task_id: template '{id': unmatched '{'"),
    ({"a": date(2025, 7, 17)}, "TASK_COMPLETED", {"task_id": "t"}, "when.a: a TOML date or time"),
    ({"a..b": 1}, "TASK_COMPLETED", {"task_id": "t"}, "'a..b' is not a field path"),
])
def test_a_rule_that_cannot_be_used_is_refused_saying_why(
    when: dict[str, Any], kind: str, fields: dict[str, Any], problem: str,
) -> None:
    with pytest.raises(MappingError) as raised:
        parse_rule(3, None, when, kind, fields)
    assert problem in str(raised.value)


def test_a_rules_type_is_read_in_any_case_and_its_identity_digests_its_content() -> None:
    named = rule(kind="coordination_crisis", name="upstream-crisis")
    assert named.type is AlertType.COORDINATION_CRISIS
    assert named.identity.startswith("upstream-crisis@") and named.label == "mappings[0] (upstream-crisis)"
    assert rule(index=4).identity.startswith("mappings[4]@")
    assert rule().identity.split("@")[1] == named.identity.split("@")[1], "the name is no part of the content"
    assert rule(fields={**CRISIS_FIELDS, "escalation_level": "orange"}).identity != rule().identity
    assert parse_path(" data.crisis_id ") == ("data", "crisis_id")


# --- what an item becomes --------------------------------------------------------------------------------------------


def test_a_matched_record_is_observed_with_the_alert_its_rule_made_under_the_records_fingerprint() -> None:
    crisis = rule(name="crisis")
    mapped = item(ENVELOPE, crisis)
    plain = item(ENVELOPE)
    assert isinstance(mapped, Observation) and isinstance(mapped.alert, Alert)
    assert mapped.rule == crisis.identity
    assert (mapped.alert.type, mapped.alert.task_id, mapped.alert.agent_id) == (
        AlertType.COORDINATION_CRISIS, "crisis_1", "unknown-agent")
    assert (mapped.task_id, mapped.agent_id) == ("crisis_1", "unknown-agent")
    assert mapped.fingerprint == mapped.alert.fingerprint == plain.fingerprint, "the record's, whatever the rules"
    assert (mapped.raw, mapped.line, mapped.index, mapped.alert.line) == (ENVELOPE, 7, 2, 7)


def test_a_rule_that_makes_an_invalid_alert_quarantines_the_record_naming_the_rule() -> None:
    bad = rule(fields={**CRISIS_FIELDS, "escalation_level": "{severity}"}, index=1, name="by-severity")
    found = item(ENVELOPE, bad)
    assert isinstance(found, Quarantined)
    assert found.reason == "mapping mappings[1] (by-severity): field 'escalation_level': 'high' is not one of red, " \
                           "orange, yellow, green"
    assert (found.rule, found.raw, found.line, found.index) == (bad.identity, "raw text", 7, 2)
    missing = item(ENVELOPE, rule(fields={**CRISIS_FIELDS, "agent_id": "{data.agent_id}"}))
    assert isinstance(missing, Quarantined) and missing.reason == "mapping mappings[0]: missing field 'agent_id'"


def test_an_alert_as_written_is_never_mapped_and_an_unknown_type_is_still_quarantined() -> None:
    native = {"type": "COORDINATION_CRISIS", "task_id": "t", "agent_id": "a", "escalation_level": "yellow",
              "timestamp": T, "event_type": "coordination_alert"}
    assert isinstance(item(native, rule()), Alert)
    unknown = item({"type": "NO_SUCH_TYPE", "timestamp": T})
    assert isinstance(unknown, Quarantined) and unknown.reason == "unknown alert type 'NO_SUCH_TYPE'"
    explicit = item({"type": "incident", "event_type": "coordination_alert", "timestamp": T, "data": {"crisis_id": "c"},
                     "message": "m"}, rule())
    assert isinstance(explicit, Observation) and explicit.alert is not None, "a rule may take another system's type"


def test_a_well_formed_record_that_no_rule_matches_is_an_observation_naming_what_it_names() -> None:
    observed = item({**ENVELOPE, "task_id": "task-9", "agent_id": "agent-2"})
    assert isinstance(observed, Observation) and observed.alert is None and observed.rule is None
    assert observed.at == datetime(2025, 7, 17, 0, 50, 16, 628079, tzinfo=UTC)
    assert (observed.task_id, observed.agent_id) == ("task-9", "agent-2")
    configured = item(ENVELOPE, task_fields=(("task",), ("data", "crisis_id")), agent_fields=(("source",),))
    assert (configured.task_id, configured.agent_id) == ("crisis_1", None)
    untimed = item({"event_id": "evt-1", "message": "done"})
    assert isinstance(untimed, Observation) and untimed.at is None


@pytest.mark.parametrize(("value", "reason"), [
    ({"task_id": "task-1"}, "missing field 'type'"),
    ({"event_type": 5, "source": "x"}, "missing field 'type' (found event_type 5, not a supported alert type)"),
    ({"alert_type": "DEADLINE_WARNING", "timestamp": T},
     "missing field 'type' (found alert_type 'DEADLINE_WARNING'; the alert type belongs in 'type')"),
    ({"event_type": "completion", "timestamp": "2025-07-16T21:44:26.3NZ"},
     "field 'timestamp': invalid timestamp '2025-07-16T21:44:26.3NZ' (expected ISO 8601)"),
    ({"event_type": "completion", "message": "half \ud800"},
     "field 'message': lone surrogate '\\ud800' at character 6 (not representable as UTF-8)"),
    ({"event_type": "completion", "message": "x" * 70_000},
     "field 'message': 70,000 bytes long, over the 65,536-byte limit for texts"),
    ([ENVELOPE], "expected a JSON object, got array"),
])
def test_what_is_really_broken_is_still_quarantined(value: Any, reason: str) -> None:
    found = item(value, rule({"no_match": True}))
    assert isinstance(found, Quarantined) and found.reason == reason
