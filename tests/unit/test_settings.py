"""Settings: defaults < coordinator.toml < COORDINATOR_* variables < explicit arguments, and the paths they give."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cli.settings import DEFAULT_HOME, ConfigError, Settings, load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import write_config

# --- sources and precedence ----------------------------------------------------------------------------------------


def test_without_a_config_file_or_variables_every_setting_has_its_documented_default(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)

    assert settings.home == tmp_path
    assert settings.alerts_file == Path("coordination_alerts.json")
    assert settings.batch_size == 2_000
    assert settings.pm_agent == "pm-agent"
    assert settings.repeat_interval == timedelta(minutes=15)
    assert settings.auto_reassign is True
    assert settings.backup_pool == []
    assert settings.max_attempts == 5
    assert settings.retry_base_delay == timedelta(seconds=2)
    assert settings.retry_max_delay == timedelta(minutes=5)
    assert settings.default_channel == "file"
    assert settings.channels.file.path == Path("notifications.jsonl")
    assert (settings.channels.command, settings.channels.tmux, settings.channels.webhook,
            settings.channels.apprise) == (None, None, None, None)
    assert settings.routes == []
    assert settings.config_path == tmp_path / "coordinator.toml"
    assert settings.event_store_path == tmp_path / "events.sqlite"
    assert settings.views_path == tmp_path / "views.sqlite"


def test_with_no_home_given_anywhere_the_home_is_dot_coordinator_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path / DEFAULT_HOME, 'pm_agent = "pm-in-default-home"\n')

    settings = load_settings()

    assert settings.home == DEFAULT_HOME == Path(".coordinator")
    assert settings.pm_agent == "pm-in-default-home"


def test_every_value_in_the_toml_file_is_read(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
pm_agent = "pm-lead"
repeat_interval = "30 minutes"
auto_reassign = false
backup_pool = ["agent-8", "agent-9"]
max_attempts = 7
retry_base_delay = "PT5S"
retry_max_delay = 600
default_channel = "command"
batch_size = 50

[channels.file]
path = "out/notes.jsonl"

[channels.command]
argv = ["notify", "--to", "{agent}", "{message}"]
timeout = 3.5
cwd = "/srv/agents"

[channels.tmux]
target = "hive:{agent}"

[channels.webhook]
url = "https://hooks.example.org/coordinator"
timeout = 2
headers = { Authorization = "Bearer abc" }

[channels.apprise]
urls = ["json://localhost/notify"]

[[routes]]
channel = "webhook"
recipient = "pm-*"
priority = ["urgent", "priority"]

[[routes]]
channel = "tmux"
""",
    )

    settings = load_settings(tmp_path)

    assert settings.pm_agent == "pm-lead"
    assert settings.repeat_interval == timedelta(minutes=30)
    assert settings.auto_reassign is False
    assert settings.backup_pool == ["agent-8", "agent-9"]
    assert settings.max_attempts == 7
    assert settings.retry_base_delay == timedelta(seconds=5)
    assert settings.retry_max_delay == timedelta(minutes=10)
    assert settings.default_channel == "command"
    assert settings.batch_size == 50
    assert settings.channels.file.path == Path("out/notes.jsonl")
    command = settings.channels.command
    assert command is not None
    assert (command.argv, command.timeout, command.cwd) == (
        ["notify", "--to", "{agent}", "{message}"], 3.5, Path("/srv/agents"),
    )
    assert settings.channels.tmux is not None and settings.channels.tmux.target == "hive:{agent}"
    webhook = settings.channels.webhook
    assert webhook is not None
    assert (webhook.url, webhook.timeout, webhook.headers) == (
        "https://hooks.example.org/coordinator", 2.0, {"Authorization": "Bearer abc"},
    )
    assert settings.channels.apprise is not None and settings.channels.apprise.urls == ["json://localhost/notify"]
    assert [(route.channel, route.recipient, route.priority) for route in settings.routes] == [
        ("webhook", "pm-*", ["urgent", "priority"]), ("tmux", "*", []),
    ]


