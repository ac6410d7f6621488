"""Every kind of channel, by name: a new channel is one module declaring its `KIND` plus one line here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.channels import apprise_channel, command, console, file, tmux, webhook
from adapters.channels.kind import ChannelKind, Context
from domain.notifications import Channel

KINDS: Mapping[str, ChannelKind[Any]] = {
    kind.name: kind
    for kind in (
        file.KIND,
        console.KIND,
        command.KIND,
        tmux.KIND,
        webhook.KIND,
        apprise_channel.KIND,
    )
}


class ChannelError(ValueError):
    """A channel section cannot be used; the message names its key."""


def build_channels(sections: Mapping[str, Any], context: Context) -> dict[str, Channel]:
    """Every channel that exists: those that always do, and one per configured section (None: not configured)."""
    channels: dict[str, Channel] = {}
    for name, kind in KINDS.items():
        section = sections.get(name)
        if section is None and not kind.always:
            continue
        try:
            channels[name] = kind.make(section if section is not None else {}, context)
        except ValueError as error:
            raise ChannelError(f"channels.{name}: {error}") from None
    return channels
