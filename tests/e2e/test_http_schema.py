"""Property-based test of the HTTP API from its own OpenAPI description: whatever a client sends, what the
description allows and what it does not, the running service never answers with a server error."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.e2e.http_support import api, crisis, post
from tests.e2e.service_support import Services, now_seconds

STREAM = "/api/v1/events/stream"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running service with some tasks, agents and notifications to be asked about."""
    services = Services(tmp_path_factory.mktemp("schema"))
    try:
        services.run("--alerts-file", str(services.tmp_path / "alerts.jsonl"))
        url = api(services)
        post(f"{url}/api/v1/alerts", [crisis(f"task-{n}", now_seconds()) for n in range(3)])
        yield url
    finally:
        services.stop_all()


EXAMPLES = 60
"""Requests generated per operation, valid and invalid (the same ones on every run)."""


def test_no_request_the_api_describes_gets_a_server_error(live: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json").exclude(path=STREAM)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation, mode in product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_without_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(base_url=live, timeout=60)
            assert response.status_code < 500, (f"{case.method} {case.formatted_path}: {response.status_code} "
                                                f"{response.text[:500]}")

        try:
            answers_without_a_server_error()
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE, f"{operation.label}: no valid request to make"
            # an operation with nothing a client sends has no invalid request either


def test_the_event_stream_is_described_too(live: str, tmp_path: Path) -> None:
    import httpx

    described = httpx.get(f"{live}/api/v1/openapi.json").json()["paths"]
    assert STREAM in described and "get" in described[STREAM]
