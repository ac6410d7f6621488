"""Builds the delivery channels and router the settings describe (channel libraries load only here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from adapters.delivery import Route, Router
from cli.settings import ConfigError, Settings
from domain.notifications import Channel


def build_channels(settings: Settings, console: TextIO | None = None) -> dict[str, Channel]:
    """Every configured channel by name; `file` and `console` always exist."""
    from adapters.channels.console import ConsoleChannel
    from adapters.channels.file import FileChannel

    config = settings.channels
    channels: dict[str, Channel] = {
        "file": FileChannel(settings.notifications_path),
        "console": ConsoleChannel(console),
    }
    builders: dict[str, Callable[[], Channel]] = {}
    if config.command is not None:
        command = config.command

        def build_command() -> Channel:
            from adapters.channels.command import CommandChannel

            return CommandChannel(command.argv, timeout=command.timeout, cwd=command.cwd)

        builders["command"] = build_command
    if config.tmux is not None:
        tmux = config.tmux

        def build_tmux() -> Channel:
            from adapters.channels.tmux import TmuxChannel

            return TmuxChannel(target=tmux.target, socket=tmux.socket, timeout=tmux.timeout)

        builders["tmux"] = build_tmux
    if config.webhook is not None:
        webhook = config.webhook

        def build_webhook() -> Channel:
            from adapters.channels.webhook import WebhookChannel

            return WebhookChannel(webhook.url, timeout=webhook.timeout, headers=webhook.headers)

        builders["webhook"] = build_webhook
    if config.apprise is not None:
        apprise = config.apprise

        def build_apprise() -> Channel:
            from adapters.channels.apprise_channel import AppriseChannel

            return AppriseChannel(apprise.urls)

        builders["apprise"] = build_apprise
    for name, builder in builders.items():
        try:
            channels[name] = builder()
        except ValueError as error:
            raise ConfigError(f"channels.{name}: {error}") from None
    return channels


def build_router(settings: Settings, test_mode: bool = False, console: TextIO | None = None) -> Router:
    """The router from `routes` and `default_channel`; in test mode everything goes to the console."""
    channels = build_channels(settings, console)
    if test_mode:
        return Router(channels, (), "console")
    routes = [Route(route.channel, route.recipient, tuple(route.priority)) for route in settings.routes]
    try:
        return Router(channels, routes, settings.default_channel)
    except ValueError as error:
        raise ConfigError(f"routes/default_channel: {error}") from None
