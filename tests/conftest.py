"""Fixtures every layer shares: a real PostgreSQL server for the tests of the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, binaries


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for this test process (started on first use, stopped at the end)."""
    found = binaries()
    if found is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
    server = PostgresServer(found).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The store URL of a new, empty database of its own."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Where a test's events are kept (it runs once on each): None for the home's SQLite file, or a PostgreSQL
    database of its own."""
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
