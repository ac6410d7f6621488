"""Helpers and fixtures shared by the settings tests: a clean environment and coordinator.toml files to load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli.settings import CONFIG_FILE_NAME, ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COORDINATOR_HOME", raising=False)
    for name in list(os.environ):
        if name.startswith("COORDINATOR_"):
            monkeypatch.delenv(name)


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_FILE_NAME
    path.write_text(text, encoding="utf-8")
    return path


def config_error(home: Path, text: str) -> str:
    path = write_config(home, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(home)
    message = str(raised.value)
    assert str(path) in message
    return message


def close_channels(channels: object) -> None:
    for channel in getattr(channels, "values", lambda: [])():
        close = getattr(channel, "close", None)
        if close is not None:
            close()
