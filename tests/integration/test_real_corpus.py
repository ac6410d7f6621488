"""Every real alert file from the upstream system ingests without a crash, and every record counts: alerts are
applied, the hive's other records are observations (or, with the example mappings, alerts), only broken input is
quarantined."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import mappings
from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import CONFIG_FILE_NAME, load_settings

CORPUS = Path(os.environ.get("COORDINATOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"))
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
EXAMPLE_MAPPINGS = Path(__file__).resolve().parents[2] / "examples" / "upstream-mappings.toml"
NO_CORPUS = f"no real alert files at {CORPUS} (set COORDINATOR_CORPUS)"
MALFORMED = "field 'timestamp': invalid timestamp '2025-07-16T21:44:26.3NZ' (expected ISO 8601)"


@pytest.fixture(autouse=True)
def no_rules_afterwards() -> Iterator[None]:
    """Building services configures the readers' rules for the process: leave none behind."""
    yield
    mappings.configure(mappings.Mappings())


def home(tmp_path: Path, mapped: bool) -> Services:
    """The services of a fresh home, with the example mappings in its configuration or without any."""
    path = tmp_path / "home"
    path.mkdir()
    if mapped:
        shutil.copy(EXAMPLE_MAPPINGS, path / CONFIG_FILE_NAME)
    return build(load_settings(path))


@pytest.mark.skipif(not FILES, reason=NO_CORPUS)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_a_real_alert_file_ingests_and_accounts_for_every_item(path: Path, tmp_path: Path) -> None:
    items = list(read_alerts(path))
    services = home(tmp_path, mapped=False)
    report = services.coordinator.ingest(items)
    quarantined = services.ledger.quarantined()
    services.close()
    assert report.processed + report.observed + report.duplicates + report.quarantined == len(items) > 0
    assert len(quarantined) == report.quarantined
    assert all(row["reason"] and row["source"] == str(path) for row in quarantined)


@pytest.mark.skipif(not FILES, reason=NO_CORPUS)
@pytest.mark.parametrize("mapped", [False, True], ids=["without mappings", "with the example mappings"])
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_nothing_of_the_real_corpus_is_quarantined_but_the_malformed_timestamp(
    path: Path, mapped: bool, tmp_path: Path,
) -> None:
    services = home(tmp_path, mapped)
    report = services.coordinator.ingest(read_alerts(path))
    reasons = [row["reason"] for row in services.ledger.quarantined()]
    services.close()
    assert reasons == ([MALFORMED] if path.name == "jsonl-crisis-stream.json" else [])
    assert report.duplicates == 0


@pytest.mark.skipif(not FILES, reason=NO_CORPUS)
def test_without_mappings_the_hives_own_records_are_observations(tmp_path: Path) -> None:
    services = home(tmp_path, mapped=False)
    reports = {path.name: services.coordinator.ingest(read_alerts(path)).as_dict() for path in FILES}
    observed = services.coordinator.get_hive().observations
    services.close()
    assert reports["alerts-envelope.json"] == {"processed": 0, "observed": 2, "duplicates": 0, "quarantined": 0}
    assert reports["events-document-active.json"] == {"processed": 0, "observed": 9, "duplicates": 0,
                                                      "quarantined": 0}
    assert reports["events-document-complete.json"] == {"processed": 0, "observed": 0, "duplicates": 9,
                                                        "quarantined": 0}, "the same events, observed once"
    assert observed == 11


@pytest.mark.skipif(not FILES, reason=NO_CORPUS)
def test_with_the_example_mappings_crises_and_warnings_become_alerts(tmp_path: Path) -> None:
    services = home(tmp_path, mapped=True)
    reports = {path.name: services.coordinator.ingest(read_alerts(path)).as_dict() for path in FILES}
    crisis = services.coordinator.get_task("crisis_1752702616")
    warned = services.coordinator.get_task("test_runner")
    observed = services.coordinator.get_hive().observations
    services.close()
    assert reports["alerts-envelope.json"] == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 0}
    assert reports["events-document-active.json"] == {"processed": 1, "observed": 8, "duplicates": 0,
                                                      "quarantined": 0}
    assert (crisis.stage.level, crisis.agent_id, crisis.crisis_note) == (
        "RED", "unknown-agent", "Crisis response executed for agent_timeout")
    assert (warned.stage.level, warned.agent_id) == ("YELLOW", "test_runner")
    assert observed == 11, "a mapped record is observed too, with the alert it became"


@pytest.mark.skipif(not FILES, reason=NO_CORPUS)
def test_the_malformed_timestamp_in_the_real_stream_is_quarantined_by_line(tmp_path: Path) -> None:
    path = CORPUS / "jsonl-crisis-stream.json"
    services = home(tmp_path, mapped=False)
    report = services.coordinator.ingest(read_alerts(path))
    rows = services.ledger.quarantined()
    task = services.coordinator.get_task("reassign-task")
    services.close()
    bad_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "3NZ" in line)
    assert any(row["line"] == bad_line and "timestamp" in row["reason"] for row in rows)
    assert report.processed > 0
    assert task.stage.level == "RED"
