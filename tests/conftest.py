"""Fixtures every layer shares: a real PostgreSQL server for the tests of the PostgreSQL store, and commands that
draw for a terminal only when a test gives them one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, binaries

TERMINAL_SETTINGS = ("FORCE_COLOR", "TTY_COMPATIBLE")
"""Variables that make a command draw for a terminal whatever its output is (a CI runner may set them)."""


@pytest.fixture(scope="session", autouse=True)
def output_as_it_is() -> Iterator[None]:
    """Commands the tests run see their real output: piped, unless a test sets one of `TERMINAL_SETTINGS` itself
    or gives them a pseudo-terminal."""
    with pytest.MonkeyPatch.context() as patch:
        for name in TERMINAL_SETTINGS:
            patch.delenv(name, raising=False)
        yield


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
