"""Settings: the notification channels and the router they build, routes, default channel and test mode."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.channels.console import ConsoleChannel
from adapters.channels.file import FileChannel
from cli.channels_setup import build_channels, build_router
from cli.settings import ConfigError, load_settings
from domain.notifications import Notification
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import close_channels, write_config

# --- channels and router -------------------------------------------------------------------------------------------


def notification(recipient: str, priority: str) -> Notification:
    return Notification("k-1", recipient, priority, "task-1 is stuck", "crisis", "task-1",
                        datetime(2025, 7, 16, 21, tzinfo=UTC))


def test_the_file_and_console_channels_always_exist_and_configured_channels_are_added(tmp_path: Path) -> None:
    plain = build_channels(load_settings(tmp_path / "plain"))
    write_config(tmp_path / "rich", '[channels.webhook]\nurl = "http://127.0.0.1:9/hook"\n'
                                    '[channels.command]\nargv = ["echo", "{agent}", "{message}"]\n')
    rich = build_channels(load_settings(tmp_path / "rich"))

    assert sorted(plain) == ["console", "file"]
    assert isinstance(plain["file"], FileChannel) and plain["file"].path == tmp_path / "plain" / "notifications.jsonl"
    assert isinstance(plain["console"], ConsoleChannel)
    assert sorted(rich) == ["command", "console", "file", "webhook"]
    assert {name: channel.name for name, channel in rich.items()} == {name: name for name in rich}
    close_channels(rich)


def test_a_channel_whose_configuration_it_refuses_raises_a_config_error_naming_the_channel(tmp_path: Path) -> None:
    write_config(tmp_path / "w", '[channels.webhook]\nurl = "ftp://example.org/hook"\n')
    write_config(tmp_path / "c", '[channels.command]\nargv = ["echo", "{message"]\n')

    with pytest.raises(ConfigError, match=r"channels\.webhook: .*http or https"):
        build_channels(load_settings(tmp_path / "w"))
    with pytest.raises(ConfigError, match=r"channels\.command\.argv\.1: .*bad template"):
        build_channels(load_settings(tmp_path / "c"))


def test_routes_send_matching_notifications_to_their_channel_and_the_rest_to_the_default(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        'default_channel = "console"\n[channels.webhook]\nurl = "http://127.0.0.1:9/hook"\n'
        '[[routes]]\nchannel = "webhook"\nrecipient = "pm-*"\npriority = ["urgent"]\n'
        '[[routes]]\nchannel = "file"\nrecipient = "agent-1"\n',
    )

    router = build_router(load_settings(tmp_path))

    assert router.channel_for("pm-agent", "urgent").name == "webhook"
    assert router.channel_for("pm-agent", "priority").name == "console"
    assert router.channel_for("agent-1", "urgent").name == "file"
    assert router.channel_for("agent-2", "urgent").name == "console"
    close_channels(router.channels)


def test_a_route_naming_an_unconfigured_channel_raises_a_config_error_naming_that_channel(tmp_path: Path) -> None:
    write_config(tmp_path, '[[routes]]\nchannel = "webhook"\nrecipient = "pm-*"\n')

    with pytest.raises(ConfigError, match="'webhook'") as raised:
        build_router(load_settings(tmp_path))

    assert "routes" in str(raised.value)


def test_a_default_channel_that_is_not_configured_raises_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'tmux'"):
        build_router(load_settings(tmp_path, default_channel="tmux"))


def test_in_test_mode_every_notification_goes_to_the_console_whatever_the_routes_say(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        'default_channel = "webhook"\n[channels.webhook]\nurl = "http://127.0.0.1:9/hook"\n'
        '[[routes]]\nchannel = "file"\nrecipient = "*"\n'
        '[[routes]]\nchannel = "tmux"\n[channels.tmux]\ntarget = "{agent}"\n',
    )
    stream = io.StringIO()

    router = build_router(load_settings(tmp_path), test_mode=True, console=stream)
    for recipient, priority in [("pm-agent", "urgent"), ("agent-1", "standard"), ("agent-2", "priority")]:
        router.channel_for(recipient, priority).deliver(notification(recipient, priority))

    assert {router.channel_for(r, p).name for r in ("pm-agent", "agent-9") for p in ("urgent", "standard")} == {
        "console"
    }
    assert stream.getvalue().splitlines() == [
        "[urgent] pm-agent ← task-1 is stuck",
        "[standard] agent-1 ← task-1 is stuck",
        "[priority] agent-2 ← task-1 is stuck",
    ]
    assert not (tmp_path / "notifications.jsonl").exists()
    close_channels(router.channels)
