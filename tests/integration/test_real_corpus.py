"""Every real alert file from the upstream system ingests without a crash; bad items are quarantined."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.alert_file import read_alerts
from cli.bootstrap import build
from cli.settings import Settings

CORPUS = Path(os.environ.get("COORDINATOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"))
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"no real alert files at {CORPUS} (set COORDINATOR_CORPUS)")
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_a_real_alert_file_ingests_and_accounts_for_every_item(path: Path, tmp_path: Path) -> None:
    items = list(read_alerts(path))
    services = build(Settings(home=tmp_path / "home"))
    report = services.coordinator.ingest(items)
    quarantined = services.ledger.quarantined()
    services.close()
    assert report.processed + report.duplicates + report.quarantined == len(items) > 0
    assert len(quarantined) == report.quarantined
    assert all(row["reason"] and row["source"] == str(path) for row in quarantined)


@pytest.mark.skipif(not FILES, reason=f"no real alert files at {CORPUS} (set COORDINATOR_CORPUS)")
def test_the_malformed_timestamp_in_the_real_stream_is_quarantined_by_line(tmp_path: Path) -> None:
    path = CORPUS / "jsonl-crisis-stream.json"
    services = build(Settings(home=tmp_path / "home"))
    report = services.coordinator.ingest(read_alerts(path))
    rows = services.ledger.quarantined()
    task = services.coordinator.get_task("reassign-task")
    services.close()
    bad_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "3NZ" in line)
    assert any(row["line"] == bad_line and "timestamp" in row["reason"] for row in rows)
    assert report.processed > 0
    assert task.stage.level == "RED"
