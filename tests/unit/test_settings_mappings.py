"""Settings: `[[mappings]]` and `[observations]` are read and checked when the settings are, naming a bad rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.settings import load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import config_error, write_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "upstream-mappings.toml"


def test_the_example_mappings_load_as_checked_rules_in_their_order(tmp_path: Path) -> None:
    write_config(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    rules = load_settings(tmp_path).mapping_rules.rules
    assert [rule.name for rule in rules] == [
        "upstream-crisis-resolved", "upstream-crisis-critical", "upstream-crisis-high", "upstream-crisis-medium",
        "upstream-crisis-low", "upstream-warning"]
    assert [rule.index for rule in rules] == list(range(6))


def test_without_rules_nothing_is_mapped_and_observations_name_their_task_id_and_agent_id(tmp_path: Path) -> None:
    mappings = load_settings(tmp_path).mapping_rules
    assert (mappings.rules, mappings.task_fields, mappings.agent_fields) == ((), (("task_id",),), (("agent_id",),))


def test_the_fields_that_name_an_observations_task_and_agent_are_configurable(tmp_path: Path) -> None:
    write_config(tmp_path, '[observations]\ntask_fields = ["task_id", "data.crisis_id"]\nagent_fields = ["source"]\n')
    mappings = load_settings(tmp_path).mapping_rules
    assert (mappings.task_fields, mappings.agent_fields) == ((("task_id",), ("data", "crisis_id")), (("source",),))


@pytest.mark.parametrize(("rules", "problem"), [
    ('[[mappings]]\nname = "crisis"\nwhen = { event_type = "x" }\ntype = "COORDINATION_CRISIS"\n'
     'fields = { task_id = "{data.id", agent_id = "a", escalation_level = "red" }\n',
     "mappings[0] (crisis): fields.task_id: template '{data.id': unmatched '{' at character 1"),
    ('[[mappings]]\nwhen = { event_type = "x" }\ntype = "TASK_COMPLETED"\nfields = { task_id = "t" }\n'
     '[[mappings]]\nwhen = { event_type = "y" }\ntype = "CRISIS"\n',
     "mappings[1]: type: 'CRISIS' is not an alert type"),
    ('[[mappings]]\nwhen = { event_type = "x" }\ntype = "TASK_COMPLETED"\n',
     "mappings[0]: fields: a TASK_COMPLETED needs 'task_id'"),
    ('[[mappings]]\ntype = "TASK_COMPLETED"\nfields = { task_id = "t" }\n', "mappings.0.when"),
    ('[[mappings]]\nwhen = { a = 1 }\ntype = "TASK_COMPLETED"\nfields = { task_id = "t" }\nwhem = 1\n',
     "mappings.0.whem"),
    ('[observations]\ntask_fields = ["data."]\n', "observations.task_fields: 'data.' is not a field path"),
])
def test_a_bad_rule_is_a_config_error_naming_the_rule(tmp_path: Path, rules: str, problem: str) -> None:
    assert problem in config_error(tmp_path, rules)


def test_rules_may_come_from_the_environment_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = {"when": {"event_type": "warning"}, "type": "COORDINATION_CRISIS",
            "fields": {"task_id": "{source}", "agent_id": "{source}", "escalation_level": "yellow"}}
    monkeypatch.setenv("COORDINATOR_MAPPINGS", json.dumps([rule]))
    assert [rule.type.value for rule in load_settings(tmp_path).mapping_rules.rules] == ["COORDINATION_CRISIS"]
