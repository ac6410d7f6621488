"""Builds the delivery channels and router the settings describe (each channel's library loads only when used)."""

from __future__ import annotations

from typing import TextIO

from adapters.channels import registry
from adapters.channels.kind import Context
from adapters.delivery import Route, Router
from cli.settings import ConfigError, Settings
from domain.notifications import Channel


def build_channels(settings: Settings, console: TextIO | None = None) -> dict[str, Channel]:
    """Every channel the settings make available, by name (`file` and `console` always)."""
    try:
        return registry.build_channels(settings.sections(), Context(settings.home, console))
    except registry.ChannelError as error:
        raise ConfigError(str(error)) from None


def build_router(settings: Settings, test_mode: bool = False, console: TextIO | None = None) -> Router:
    """The router from `[channels.*]`, `routes` and `default_channel`; in test mode everything goes to the console."""
    channels = build_channels(settings, console)
    if test_mode:
        return Router(channels, (), "console")
    routes = [Route(route.channel, route.recipient, tuple(route.priority)) for route in settings.routes]
    try:
        return Router(channels, routes, settings.default_channel)
    except ValueError as error:
        raise ConfigError(f"routes/default_channel: {error}") from None
