"""Deliver through Apprise, which reaches many chat, mail and push services by URL."""

from __future__ import annotations

import apprise

from domain.notifications import DeliveryError, Notification


class AppriseChannel:
    """Notifies every Apprise URL; title `[priority] subject`, body the message."""

    name = "apprise"

    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ValueError("at least one Apprise URL is needed")
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
