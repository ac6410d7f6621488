"""A coordinator writes to a PostgreSQL store only while it holds the store's writer lease: once its lease's session
ends, its saves and claims are refused with nothing recorded, and the coordinator that takes over is handed what
the past writer had claimed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.alert_file import read_alerts
from app.ledger import LeaseLost
from cli.bootstrap import Services, services
from cli.service import Service
from cli.settings import load_settings
from tests.integration.delivery_scenarios import crisis


def alerts_file(path: Path, *alerts: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
    return path


@pytest.fixture
def writers() -> Iterator[ExitStack]:
    """Where each test's coordinators are closed afterwards."""
    with ExitStack() as stack:
        yield stack


def writer(stack: ExitStack, home: Path, url: str) -> Services:
    """A coordinator writing to the store at `url` from `home` (holding its writer lease)."""
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings(home).model_copy(update={"store": url})
    return stack.enter_context(services(settings, writer="run"))


def end_session(url: str, built: Services) -> None:
    """End the session holding `built`'s writer lease, as a network cut or the server's administrator would."""
    assert built.lease is not None and built.lease.session is not None
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (built.lease.session,))


def events_in(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT COUNT(*) FROM coordinator_events").fetchone()
    assert row is not None
    return int(row[0])


def test_a_writer_whose_lease_ended_records_nothing_more_and_says_why(
    tmp_path: Path, postgres_url: str, writers: ExitStack
) -> None:
    first = writer(writers, tmp_path / "a", postgres_url)
    first.coordinator.ingest(read_alerts(alerts_file(tmp_path / "one.json", crisis("task-1", "agent-1", "red", "x"))))
    recorded = events_in(postgres_url)
    assert recorded > 0

    end_session(postgres_url, first)
    later = alerts_file(tmp_path / "two.json", crisis("task-2", "agent-2", "orange", "y"))
    with pytest.raises(LeaseLost, match="no longer held"):
        first.coordinator.ingest(read_alerts(later))
    assert events_in(postgres_url) == recorded
    with pytest.raises(LeaseLost):
        first.ledger.due_notifications(first.clock.now())


def test_once_another_coordinator_takes_the_lease_the_past_writer_cannot_save_and_the_new_one_can(
    tmp_path: Path, postgres_url: str, writers: ExitStack
) -> None:
    first = writer(writers, tmp_path / "a", postgres_url)
    end_session(postgres_url, first)
    second = writer(writers, tmp_path / "b", postgres_url)

    with pytest.raises(LeaseLost):
        first.coordinator.ingest(read_alerts(alerts_file(tmp_path / "one.json", crisis("task-1", "a-1", "red", "x"))))
    second.coordinator.ingest(read_alerts(alerts_file(tmp_path / "two.json", crisis("task-2", "a-2", "red", "y"))))
    assert [task for task, _, _ in second.ledger.open_tasks()] == ["task-2"]


def test_notifications_a_past_writer_claimed_are_handed_to_the_writer_that_takes_over(
    tmp_path: Path, postgres_url: str, writers: ExitStack
) -> None:
    from datetime import timedelta

    first = writer(writers, tmp_path / "a", postgres_url)
    first.coordinator.ingest(read_alerts(alerts_file(
        tmp_path / "alerts.json", crisis("task-1", "agent-1", "red", "x"), crisis("task-2", "agent-2", "red", "y"))))
    later = first.clock.now() + timedelta(days=1)
    claimed = {row["key"] for row in first.ledger.due_notifications(later)}
    assert claimed, "the alerts queued no notification"

    end_session(postgres_url, first)
    second = writer(writers, tmp_path / "b", postgres_url)
    assert {row["key"] for row in second.ledger.due_notifications(later)} == claimed


def test_the_service_stops_as_soon_as_its_lease_ends(tmp_path: Path, postgres_url: str) -> None:
    home = tmp_path / "a"
    home.mkdir()
    settings = load_settings(home).model_copy(update={"store": postgres_url})
    lost = threading.Event()
    serving: list[Service] = []
    started = threading.Event()

    def log(message: str, **fields: Any) -> None:
        if fields.get("event") == "lease_lost":
            lost.set()

    def run() -> None:  # a service is built and run on one thread, as `coordinator run` does
        with services(settings, writer="run") as built:
            service = Service(built, tmp_path / "alerts.json", built.dispatcher(False, None), log)
            serving.append(service)
            service.run(ready=started.set)

    running = threading.Thread(target=run)
    running.start()
    try:
        assert started.wait(60), "the service did not start"
        service = serving[0]
        end_session(postgres_url, service.built)
        service.wake.set()
        assert lost.wait(60), "the service did not notice its lease had ended"
        running.join(60)
        assert not running.is_alive(), "the service kept running without its lease"
        assert service.lease_lost
    finally:
        if serving:
            serving[0].stop.set()
            serving[0].wake.set()
        running.join(60)
