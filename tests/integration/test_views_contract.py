"""Read models on PostgreSQL are the read models on SQLite: from the same events, every table of every projection
holds the same rows, and every query answers the same, in the home's file and in the server's schema."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.alert_file import read_alerts
from adapters.postgres_views import PostgresViews
from cli.bootstrap import Services, build
from cli.settings import Settings
from projections import dashboard, queries, sql
from projections.crisis_queries import crisis_log_lines, episodes, resolution_stats
from projections.metrics import metrics
from projections.registry import projections
from projections.runner import ProjectionRunner
from tests.alert_builders import assigned, crisis, heartbeat, reassignment, unresponsive, warning

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coordination_alerts.json"
ODD = "task\u0000\u0001\u202e-1"
"""An id holding NUL, the escape character of the server's read models, and a direction mark."""


def history(path: Path) -> Path:
    """The example's alerts, then a day of another hive's (an odd id among them)."""
    alerts = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    alerts += [assigned(ODD, "agent\u0000x", "2025-07-16T09:00:00Z", "2025-07-16T10:00:00Z"),
               warning(ODD, "agent\u0000x", "5 minutes", "2025-07-16T09:55:00Z"),
               crisis(ODD, "agent\u0000x", "red", "2025-07-16T10:05:00Z", description="stuck \u0000 here"),
               unresponsive("agent-9", "2025-07-16T08:00:00Z", "2025-07-16T10:10:00Z"),
               reassignment(ODD, "agent\u0000x", "agent-9", "silent", "2025-07-16T10:15:00Z"),
               heartbeat("agent-9", "2025-07-16T10:20:00Z")]
    path.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
    return path


@pytest.fixture
def services(tmp_path: Path, postgres_url: str) -> Iterator[Services]:
    """A coordinator on a PostgreSQL store that has taken the history and delivered what it decided (its read models
    on the server, paged small so many pages meet)."""
    built = build(Settings(home=tmp_path / "home", store=postgres_url))
    built.views.page_size = 37
    try:
        built.cycle(built.dispatcher()).once(read_alerts(history(tmp_path / "alerts.jsonl")),
                                             datetime(2025, 7, 16, 23, tzinfo=UTC))
        yield built
    finally:
        built.close()


@pytest.fixture
def on_sqlite(tmp_path: Path, services: Services) -> Iterator[ProjectionRunner]:
    """The same events' read models in a SQLite file."""
    runner = ProjectionRunner(tmp_path / "views.sqlite", services.ledger, projections())
    runner.catch_up()
    try:
        yield runner
    finally:
        runner.close()


def rows(db: Any, table: str) -> list[tuple[Any, ...]]:
    """Every row of `table`, in one order, floats to the microsecond."""
    found = db.execute(f"SELECT * FROM {table}").fetchall()
    return sorted((tuple(round(value, 6) if isinstance(value, float) else value for value in row) for row in found),
                  key=repr)


def same_rows(server: Any, local: Any, table: str) -> None:
    assert rows(server, table) == rows(local, table), table


def test_every_table_of_every_read_model_holds_the_same_rows_on_the_server_as_in_a_file(
    services: Services, on_sqlite: ProjectionRunner
) -> None:
    server = services.views.db
    assert sql.dialect(server) == sql.POSTGRESQL and sql.dialect(on_sqlite.db) == sql.SQLITE
    for projection in projections():
        for table in projection.tables:
            same_rows(server, on_sqlite.db, table)
    assert rows(server, "projection_positions") == rows(on_sqlite.db, "projection_positions")
    assert any(ODD in row for row in rows(server, "task_status")), "the odd id is read back as it was written"


def test_every_query_answers_the_same_from_the_server_as_from_a_file(
    services: Services, on_sqlite: ProjectionRunner
) -> None:
    server, local = services.views.db, on_sqlite.db
    for ask in (queries.tasks, queries.agents, metrics, episodes, lambda db: list(crisis_log_lines(db)),
                resolution_stats, dashboard.cards, dashboard.response_times, dashboard.position,
                lambda db: queries.task_document(db, ODD), lambda db: queries.agent_document(db, "agent-9"),
                lambda db: queries.tasks(db, level="RED", limit=3)):
        assert ask(server) == ask(local), ask
    assert queries.task_document(server, ODD)["history"], "the odd task's history is found by its id"


def test_a_rebuild_on_the_server_gives_the_same_rows_and_a_reader_without_rights_is_refused(
    services: Services, on_sqlite: ProjectionRunner, postgres_url: str
) -> None:
    runner = services.views
    for projection in runner.projections:
        runner.rebuild(projection)
    runner.catch_up()
    for projection in projections():
        for table in projection.tables:
            same_rows(runner.db, on_sqlite.db, table)

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS onlooker")
        admin.execute("CREATE ROLE onlooker LOGIN PASSWORD 'look'")
    onlooker = postgres_url.replace("coordinator:coordinator@", "onlooker:look@", 1)
    assert onlooker != postgres_url
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for schema views"):
        PostgresViews(onlooker, services.ledger, create=False)


def test_two_runners_building_the_servers_read_models_at_once_apply_each_event_once(
    services: Services, on_sqlite: ProjectionRunner, postgres_url: str
) -> None:
    for projection in services.views.projections:
        services.views.rebuild(projection)
    runners = [ProjectionRunner(PostgresViews(postgres_url, services.ledger), services.ledger, projections(),
                                page_size=53) for _ in range(2)]
    failures: list[BaseException] = []

    def build(runner: ProjectionRunner) -> None:
        try:
            runner.catch_up()
        except BaseException as failure:  # seen by the test, not lost in the thread
            failures.append(failure)

    threads = [threading.Thread(target=build, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for runner in runners:
        runner.close()
    assert not failures and not any(thread.is_alive() for thread in threads), failures
    for projection in projections():
        for table in projection.tables:
            same_rows(services.views.db, on_sqlite.db, table)
