"""Settings: the accepted forms of durations, and the ConfigError raised for every invalid configuration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cli.settings import ConfigError, load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import config_error, write_config

# --- durations -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ('"15 minutes"', timedelta(minutes=15)),
        ('"PT15M"', timedelta(minutes=15)),
        ('"PT1H30M"', timedelta(hours=1, minutes=30)),
        ("900", timedelta(seconds=900)),
        ("90.5", timedelta(seconds=90.5)),
        ('"900"', timedelta(seconds=900)),
        ('"1.5 hours"', timedelta(hours=1.5)),
        ('"90 min"', timedelta(minutes=90)),
        ('"2h 15m"', timedelta(hours=2, minutes=15)),
        ('"75s"', timedelta(seconds=75)),
        ('"1 day"', timedelta(days=1)),
    ],
)
@pytest.mark.parametrize("key", ["repeat_interval", "retry_base_delay", "retry_max_delay"])
def test_a_duration_in_the_toml_file_may_be_written_in_every_accepted_form(
    tmp_path: Path, key: str, literal: str, expected: timedelta
) -> None:
    write_config(tmp_path, f"{key} = {literal}\n")

    assert getattr(load_settings(tmp_path), key) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PT20M", timedelta(minutes=20)), ("600", timedelta(minutes=10)), ("2h 15m", timedelta(hours=2, minutes=15))],
)
def test_a_duration_in_an_environment_variable_is_parsed_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: timedelta
) -> None:
    monkeypatch.setenv("COORDINATOR_REPEAT_INTERVAL", text)

    assert load_settings(tmp_path).repeat_interval == expected


def test_a_duration_given_as_a_timedelta_argument_is_taken_as_it_is(tmp_path: Path) -> None:
    assert load_settings(tmp_path, repeat_interval=timedelta(minutes=42)).repeat_interval == timedelta(minutes=42)


@pytest.mark.parametrize(("key", "literal", "floor"), [
    ("repeat_interval", '"0s"', "1 minute"), ("repeat_interval", '"59s"', "1 minute"),
    ("retry_base_delay", "0", "1s"), ("retry_base_delay", '"0.5s"', "1s"), ("retry_max_delay", '"0s"', "1s"),
])
def test_a_duration_too_short_to_be_sensible_raises_a_config_error_naming_the_key_and_its_floor(
    tmp_path: Path, key: str, literal: str, floor: str
) -> None:
    message = config_error(tmp_path, f"{key} = {literal}\n")

    assert f"{key}: must be at least {floor}" in message


def test_the_shortest_sensible_durations_are_accepted(tmp_path: Path) -> None:
    write_config(tmp_path, 'repeat_interval = "1 minute"\nretry_base_delay = "1s"\nretry_max_delay = "1s"\n')

    settings = load_settings(tmp_path)

    assert (settings.repeat_interval, settings.retry_base_delay, settings.retry_max_delay) == (
        timedelta(minutes=1), timedelta(seconds=1), timedelta(seconds=1))


@pytest.mark.parametrize("literal", ['"soonish"', '"-5 minutes"', '""', "true", '"15 parsecs"'])
def test_a_bad_duration_raises_a_config_error_naming_the_key_and_the_file(tmp_path: Path, literal: str) -> None:
    message = config_error(tmp_path, f"retry_base_delay = {literal}\n")

    assert "retry_base_delay" in message


def test_a_bad_duration_in_an_environment_variable_raises_a_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_REPEAT_INTERVAL", "bogus")

    with pytest.raises(ConfigError, match="repeat_interval") as raised:
        load_settings(tmp_path)

    assert "COORDINATOR_" in str(raised.value)


# --- invalid configuration -----------------------------------------------------------------------------------------


def test_a_misspelt_top_level_key_raises_a_config_error_naming_the_key_and_the_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'pm_agnet = "pm-lead"\n')

    assert "pm_agnet" in message


def test_a_misspelt_key_inside_a_section_raises_a_config_error_naming_its_full_path(tmp_path: Path) -> None:
    assert "channels.file.paht" in config_error(tmp_path, '[channels.file]\npaht = "x.jsonl"\n')
    assert "channels.webhok" in config_error(tmp_path, '[channels.webhok]\nurl = "http://x"\n')
    assert "routes.0.chanel" in config_error(tmp_path, '[[routes]]\nchanel = "file"\n')


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('max_attempts = "many"\n', "max_attempts"),
        ("max_attempts = 0\n", "max_attempts"),
        ('auto_reassign = "maybe"\n', "auto_reassign"),
        ('backup_pool = "agent-8"\n', "backup_pool"),
        ('pm_agent = ""\n', "pm_agent"),
        ('routes = "webhook"\n', "routes"),
        ("[channels.command]\nargv = []\n", "channels.command.argv"),
        ('[channels.webhook]\nurl = "http://x"\ntimeout = -1\n', "channels.webhook.timeout"),
        ("[channels.webhook]\ntimeout = 3\n", "channels.webhook.url"),
    ],
)
def test_a_value_of_the_wrong_type_or_range_raises_a_config_error_naming_the_key_and_the_file(
    tmp_path: Path, text: str, key: str
) -> None:
    message = config_error(tmp_path, text)

    assert key in message


def test_a_wrongly_typed_environment_variable_raises_a_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_MAX_ATTEMPTS", "lots")

    with pytest.raises(ConfigError, match="max_attempts"):
        load_settings(tmp_path)


@pytest.mark.parametrize("text", ["pm_agent = \n", "[channels.file\npath = 'x'\n", 'pm_agent = "unterminated\n'])
def test_broken_toml_syntax_raises_a_config_error_saying_the_file_is_not_valid_toml(tmp_path: Path, text: str) -> None:
    message = config_error(tmp_path, text)

    assert "not valid TOML" in message
