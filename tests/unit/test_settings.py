"""Settings: defaults < coordinator.toml < COORDINATOR_* variables < explicit arguments, and the router they build."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.channels.console import ConsoleChannel
from adapters.channels.file import FileChannel
from cli.channels_setup import build_channels, build_router
from cli.settings import CONFIG_FILE_NAME, DEFAULT_HOME, ConfigError, Settings, load_settings
from domain.notifications import Notification


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
        ('"45s"', timedelta(seconds=45)),
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
    assert load_settings(tmp_path, repeat_interval=timedelta(seconds=42)).repeat_interval == timedelta(seconds=42)


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
    with pytest.raises(ConfigError, match=r"channels\.command: .*bad template"):
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
        '[[routes]]\nchannel = "tmux"\n',
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


def test_settings_built_directly_read_the_same_toml_file_as_load_settings(tmp_path: Path) -> None:
    write_config(tmp_path, 'pm_agent = "pm-lead"\n')

    assert Settings(home=tmp_path).pm_agent == load_settings(tmp_path).pm_agent == "pm-lead"
