"""Deliver by POSTing the notification as JSON to an HTTP endpoint."""

from __future__ import annotations

from types import TracebackType

from pydantic import Field

from adapters.channels.kind import ChannelKind, Context, Section
from domain.notifications import DeliveryError, Notification

BODY_LIMIT = 300
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})  # timeout, too early, too many requests: worth another try


class WebhookChannel:
    """POSTs `notification.as_dict()`; 2xx accepts, 5xx and network trouble retry, other answers dead-letter."""

    name = "webhook"

    def __init__(self, url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> None:
        import httpx  # loaded only when the channel is used: it is slow to import

        if httpx.URL(url).scheme not in ("http", "https"):
            raise ValueError(f"webhook URL must be http or https: {url}")
        self.url = url
        self.client = httpx.Client(timeout=timeout, headers=headers or {})

    def deliver(self, notification: Notification) -> None:
        """POST once; raise DeliveryError unless the endpoint answers 2xx."""
        import httpx

        try:
            response = self.client.post(self.url, json=notification.as_dict())
        except httpx.TimeoutException as error:
            raise DeliveryError(f"webhook timed out: {error!r}", retryable=True) from error
        except httpx.TransportError as error:
            raise DeliveryError(f"webhook unreachable: {error!r}", retryable=True) from error
        status = response.status_code
        if 200 <= status < 300:
            return
        body = response.text.strip()
        detail = f": {body[:BODY_LIMIT]}" if body else ""
        retryable = status >= 500 or status in RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(f"webhook answered {status} {response.reason_phrase}{detail}", retryable=retryable)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self.client.close()

    def __enter__(self) -> WebhookChannel:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class WebhookSection(Section):
    """HTTP POST of the notification as JSON."""

    url: str
    timeout: float = Field(default=5.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


def _build(section: WebhookSection, context: Context) -> WebhookChannel:
    return WebhookChannel(section.url, timeout=section.timeout, headers=section.headers)


KIND = ChannelKind("webhook", WebhookSection, _build)
