"""The HTTP API refuses what a hostile page or a careless client sends with a clear 4xx, never a 500: requests for
another host, oversized forms, dates beyond the calendar, event ids beyond the store, blank names, bodies of the
wrong type; every answer carries the headers that keep a browser from sniffing, framing or leaking it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.http_support import api, crisis, post
from tests.e2e.service_support import Services, assigned, now_seconds
from tests.waiting import GENEROUS, wait_for

TOKEN = "hardening-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ATTACKER = "attacker.example"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running service with a token, a task in crisis (`task-red`) and one that never was (`task-green`)."""
    services = Services(tmp_path_factory.mktemp("hardening"))
    try:
        services.run("--alerts-file", str(services.tmp_path / "alerts.jsonl"),
                     env={"COORDINATOR_HTTP__TOKEN": TOKEN})
        served = api(services)
        moment = now_seconds()
        posted = post(f"{served}/api/v1/alerts", [
            crisis("task-red", moment),
            json.loads(assigned("task-green", moment, moment + timedelta(days=1))),
        ], token=TOKEN)
        assert posted.json()["processed"] == 2, posted.text
        yield served
    finally:
        services.stop_all()


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# Hosts ---------------------------------------------------------------------------------------------------------------


def test_a_request_naming_another_host_is_refused_with_400_so_a_rebound_page_can_neither_read_nor_act(
    url: str,
) -> None:
    port = port_of(url)
    read = httpx.get(f"{url}/api/v1/status", headers={"Host": f"{ATTACKER}:{port}"})
    assert read.status_code == 400
    assert ATTACKER in read.json()["detail"] and "not an address of this service" in read.json()["detail"]
    acted = httpx.post(f"{url}/api/v1/tasks/task-red/ack", json={"by": "mallory"},
                       headers={**BEARER, "Host": f"{ATTACKER}:{port}", "Origin": f"http://{ATTACKER}:{port}"})
    assert acted.status_code == 400
    assert httpx.get(f"{url}/api/v1/tasks/task-red").json()["acknowledged_by"] is None
    assert httpx.get(f"{url}/", headers={"Host": ATTACKER}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_loopback_names_are_answered_on_any_port(url: str, host: str) -> None:
    for port in (port_of(url), 80):
        answered = httpx.get(f"{url}/api/v1/status", headers={"Host": f"{host}:{port}"})
        assert answered.status_code == 200, answered.text
    assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200


def test_a_service_listening_on_every_interface_answers_any_host_and_still_needs_its_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    services = Services(tmp_path_factory.mktemp("everywhere"))
    try:
        services.run("--alerts-file", str(services.tmp_path / "alerts.jsonl"), "--http", "0.0.0.0:0",
                     env={"COORDINATOR_HTTP__TOKEN": TOKEN})
        served = f"http://127.0.0.1:{port_of(api(services))}"
        named = {"Host": f"coordinator.example:{port_of(served)}"}
        assert httpx.get(f"{served}/api/v1/status", headers=named).status_code == 200
        assert httpx.post(f"{served}/api/v1/tasks/task-1/ack", json={"by": "x"}, headers=named).status_code == 401
    finally:
        services.stop_all()


# Headers -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/status", "/", "/crisis", "/static/live.js", "/api/v1/tasks/nope",
                                  "/api/v1/events/stream?after=x"])
def test_every_response_tells_the_browser_not_to_sniff_frame_or_refer_it(url: str, path: str) -> None:
    headers = httpx.get(f"{url}{path}").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    policy = {part.split()[0]: part.split()[1:] for part in headers["content-security-policy"].split("; ")}
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert not {"script-src", "style-src", "connect-src"} & policy.keys(), "scripts, styles, fetches: 'self' only"


def test_a_refused_host_gets_the_security_headers_too(url: str) -> None:
    refused = httpx.get(f"{url}/api/v1/status", headers={"Host": ATTACKER})
    assert refused.status_code == 400
    assert refused.headers["x-frame-options"] == "DENY"


