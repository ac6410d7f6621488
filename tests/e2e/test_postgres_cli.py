"""The command line over a PostgreSQL store: the same alerts give the same answers as over the SQLite home."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import EXAMPLE, Result

Run = Callable[..., Result]
AS_OF = "2025-07-16T23:00:00Z"
QUERIES = [
    ("task", "list"), ("task", "show", "task-101"), ("agent", "list"), ("agent", "show", "silent-agent"),
    ("notifications",), ("quarantine",), ("status",), ("metrics",), ("audit",), ("events", "40"),
]


UNSTABLE = {"originator_id", "timestamp", "recorded_at", "avg_response_time", "response_time"}
"""What differs between any two runs: the id of a delivery stream (each batch of attempts is given a fresh one) and
the wall-clock instants events are recorded at (and the response times counted from them)."""


def _stable(document: Any) -> Any:
    """`document` without what differs between any two runs."""
    if isinstance(document, list):
        return [_stable(item) for item in document]
    if isinstance(document, dict):
        return {key: _stable(value) for key, value in document.items() if key not in UNSTABLE}
    return document


@pytest.fixture
def clock(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "clock"
    path.write_text("2025-07-16T23:00:00Z")
    return {"COORDINATOR_CLOCK_FILE": str(path)}


def test_every_query_answers_the_same_from_a_postgresql_store_as_from_the_sqlite_home(
    coordinator: Run, tmp_path: Path, postgres_url: str, clock: dict[str, str]
) -> None:
    on_postgres = {**clock, "COORDINATOR_STORE": postgres_url, "COORDINATOR_HOME": str(tmp_path / "pg-home")}
    for env in (clock, on_postgres):
        result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, env_extra=env)
        assert result.code == 0, result.err
    assert not (tmp_path / "pg-home" / "events.sqlite").exists()
    for query in QUERIES:
        sqlite = coordinator(*query, "--json", env_extra=clock)
        postgres = coordinator(*query, "--json", env_extra=on_postgres)
        assert sqlite.code == postgres.code == 0, (query, sqlite.err, postgres.err)
        assert _stable(postgres.json()) == _stable(sqlite.json()), query
    assert len(coordinator("notifications", "--json", env_extra=on_postgres).json()) > 0


def test_the_store_option_names_the_server_for_any_command_and_a_bad_url_is_refused_with_a_reason(
    coordinator: Run, postgres_url: str
) -> None:
    ran = coordinator("--store", postgres_url, "run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF)
    assert ran.code == 0, ran.err
    listed = coordinator("--store", postgres_url, "task", "list", "--json")
    assert listed.code == 0 and {task["task_id"] for task in listed.json()} >= {"task-101", "task-105"}
    bad = coordinator("--store", "postgresql://nobody@/", "task", "list")
    assert bad.code == 2 and "store" in bad.err and "no host" in bad.err


def test_a_fresh_home_queries_the_read_models_kept_on_the_server(
    coordinator: Run, tmp_path: Path, postgres_url: str
) -> None:
    writer = {"COORDINATOR_STORE": postgres_url}
    assert coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, env_extra=writer).code == 0
    elsewhere = {**writer, "COORDINATOR_HOME": str(tmp_path / "another-machine")}
    shown = coordinator("task", "show", "task-101", "--json", env_extra=elsewhere)
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["task_id"] == "task-101"
    assert not (tmp_path / "another-machine" / "views.sqlite").exists()  # the server's read models answered
    import psycopg

    with psycopg.connect(postgres_url) as server:
        found = server.execute("SELECT COUNT(*) FROM views.task_status WHERE task_id = 'task-101'").fetchone()
    assert found == (1,)


STORES = Path(__file__).resolve().parents[1] / "stores"


@pytest.mark.parametrize("kept", sorted(path.name for path in STORES.iterdir() if (path / "events.sqlite").is_file()))
def test_a_home_migrated_to_postgresql_answers_as_before_replays_and_sends_nothing_again(
    coordinator: Run, tmp_path: Path, postgres_url: str, kept: str
) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(STORES / kept, home)
    before = {query: coordinator(*query, "--json") for query in QUERIES if query[0] != "events"}
    moved = coordinator("store", "migrate", "--to", postgres_url, "--json")
    assert moved.code == 0, moved.err
    copied = moved.json()
    assert copied["events"] > 0 and copied["notifications"] > 0 and "coordinator:***@" in copied["to"]

    elsewhere = {"COORDINATOR_STORE": postgres_url, "COORDINATOR_HOME": str(tmp_path / "new-home")}
    verified = coordinator("replay", "--verify", env_extra=elsewhere)
    assert verified.code == 0 and "read models agree with the events" in verified.out, verified.err
    for query, answer in before.items():
        after = coordinator(*query, "--json", env_extra=elsewhere)
        assert after.code == answer.code, (query, after.err)
        if answer.code == 0:
            assert _stable(after.json()) == _stable(answer.json()), query

    delivered = {row["key"] for row in before[("notifications",)].json() if row["status"] == "delivered"}
    assert delivered
    sink = tmp_path / "sink.jsonl"
    ticked = coordinator("tick", env_extra={**elsewhere, "COORDINATOR_CHANNELS__FILE__PATH": str(sink)})
    assert ticked.code == 0, ticked.err
    sent = [json.loads(line)["key"] for line in sink.read_text().splitlines()] if sink.exists() else []
    assert delivered.isdisjoint(sent), "a notification delivered before the move was sent again"

    again = coordinator("store", "migrate", "--to", postgres_url)
    assert again.code == 2 and "already holds" in again.err


def test_doctor_checks_the_server_and_a_server_out_of_reach_is_named_without_its_password(
    coordinator: Run, postgres_url: str
) -> None:
    on_postgres = {"COORDINATOR_STORE": postgres_url}
    ran = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, env_extra=on_postgres)
    assert ran.code == 0, ran.err
    healthy = coordinator("doctor", "--json", env_extra=on_postgres)
    assert healthy.code == 0, healthy.out
    checks = {row["name"]: row for row in healthy.json()}
    assert checks["event store"]["status"] == "ok" and "coordinator:***@" in checks["event store"]["detail"]
    assert checks["store writer"]["detail"] == "nobody holds the writer lease"
    assert checks["read models"]["status"] == "ok" and "(schema views): 0 event(s) behind" in checks[
        "read models"]["detail"]

    away = {"COORDINATOR_STORE": "postgresql://someone:hunter2@127.0.0.1:1/hive"}
    broken = coordinator("doctor", "--json", env_extra=away)
    assert broken.code == 1
    assert "hunter2" not in broken.out + broken.err
    assert {row["name"]: row["status"] for row in broken.json()}["event store"] == "fail"
    listed = coordinator("task", "list", env_extra=away)
    assert listed.code == 6 and "cannot reach postgresql://someone:***@127.0.0.1:1/hive" in listed.err
    assert "hunter2" not in listed.err


def test_a_role_without_rights_is_told_which_it_lacks_and_one_that_may_read_and_write_rows_runs_a_store(
    coordinator: Run, postgres_url: str
) -> None:
    import psycopg

    owner = {"COORDINATOR_STORE": postgres_url}
    assert coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, env_extra=owner).code == 0
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        database = admin.info.dbname
        admin.execute("DROP ROLE IF EXISTS clerk")  # roles are the server's, not one database's
        admin.execute("CREATE ROLE clerk LOGIN PASSWORD 'clerk-secret'")
        admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    clerk = {"COORDINATOR_STORE": postgres_url.replace("coordinator:", "clerk:", 1).replace(
        postgres_url.split(":")[2].split("@")[0], "clerk-secret", 1)}
    assert "clerk:clerk-secret@" in clerk["COORDINATOR_STORE"] and database in clerk["COORDINATOR_STORE"]
    refused = coordinator("tick", "--as-of", "2025-07-17T23:00:00Z", env_extra=clerk)
    assert refused.code == 6 and "refused: permission denied for table" in refused.err, refused.err
    assert "clerk-secret" not in refused.err and "Traceback" not in refused.err

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for schema in ("public", "views"):  # the store's and its read models'
            admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO clerk")
            for grant in ("SELECT, INSERT, UPDATE, DELETE ON ALL TABLES", "USAGE ON ALL SEQUENCES",
                          "EXECUTE ON ALL FUNCTIONS"):
                admin.execute(f"GRANT {grant} IN SCHEMA {schema} TO clerk")
    ticked = coordinator("tick", "--as-of", "2025-07-17T23:00:00Z", env_extra=clerk)
    assert ticked.code == 0, ticked.err
    listed = coordinator("task", "list", "--json", env_extra=clerk)
    assert listed.code == 0 and {task["task_id"] for task in listed.json()} >= {"task-101"}
