"""The channel registry: each kind's section is what `[channels.<name>]` accepts, and it builds that channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.channels.kind import Context
from adapters.channels.registry import KINDS, ChannelError, build_channels
from cli.settings import load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import write_config

MINIMAL: dict[str, dict[str, Any]] = {
    "webhook": {"url": "http://127.0.0.1:9/"},
    "apprise": {"urls": ["json://127.0.0.1:9/"]},
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_registered_channel_builds_from_its_section_and_bears_its_name(name: str, tmp_path: Path) -> None:
    channels = build_channels({name: MINIMAL.get(name, {})}, Context(tmp_path))
    assert channels[name].name == name
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def test_a_section_the_channel_cannot_use_is_refused_naming_its_key(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match=r"channels\.webhook: webhook URL must be http or https"):
        build_channels({"webhook": {"url": "ftp://example.org/"}}, Context(tmp_path))


def test_the_settings_accept_a_section_for_every_registered_channel_and_no_other(tmp_path: Path) -> None:
    sections = "".join(
        f"[channels.{name}]\n" + "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in fields.items())
        for name, fields in MINIMAL.items()
    )
    write_config(tmp_path / "all", sections + "[channels.command]\n[channels.tmux]\n")
    assert load_settings(tmp_path / "all").channel_names == sorted(KINDS)
    write_config(tmp_path / "pigeon", "[channels.pigeon]\nloft = \"roof\"\n")
    with pytest.raises(ValueError, match=r"channels\.pigeon"):
        load_settings(tmp_path / "pigeon")
