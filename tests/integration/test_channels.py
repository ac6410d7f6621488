"""Delivery channels against real programs, a real tmux server and real files (HTTP ones: test_http_channels)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.channels.command import UPSTREAM_ARGV, CommandChannel
from adapters.channels.console import ConsoleChannel
from adapters.channels.file import FileChannel
from adapters.channels.tmux import TmuxChannel
from domain.notifications import DeliveryError
from tests.integration.channel_support import INJECTION, notification
from tests.waiting import wait_for

# --- command -----------------------------------------------------------------------------------------------------

RECORDER = """
import json, sys, time
from pathlib import Path
mode = Path(__file__).with_name("mode").read_text() if Path(__file__).with_name("mode").exists() else ""
if mode == "sleep":
    time.sleep(600)
if mode == "fail":
    sys.stderr.write("  agent mailbox is full\\n")
    sys.exit(3)
Path(__file__).with_name("argv.json").write_text(json.dumps(sys.argv[1:]), encoding="utf-8")
"""


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER, encoding="utf-8")
    return script


def command(script: Path, **options: Any) -> CommandChannel:
    return CommandChannel([sys.executable, str(script), "--agent", "{agent}", "--message", "{message}"], **options)


def recorded(script: Path) -> list[str]:
    result: list[str] = json.loads(script.with_name("argv.json").read_text(encoding="utf-8"))
    return result


def test_alert_text_with_shell_metacharacters_reaches_the_program_as_one_literal_argument(
    recorder: Path, tmp_path: Path
) -> None:
    command(recorder, cwd=tmp_path).deliver(notification(INJECTION))

    assert recorded(recorder) == ["--agent", "agent-7", "--message", INJECTION]
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "PWNED2").exists()
    assert not (Path.cwd() / "PWNED").exists()


def test_every_template_field_is_filled_and_braces_inside_values_or_unknown_fields_are_left_alone(
    recorder: Path,
) -> None:
    channel = CommandChannel(
        [sys.executable, str(recorder), "{priority}", "{kind}", "{subject}", "{key}", "{unknown}", "{{literal}}",
         "{message}"]
    )

    channel.deliver(notification("use {agent} and {0} literally"))

    assert recorded(recorder) == ["urgent", "escalation", "task-1", "escalation:task-1:red", "{unknown}",
                                  "{literal}", "use {agent} and {0} literally"]


def test_a_template_that_cannot_be_formatted_is_rejected_when_the_channel_is_built() -> None:
    with pytest.raises(ValueError, match="bad template"):
        CommandChannel(["echo", "{message"])
    with pytest.raises(ValueError, match="bad template"):
        CommandChannel(["echo", "{0}"])


UPSTREAM_LIKE = """
import argparse, json, sys
from pathlib import Path
parser = argparse.ArgumentParser()
parser.add_argument("--agent", required=True)
parser.add_argument("--message", required=True)
options = parser.parse_args()
Path(__file__).with_name("parsed.json").write_text(json.dumps(vars(options)), encoding="utf-8")
"""


def test_the_upstream_template_joins_each_value_to_its_option_so_an_id_never_becomes_an_option(
    tmp_path: Path,
) -> None:
    assert UPSTREAM_ARGV == ["python3", "scripts/fixed_agent_communication.py", "--agent={agent}",
                             "--message={message}"]
    script = tmp_path / "fixed_agent_communication.py"
    script.write_text(UPSTREAM_LIKE, encoding="utf-8")
    channel = CommandChannel([sys.executable, str(script), *UPSTREAM_ARGV[2:]])
    channel.deliver(notification(recipient="--help", message="--agent=intruder; rm -rf /"))
    parsed = json.loads(script.with_name("parsed.json").read_text(encoding="utf-8"))
    assert parsed == {"agent": "--help", "message": "--agent=intruder; rm -rf /"}


def test_a_program_that_exits_non_zero_gives_a_retryable_error_naming_the_code_and_stderr(recorder: Path) -> None:
    recorder.with_name("mode").write_text("fail")

    with pytest.raises(DeliveryError) as raised:
        command(recorder).deliver(notification())

    assert raised.value.retryable
    assert "exited with code 3" in raised.value.reason
    assert raised.value.reason.endswith(": agent mailbox is full")


def test_a_program_that_outlives_its_timeout_is_stopped_and_the_error_is_retryable(recorder: Path) -> None:
    recorder.with_name("mode").write_text("sleep")
    started = time.monotonic()

    with pytest.raises(DeliveryError) as raised:
        command(recorder, timeout=0.3).deliver(notification())

    assert raised.value.retryable
    assert "did not finish within 0.3 s" in raised.value.reason
    assert time.monotonic() - started < 300, "the program was stopped, not waited for"


def test_a_missing_program_gives_a_non_retryable_error_that_names_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-program")

    with pytest.raises(DeliveryError) as raised:
        CommandChannel([missing, "{message}"]).deliver(notification())

    assert not raised.value.retryable
    assert raised.value.reason.startswith("program not found")
    assert missing in raised.value.reason


# --- tmux --------------------------------------------------------------------------------------------------------


@dataclass
class TmuxServer:
    socket: str
    output: Path

    def received(self) -> str:
        return self.output.read_text(encoding="utf-8") if self.output.exists() else ""


@pytest.fixture
def tmux_server(tmp_path: Path) -> Iterator[TmuxServer]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: apt-get install tmux")
    socket = f"hive-test-{uuid.uuid4().hex[:12]}"
    output = tmp_path / "out.txt"
    subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "hive", "-n", "agent-7",
         "-x", "200", "-y", "50", f"cat > '{output}'"],
        check=True, capture_output=True, timeout=5,
    )
    socket_path = subprocess.run(
        ["tmux", "-L", socket, "display-message", "-p", "#{socket_path}"], capture_output=True, text=True, timeout=5,
        check=False,
    ).stdout.strip()
    try:
        yield TmuxServer(socket, output)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=5, check=False)
        if socket_path:
            Path(socket_path).unlink(missing_ok=True)


def test_the_message_is_typed_literally_into_the_agents_tmux_window_and_submitted(tmux_server: TmuxServer) -> None:
    message = "-n Enter C-c " + INJECTION
    channel = TmuxChannel(target="hive:{agent}", socket=tmux_server.socket)

    channel.deliver(notification(message))

    wait_for(lambda: tmux_server.received() == message + "\n", "the message in the pane")


def test_control_characters_in_a_message_reach_the_tmux_window_as_visible_escapes_never_as_keys(
    tmux_server: TmuxServer,
) -> None:
    channel = TmuxChannel(target="hive:{agent}", socket=tmux_server.socket)

    channel.deliver(notification("stuck\x03\x04\x1b[2J\nrm -rf ~\r"))

    wait_for(lambda: tmux_server.received().endswith("\n"), "the message in the pane")
    assert tmux_server.received() == "stuck\\x03\\x04\\x1b[2J rm -rf ~\n", "typed on one line, then Enter once"


def test_the_default_target_is_the_window_named_after_the_agent(tmux_server: TmuxServer) -> None:
    TmuxChannel(socket=tmux_server.socket).deliver(notification("wake up"))

    wait_for(lambda: tmux_server.received() == "wake up\n", "the message in the pane")


def test_a_missing_tmux_window_gives_a_retryable_error_carrying_tmuxs_complaint(tmux_server: TmuxServer) -> None:
    with pytest.raises(DeliveryError) as raised:
        TmuxChannel(target="hive:{agent}", socket=tmux_server.socket).deliver(notification(recipient="agent-404"))

    assert raised.value.retryable
    assert "hive:agent-404" in raised.value.reason
    assert "can't find" in raised.value.reason


def test_a_missing_tmux_program_gives_a_non_retryable_error(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError) as raised:
        TmuxChannel(tmux=str(tmp_path / "no-tmux")).deliver(notification())

    assert not raised.value.retryable
    assert "program not found" in raised.value.reason


# --- file and console ----------------------------------------------------------------------------------------------


def test_each_delivery_appends_one_valid_json_line_with_emoji_kept_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "notifications.jsonl"
    channel = FileChannel(path)
    sent = [notification("🚨 task-1 is stuck"), notification("⏰ task-2 is overdue", key="reminder:task-2")]

    for item in sent:
        channel.deliver(item)

    raw = path.read_bytes()
    assert "🚨".encode() in raw and "⏰".encode() in raw
    lines = raw.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [item.as_dict() for item in sent]


def test_a_line_cut_short_by_an_earlier_crash_does_not_swallow_the_next_delivery(tmp_path: Path) -> None:
    path = tmp_path / "notifications.jsonl"
    path.write_bytes(b'{"key": "half-writ')

    FileChannel(path).deliver(notification())

    assert json.loads(path.read_text(encoding="utf-8").splitlines()[-1]) == notification().as_dict()


def test_a_file_that_cannot_be_written_gives_a_retryable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(DeliveryError) as raised:
        FileChannel(blocker / "notifications.jsonl").deliver(notification())

    assert raised.value.retryable


def test_hives_sharing_a_file_each_get_their_notification_of_one_key_and_a_repeat_within_a_hive_is_skipped(
    tmp_path: Path
) -> None:
    path = tmp_path / "shared.jsonl"
    own, north = notification(), notification(hive="north")

    channel = FileChannel(path)
    channel.deliver_many([own, north])
    channel.deliver(north)
    FileChannel(path).deliver_many([own, north])  # after a restart: the repeats are found in the file's tail

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["key"], line.get("hive")) for line in lines] == [(own.key, None), (north.key, "north")]


def test_the_console_prints_one_readable_line_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    channel = ConsoleChannel()

    channel.deliver(notification("🚨 task-1 is stuck\nsince 19:03"))

    assert capsys.readouterr().out == "[urgent] agent-7 ← 🚨 task-1 is stuck since 19:03\n"


def test_the_console_writes_to_a_given_stream() -> None:
    stream = io.StringIO()

    ConsoleChannel(stream).deliver(notification(priority="standard"))

    assert stream.getvalue() == "[standard] agent-7 ← task-1 is stuck\n"


def test_the_console_shows_control_characters_of_a_message_as_escapes() -> None:
    stream = io.StringIO()

    ConsoleChannel(stream).deliver(notification("\x1b]0;pwned\x07 task-\u202e1 is stuck", recipient="agent\x1b[2J"))

    assert stream.getvalue() == "[urgent] agent\\x1b[2J ← \\x1b]0;pwned\\x07 task-\\u202e1 is stuck\n"