# Forms, dates and event ids ------------------------------------------------------------------------------------------


def test_a_sign_in_form_with_too_many_fields_is_refused_with_400_saying_so(url: str) -> None:
    fields = "&".join(f"field{n}=x" for n in range(5))
    answered = httpx.post(f"{url}/login", content=f"token={TOKEN}&{fields}",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert answered.status_code == 400
    assert "more than 4 fields" in answered.text
    assert "set-cookie" not in answered.headers


@pytest.mark.parametrize("path", [
    "/crisis?since=9999-12-31T23:59:59-23:00",
    "/crisis?since=0001-01-01T00:00:00%2B01:00",
    "/fragments/crisis?until=9999-12-31T23:59:59-01:00",
])
def test_a_crisis_range_beyond_the_calendar_in_utc_is_refused_with_422_saying_so(url: str, path: str) -> None:
    answered = httpx.get(f"{url}{path}")
    assert answered.status_code == 422
    assert "outside years 1-9999 once in UTC" in answered.text


def test_a_crisis_range_that_is_no_date_is_refused_with_422_saying_so(url: str) -> None:
    answered = httpx.get(f"{url}/crisis?since=soon")
    assert answered.status_code == 422
    assert "is not a date and time" in answered.text


@pytest.mark.parametrize("headers, query", [
    ({}, "after=99999999999999999999"),
    ({}, "after=1.9223372036854775807"),
    ({"Last-Event-ID": "9223372036854775808"}, ""),
    ({"Last-Event-ID": "-1"}, ""),
])
def test_an_event_id_the_store_cannot_hold_is_refused_with_422(
    url: str, headers: dict[str, str], query: str,
) -> None:
    answered = httpx.get(f"{url}/api/v1/events/stream?{query}", headers=headers)
    assert answered.status_code == 422
    assert "is not an event id" in answered.json()["detail"]


def test_the_greatest_event_id_the_store_can_hold_is_followed(url: str) -> None:
    with httpx.stream("GET", f"{url}/api/v1/events/stream?after=9223372036854775807", timeout=60) as answered:
        assert answered.status_code == 200
        assert answered.headers["content-type"].startswith("text/event-stream")


def test_a_page_part_asked_for_after_a_position_the_store_cannot_hold_is_refused_with_422(url: str) -> None:
    assert httpx.get(f"{url}/fragments/agents?after=9223372036854775808").status_code == 422
    cards = httpx.post(f"{url}/fragments/cards", json={"ids": ["task-red"], "after": 2**63})
    assert cards.status_code == 422


# Commands ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action, body", [("ack", {"by": "   "}), ("resolve", {"by": " \t ", "note": "done"})])
def test_a_blank_name_can_neither_ack_nor_resolve(url: str, action: str, body: dict[str, str]) -> None:
    answered = httpx.post(f"{url}/api/v1/tasks/task-red/{action}", json=body, headers=BEARER)
    assert answered.status_code == 422
    assert answered.json()["detail"].startswith("body.by:")
    shown = httpx.get(f"{url}/api/v1/tasks/task-red").json()
    assert (shown["acknowledged_by"], shown["status"]) == (None, "open")


def test_the_name_given_is_recorded_without_its_surrounding_blanks(url: str) -> None:
    answered = httpx.post(f"{url}/api/v1/tasks/task-green/resolve", json={"by": "  carol "}, headers=BEARER)
    assert answered.status_code == 200, answered.text
    assert answered.json()["resolved_by"] == "carol"


WRITES = [("/api/v1/tasks/task-red/ack", BEARER), ("/api/v1/tasks/task-red/resolve", BEARER),
          ("/api/v1/notifications/retry", BEARER), ("/fragments/cards", {})]


@pytest.mark.parametrize("path, headers", WRITES)
@pytest.mark.parametrize("content_type, body", [
    ("text/plain", '{"by": "alice", "ids": ["task-red"], "dead": true}'),
    ("application/x-www-form-urlencoded", "by=alice&ids=task-red"),
    (None, '{"by": "alice", "ids": ["task-red"], "dead": true}'),
])
def test_a_write_whose_body_is_not_json_is_refused_with_415(
    url: str, path: str, headers: dict[str, str], content_type: str | None, body: str,
) -> None:
    sent = {**headers, **({"content-type": content_type} if content_type else {})}
    answered = httpx.post(f"{url}{path}", content=body, headers=sent)
    assert answered.status_code == 415, answered.text
    assert answered.json()["detail"] == "send application/json"
    assert httpx.get(f"{url}/api/v1/tasks/task-red").json()["acknowledged_by"] is None


@pytest.mark.parametrize("path", ["/api/v1/tasks/task-red/ack", "/api/v1/notifications/retry"])
@pytest.mark.parametrize("content_type, body", [("application/json", "{broken"), ("text/plain", "anything")])
def test_without_the_token_a_write_is_refused_with_401_before_its_body_is_looked_at(
    url: str, path: str, content_type: str, body: str,
) -> None:
    answered = httpx.post(f"{url}{path}", content=body, headers={"content-type": content_type})
    assert answered.status_code == 401
    assert answered.headers["www-authenticate"] == "Bearer"


# Docs ----------------------------------------------------------------------------------------------------------------


def test_no_docs_page_needing_the_network_is_served_and_the_openapi_description_is(url: str) -> None:
    assert httpx.get(f"{url}/docs").status_code == 404
    assert httpx.get(f"{url}/redoc").status_code == 404
    described = httpx.get(f"{url}/api/v1/openapi.json")
    assert described.status_code == 200
    assert "/api/v1/tasks/{task_id}/ack" in described.json()["paths"]


def test_every_refusal_for_an_invalid_request_is_described_as_it_is_answered(url: str) -> None:
    described = httpx.get(f"{url}/api/v1/openapi.json").json()
    text = json.dumps(described)
    assert "ValidationError" not in text, "no reference is left to FastAPI's list of validation errors"
    invalid = [operation["responses"]["422"] for operations in described["paths"].values()
               for operation in operations.values() if "422" in operation.get("responses", {})]
    assert len(invalid) >= 10
    assert all(response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
               for response in invalid)
    assert described["components"]["schemas"]["Problem"]["required"] == ["detail"]
    answered = httpx.get(f"{url}/api/v1/tasks", params={"limit": "many"})
    assert answered.status_code == 422 and isinstance(answered.json()["detail"], str)


# Stopping ------------------------------------------------------------------------------------------------------------


def test_stopping_the_service_ends_open_event_streams_cleanly_and_logs_no_cancelled_task(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    services = Services(tmp_path_factory.mktemp("stopping"))
    try:
        service = services.run("--alerts-file", str(services.tmp_path / "alerts.jsonl"))
        served = api(services)
        opened: list[int] = []
        ended: dict[int, str] = {}

        def follow(number: int) -> None:
            try:
                with httpx.stream("GET", f"{served}/api/v1/events/stream", timeout=60) as answered:
                    opened.append(answered.status_code)
                    for _ in answered.iter_lines():
                        pass
                ended[number] = "ended"
            except httpx.HTTPError as error:
                ended[number] = repr(error)

        readers = [threading.Thread(target=follow, args=(number,)) for number in range(3)]
        for reader in readers:
            reader.start()
        wait_for(lambda: len(opened) == 3, "three open event streams")
        assert service.terminate() == 0, service.stderr()
        for reader in readers:
            reader.join(GENEROUS)
        assert ended == dict.fromkeys(range(3), "ended"), "each stream is ended, not cut off"
        log = service.stderr()
        for cut_off in ("running task(s)", "CancelledError", "without completing response"):
            assert cut_off not in log, log
    finally:
        services.stop_all()
