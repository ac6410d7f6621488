"""What the running service logs: each batch it ingests, each escalation to ORANGE or above, each dead letter, a
file waited for; as text for people or as JSON Lines for machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.service_support import Services, crisis
from tests.e2e.service_support import alerts as alerts  # pytest fixture
from tests.e2e.service_support import services as services  # pytest fixture
from tests.waiting import wait_for


def logged(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_json_log_has_one_event_a_line_for_batches_escalations_and_dead_letters(
    services: Services, alerts: Path,
) -> None:
    (services.home).mkdir(parents=True, exist_ok=True)
    (services.home / "coordinator.toml").write_text(
        '[channels.command]\nargv = ["/nonexistent/agent-messenger", "{message}"]\n'
        '[[routes]]\nrecipient = "agent-*"\nchannel = "command"\n', encoding="utf-8")
    service = services.run("--alerts-file", str(alerts), "--log-format", "json")
    alerts.write_text(crisis("task-1", agent="agent-1"), encoding="utf-8")
    wait_for(lambda: {"ingested", "escalated", "dead_letter"} <= {row.get("event") for row in logged(service.stderr())},
             "the batch, the escalation and the dead letter in the log")
    rows = logged(service.stderr())
    assert all(set(row) >= {"time", "message"} for row in rows)
    [batch] = [row for row in rows if row.get("event") == "ingested"]
    assert (batch["processed"], batch["duplicates"], batch["quarantined"]) == (1, 0, 0)
    [escalated] = [row for row in rows if row.get("event") == "escalated"]
    assert (escalated["subject"], escalated["level"]) == ("task-1", "RED")
    [dead] = [row for row in rows if row.get("event") == "dead_letter"]
    assert dead["recipient"] == "agent-1" and "not found" in dead["error"]


def test_the_text_log_tells_a_person_what_happened(services: Services, alerts: Path) -> None:
    service = services.run("--alerts-file", str(alerts))
    wait_for(lambda: f"waiting for {alerts} to be created" in service.stderr(), "the wait for the file")
    alerts.write_text(crisis("task-1") + "not json\n", encoding="utf-8")
    wait_for(lambda: "escalated to RED" in service.stderr(), "the escalation in the log")
    text = service.stderr()
    assert "1 processed, 0 duplicates, 1 quarantined (see `coordinator quarantine`)" in text
    assert "task task-1 escalated to RED" in text