def test_environment_variables_override_the_toml_file_including_nested_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        tmp_path,
        'pm_agent = "pm-from-toml"\nmax_attempts = 3\nauto_reassign = true\n'
        '[channels.file]\npath = "toml.jsonl"\n'
        '[channels.webhook]\nurl = "http://127.0.0.1:9/hook"\ntimeout = 4\n',
    )
    monkeypatch.setenv("COORDINATOR_PM_AGENT", "pm-from-env")
    monkeypatch.setenv("COORDINATOR_MAX_ATTEMPTS", "9")
    monkeypatch.setenv("COORDINATOR_AUTO_REASSIGN", "false")
    monkeypatch.setenv("COORDINATOR_BACKUP_POOL", '["agent-a", "agent-b"]')
    monkeypatch.setenv("COORDINATOR_CHANNELS__FILE__PATH", "env.jsonl")
    monkeypatch.setenv("COORDINATOR_CHANNELS__WEBHOOK__TIMEOUT", "1.5")

    settings = load_settings(tmp_path)

    assert settings.pm_agent == "pm-from-env"
    assert settings.max_attempts == 9
    assert settings.auto_reassign is False
    assert settings.backup_pool == ["agent-a", "agent-b"]
    assert settings.channels.file.path == Path("env.jsonl")
    assert settings.channels.webhook is not None
    assert (settings.channels.webhook.url, settings.channels.webhook.timeout) == ("http://127.0.0.1:9/hook", 1.5)


def test_explicit_arguments_override_both_the_environment_and_the_toml_file_and_none_means_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, 'pm_agent = "pm-from-toml"\nmax_attempts = 3\nbatch_size = 10\n')
    monkeypatch.setenv("COORDINATOR_MAX_ATTEMPTS", "9")

    settings = load_settings(tmp_path, pm_agent="pm-explicit", max_attempts=2, batch_size=None)

    assert settings.pm_agent == "pm-explicit"
    assert settings.max_attempts == 2
    assert settings.batch_size == 10


def test_an_explicit_home_wins_over_coordinator_home_and_its_own_toml_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_home = tmp_path / "env-home"
    explicit_home = tmp_path / "explicit-home"
    write_config(env_home, 'pm_agent = "pm-of-env-home"\n')
    write_config(explicit_home, 'pm_agent = "pm-of-explicit-home"\n')
    monkeypatch.setenv("COORDINATOR_HOME", str(env_home))

    explicit = load_settings(explicit_home)
    from_env = load_settings()

    assert (explicit.home, explicit.pm_agent) == (explicit_home, "pm-of-explicit-home")
    assert explicit.event_store_path == explicit_home / "events.sqlite"
    assert (from_env.home, from_env.pm_agent) == (env_home, "pm-of-env-home")


def test_an_error_in_the_toml_of_coordinator_home_names_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "env-home", "max_attempts = 0\n")
    monkeypatch.setenv("COORDINATOR_HOME", str(tmp_path / "env-home"))

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert str(path) in str(raised.value)
    assert "max_attempts" in str(raised.value)


def test_settings_built_directly_read_the_same_toml_file_as_load_settings(tmp_path: Path) -> None:
    write_config(tmp_path, 'pm_agent = "pm-lead"\n')

    assert Settings(home=tmp_path).pm_agent == load_settings(tmp_path).pm_agent == "pm-lead"


# --- paths ---------------------------------------------------------------------------------------------------------


def test_a_relative_notifications_path_is_inside_the_home_directory_and_an_absolute_one_is_kept(
    tmp_path: Path,
) -> None:
    default = load_settings(tmp_path / "a")
    write_config(tmp_path / "b", '[channels.file]\npath = "out/notes.jsonl"\n')
    relative = load_settings(tmp_path / "b")
    elsewhere = tmp_path / "elsewhere" / "notes.jsonl"
    write_config(tmp_path / "c", f'[channels.file]\npath = "{elsewhere}"\n')
    absolute = load_settings(tmp_path / "c")

    assert default.notifications_path == tmp_path / "a" / "notifications.jsonl"
    assert relative.notifications_path == tmp_path / "b" / "out" / "notes.jsonl"
    assert absolute.notifications_path == elsewhere


def test_a_relative_home_keeps_the_notifications_file_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = load_settings(Path("state"))

    assert settings.notifications_path == Path("state") / "notifications.jsonl"
