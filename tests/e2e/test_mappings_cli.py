"""`coordinator mappings test`, and the real upstream corpus going through `run --once` with the example mappings
and without them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Result

Run = Callable[..., Result]
RULES = ROOT / "examples" / "upstream-mappings.toml"
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
NO_CORPUS = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no real alert files at {CORPUS}")
AS_OF = "2025-07-17T02:00:00Z"


def with_rules(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    shutil.copy(RULES, tmp_path / "home" / "coordinator.toml")


@NO_CORPUS
def test_mappings_test_shows_the_rule_each_record_matched_and_the_alert_it_became(coordinator: Run) -> None:
    result = coordinator("mappings", "test", str(CORPUS / "alerts-envelope.json"), "--rules", str(RULES), "--json")
    assert result.code == 0, result.err
    first, second = result.json()
    assert (first["line"], first["index"], first["outcome"]) == (3, 0, "mapped")
    assert first["rule"].startswith("upstream-crisis-high@")
    assert first["alert"] == {"type": "COORDINATION_CRISIS", "task_id": "crisis_1752702616",
                              "agent_id": "unknown-agent", "escalation_level": "red",
                              "description": "[HIGH] Crisis: agent_timeout - Test crisis: agent_timeout",
                              "timestamp": "2025-07-17T00:50:16.628079"}
    assert first["record"]["alert_type"] == "PM_AGENT_ALERT_HIGH"
    assert second["alert"]["description"] == "Crisis response executed for agent_timeout"
    shown = coordinator("mappings", "test", str(CORPUS / "alerts-envelope.json"), "--rules", str(RULES))
    assert "2 record(s): 0 alert(s) as written, 2 mapped, 0 observation(s), 0 quarantined" in shown.out


@NO_CORPUS
def test_mappings_test_uses_the_homes_rules_and_says_what_is_an_alert_an_observation_or_quarantined(
    coordinator: Run, tmp_path: Path,
) -> None:
    with_rules(tmp_path)
    events = coordinator("mappings", "test", str(CORPUS / "events-document-active.json"), "--json").json()
    assert [row["outcome"] for row in events] == ["observation"] * 6 + ["mapped"] + ["observation"] * 2
    assert events[6]["rule"].startswith("upstream-warning@") and events[6]["alert"]["escalation_level"] == "yellow"
    stream = coordinator("mappings", "test", str(CORPUS / "jsonl-crisis-stream.json"), "--json").json()
    assert [row["outcome"] for row in stream] == ["alert"] * 5 + ["quarantined", "alert"]
    assert "3NZ" in stream[5]["reason"]
    assert not (tmp_path / "home" / "events.sqlite").exists(), "nothing is recorded"


def test_mappings_test_refuses_a_bad_rules_file_naming_the_rule(coordinator: Run, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[mappings]]\nname = "typo"\nwhen = { event_type = "x" }\ntype = "COORDINATION_CRISES"\n')
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text('{"event_id": "evt-1"}\n')
    result = coordinator("mappings", "test", str(alerts), "--rules", str(rules))
    assert result.code == 2
    assert "mappings[0] (typo): type: 'COORDINATION_CRISES' is not an alert type" in result.err
    assert coordinator("mappings", "test", str(tmp_path / "nowhere.json")).code == 2


def test_a_bad_rule_in_the_configuration_stops_the_run_at_start_up_naming_it(coordinator: Run, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "coordinator.toml").write_text(
        '[[mappings]]\nwhen = { event_type = "warning" }\ntype = "COORDINATION_CRISIS"\n'
        'fields = { task_id = "{source", agent_id = "{source}", escalation_level = "yellow" }\n')
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text('{"event_id": "evt-1"}\n')
    result = coordinator("run", "--once", "--alerts-file", str(alerts))
    assert result.code == 2
    assert "mappings[0]: fields.task_id: template '{source': unmatched '{'" in result.err
    assert not (tmp_path / "home" / "events.sqlite").exists()


@NO_CORPUS
@pytest.mark.parametrize("mapped", [False, True], ids=["without mappings", "with the example mappings"])
def test_the_real_corpus_goes_in_with_nothing_quarantined_but_the_malformed_timestamp(
    coordinator: Run, tmp_path: Path, mapped: bool,
) -> None:
    if mapped:
        with_rules(tmp_path)
    totals = {"processed": 0, "observed": 0, "duplicates": 0, "quarantined": 0}
    for path in sorted(CORPUS.glob("*.json")):
        result = coordinator("run", "--once", "--alerts-file", str(path), "--as-of", AS_OF, "--json")
        assert result.code == 0, result.err
        totals = {key: totals[key] + value for key, value in result.json().items()}
    assert totals == ({"processed": 9, "observed": 8, "duplicates": 14, "quarantined": 1} if mapped else
                      {"processed": 6, "observed": 11, "duplicates": 14, "quarantined": 1})
    quarantined = coordinator("quarantine", "--json").json()
    assert [row["line"] for row in quarantined] == [6] and "3NZ" in quarantined[0]["raw"]
    observed = coordinator("events", "50", "--type", "Observed", "--json").json()
    assert len(observed) == 11 and {row["subject"] for row in observed} == {"hive"}
    if mapped:
        assert coordinator("task", "show", "crisis_1752702616", "--json").json()["level"] == "RED"
        steps = coordinator("audit", "--task", "crisis_1752702616", "--json").json()[0]["steps"]
        assert [step["step"] for step in steps].count("observation") == 2
