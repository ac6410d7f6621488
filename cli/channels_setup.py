"""Builds the delivery channels and router the settings describe (channel libraries load only here)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TextIO

from adapters.delivery import Route, Router
from cli.settings import (
    AppriseChannelConfig,
    CommandChannelConfig,
    ConfigError,
    Settings,
    TmuxChannelConfig,
    WebhookChannelConfig,
)
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
        builders["command"] = partial(_command, config.command)
    if config.tmux is not None:
        builders["tmux"] = partial(_tmux, config.tmux)
    if config.webhook is not None:
        builders["webhook"] = partial(_webhook, config.webhook)
    if config.apprise is not None:
        builders["apprise"] = partial(_apprise, config.apprise)
    for name, builder in builders.items():
        try:
            channels[name] = builder()
        except ValueError as error:
            raise ConfigError(f"channels.{name}: {error}") from None
    return channels


def _command(config: CommandChannelConfig) -> Channel:
    from adapters.channels.command import CommandChannel

    return CommandChannel(config.argv, timeout=config.timeout, cwd=config.cwd)


def _tmux(config: TmuxChannelConfig) -> Channel:
    from adapters.channels.tmux import TmuxChannel

    return TmuxChannel(target=config.target, socket=config.socket, timeout=config.timeout)


def _webhook(config: WebhookChannelConfig) -> Channel:
    from adapters.channels.webhook import WebhookChannel

    return WebhookChannel(config.url, timeout=config.timeout, headers=config.headers)


def _apprise(config: AppriseChannelConfig) -> Channel:
    from adapters.channels.apprise_channel import AppriseChannel

    return AppriseChannel(config.urls)


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
