"""Deliver through Apprise, which reaches many chat, mail and push services by URL."""

from __future__ import annotations

from pydantic import Field

from adapters.channels.kind import ChannelKind, Context, Section
from domain.notifications import DeliveryError, Notification


class AppriseChannel:
    """Notifies every Apprise URL; title `[priority] subject`, body the message."""

    name = "apprise"

    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ValueError("at least one Apprise URL is needed")
        import apprise  # loaded only when the channel is used: it is slow to import

        self.apprise = apprise.Apprise()
        for url in urls:
            if not self.apprise.add(url):
                raise ValueError(f"invalid Apprise URL: {url}")

    def deliver(self, notification: Notification) -> None:
        """Notify all URLs; raise DeliveryError (retryable) unless every one accepted."""
        with self.apprise.notify(title=f"[{notification.priority}] {notification.subject}",
                                 body=notification.message) as result:
            if result:
                return
            errors = [entry.message for entry in result.logs() if entry.level in ("ERROR", "WARNING")]
            detail = f": {errors[-1]}" if errors else ""
            raise DeliveryError(f"apprise delivery failed ({result.status.name.lower()}){detail}", retryable=True)


class AppriseSection(Section):
    """Any apprise URL(s): Slack, email, Discord, ntfy, ..."""

    urls: list[str] = Field(min_length=1)


def _build(section: AppriseSection, context: Context) -> AppriseChannel:
    return AppriseChannel(section.urls)


KIND = ChannelKind("apprise", AppriseSection, _build)
