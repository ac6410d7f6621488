"""Delivery channels: adapters behind the `domain.notifications.Channel` port."""

from adapters.channels.apprise_channel import AppriseChannel
from adapters.channels.command import UPSTREAM_ARGV, CommandChannel
from adapters.channels.console import ConsoleChannel
from adapters.channels.file import FileChannel
from adapters.channels.tmux import TmuxChannel
from adapters.channels.webhook import WebhookChannel

__all__ = [
    "UPSTREAM_ARGV",
    "AppriseChannel",
    "CommandChannel",
    "ConsoleChannel",
    "FileChannel",
    "TmuxChannel",
    "WebhookChannel",
]
