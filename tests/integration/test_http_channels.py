"""The HTTP delivery channels (webhook and apprise) against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapters.channels.apprise_channel import AppriseChannel
from adapters.channels.webhook import WebhookChannel
from domain.notifications import DeliveryError
from tests.integration.channel_support import notification
from tests.integration.local_http import serving

# --- HTTP: webhook and apprise -------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Endpoint:
    """A local HTTP server whose answers a test can script."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 503
    status: int = 200
    delay: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int:
        if len(self.received) <= self.fail_first:
            return self.fail_status
        return self.status


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()

    def answer(path: str, headers: dict[str, str], body: bytes) -> int:
        state.received.append(Received(path, headers, body))
        if state.delay:
            state.released.wait(state.delay)
        return state.answer()

    with serving(answer, on_close=state.released.set) as url:
        state.url = url
        yield state


@pytest.fixture
def webhook(endpoint: Endpoint) -> Iterator[WebhookChannel]:
    with WebhookChannel(endpoint.url + "/hook", headers={"Authorization": "Bearer t0ken"}) as channel:
        yield channel


def test_the_webhook_posts_the_notification_as_json_with_the_configured_headers(
    endpoint: Endpoint, webhook: WebhookChannel
) -> None:
    sent = notification("🚨 task-1 is stuck")

    webhook.deliver(sent)

    [request] = endpoint.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.json() == sent.as_dict()


def test_a_webhook_that_answers_503_twice_accepts_the_notification_when_the_caller_retries(
    endpoint: Endpoint, webhook: WebhookChannel
) -> None:
    endpoint.fail_first = 2
    errors: list[DeliveryError] = []

    for _ in range(5):
        try:
            webhook.deliver(notification())
            break
        except DeliveryError as error:
            errors.append(error)

    assert [error.retryable for error in errors] == [True, True]
    assert "503" in errors[0].reason
    assert len(endpoint.received) == 3


def test_a_webhook_that_answers_400_gives_a_non_retryable_error_for_the_dead_letter_queue(
    endpoint: Endpoint, webhook: WebhookChannel
) -> None:
    endpoint.status = 400

    with pytest.raises(DeliveryError) as raised:
        webhook.deliver(notification())

    assert not raised.value.retryable
    assert raised.value.reason == "webhook answered 400 Bad Request: rejected"


def test_a_webhook_that_answers_429_too_many_requests_is_worth_retrying(
    endpoint: Endpoint, webhook: WebhookChannel
) -> None:
    endpoint.status = 429

    with pytest.raises(DeliveryError) as raised:
        webhook.deliver(notification())

    assert raised.value.retryable


def test_a_webhook_slower_than_the_timeout_gives_a_retryable_error(endpoint: Endpoint) -> None:
    endpoint.delay = 2.0

    with WebhookChannel(endpoint.url, timeout=0.2) as channel, pytest.raises(DeliveryError) as raised:
        channel.deliver(notification())

    assert raised.value.retryable
    assert "timed out" in raised.value.reason


def test_an_unreachable_webhook_gives_a_retryable_error() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]  # free now, closed below: nothing will listen on it

    with WebhookChannel(f"http://127.0.0.1:{port}/hook") as channel, pytest.raises(DeliveryError) as raised:
        channel.deliver(notification())

    assert raised.value.retryable
    assert "unreachable" in raised.value.reason


def test_a_webhook_url_that_is_not_http_is_rejected_when_the_channel_is_built() -> None:
    with pytest.raises(ValueError, match="http or https"):
        WebhookChannel("ftp://example.org/hook")


def test_apprise_posts_its_json_payload_with_priority_and_subject_in_the_title(endpoint: Endpoint) -> None:
    channel = AppriseChannel([endpoint.url.replace("http://", "json://") + "/apprise"])

    channel.deliver(notification("⏰ task-1 is overdue"))

    [request] = endpoint.received
    assert request.path == "/apprise"
    assert request.json() == {
        "version": "1.0",
        "title": "[urgent] task-1",
        "message": "⏰ task-1 is overdue",
        "attachments": [],
        "type": "info",
    }


def test_apprise_reports_a_server_error_as_a_retryable_delivery_error(endpoint: Endpoint) -> None:
    endpoint.status = 500
    channel = AppriseChannel([endpoint.url.replace("http://", "json://") + "/apprise"])

    with pytest.raises(DeliveryError) as raised:
        channel.deliver(notification())

    assert raised.value.retryable
    assert raised.value.reason.startswith("apprise delivery failed")
    assert "error=500" in raised.value.reason
    assert len(endpoint.received) == 1


def test_an_apprise_url_it_cannot_understand_is_rejected_when_the_channel_is_built() -> None:
    with pytest.raises(ValueError, match="invalid Apprise URL: nosuchservice://x"):
        AppriseChannel(["nosuchservice://x"])


