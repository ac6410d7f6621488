"""Hostile ids and descriptions never act on the terminal that shows them: every command for people shows their
control characters as escapes. (`--json` is for programs: JSON's own escaping applies there.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Result
from tests.e2e.service_support import Run

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
FAKE_ROW = "ok\nfake-task  agent-0  GREEN"
REVERSED = "task-\u202eevil"
MARKUP = "[bold red]loud[/]"
HOSTILE_TASKS = [CLEAR, TITLE, FAKE_ROW, REVERSED, MARKUP]
AGENT = "agent\x1b[31m-red"
UNSAFE = ("\x1b", "\x07", "\u202e")


@pytest.fixture
def hostile_home(coordinator: Run, tmp_path: Path) -> Run:
    lines = [json.dumps({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": AGENT,
                         "escalation_level": "red", "description": f"{CLEAR}stuck{TITLE}",
                         "timestamp": f"2025-07-16T10:0{index}:00Z"}) for index, task in enumerate(HOSTILE_TASKS)]
    lines.append(json.dumps({"type": "AGENT_UNRESPONSIVE", "agent_id": AGENT, "last_activity": "2025-07-16T08:00:00Z",
                             "unresponsive_duration": "2 hours", "timestamp": "2025-07-16T10:10:00Z"}))
    lines.append('{"type": "NOPE", "task_id": "\\u001b[2J"}')
    alerts = tmp_path / "hostile.jsonl"
    alerts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", "2025-07-16T10:30:00Z")
    assert result.code == 0, result.err
    assert_safe(result)
    return coordinator


def assert_safe(result: Result) -> None:
    for unsafe in UNSAFE:
        assert unsafe not in result.out, f"{unsafe!r} reached the terminal: {result.out!r}"
        assert unsafe not in result.err, f"{unsafe!r} reached the terminal: {result.err!r}"
    assert not any(line.lstrip("│ ").startswith("fake-task") for line in result.out.splitlines()), result.out


@pytest.mark.parametrize("command", [
    ["task", "list"], ["agent", "list"], ["audit"], ["notifications", "--limit", "100"], ["events", "100"],
    ["quarantine"], ["agent", "show", AGENT], *[["task", "show", task] for task in HOSTILE_TASKS],
    ["export", "crisis-log"],
], ids=lambda command: " ".join(command[:2]).encode("unicode_escape").decode())
def test_a_command_shows_hostile_text_as_escapes(hostile_home: Run, command: list[str]) -> None:
    result = hostile_home(*command)
    assert result.code == 0, result.err
    if command[0] != "export":
        assert_safe(result)


def test_the_escapes_name_the_characters_so_the_text_can_still_be_read(hostile_home: Run) -> None:
    listed = hostile_home("task", "list").out
    assert "\\x1b[2J\\x1b[H" in listed
    assert "ok\\nfake-task" in listed
    assert "task-\\u202eevil" in listed
    assert MARKUP in listed, "rich markup in an id is shown as written, not obeyed"
    shown = hostile_home("task", "show", TITLE)
    assert "\\x1b]0;pwned\\x07" in shown.out


@pytest.mark.parametrize("command", [["task", "list"], ["agent", "list"], ["audit"], ["events", "100"]],
                         ids=" ".join)
def test_tables_drawn_for_a_terminal_show_hostile_text_as_escapes_too(hostile_home: Run, command: list[str]) -> None:
    drawn = hostile_home(*command, env_extra={"FORCE_COLOR": "1"})  # drawn by rich, as on a terminal
    assert drawn.code == 0, drawn.err
    assert "┃" in drawn.out, "the table was not drawn for a terminal"
    for hostile in ("\x1b[2J", "\x1b]0;", "\x07", "\u202e", "agent\x1b"):
        assert hostile not in drawn.out, f"{hostile!r} reached the terminal: {drawn.out!r}"
    assert not any(line.lstrip("│ ").startswith("fake-task") for line in drawn.out.splitlines()), drawn.out


def test_an_unknown_hostile_id_in_an_error_message_is_shown_as_escapes(hostile_home: Run) -> None:
    result = hostile_home("task", "show", "\x1b[2Jnope")
    assert result.code == 1
    assert_safe(result)
    assert "\\x1b[2Jnope" in result.err


def test_json_keeps_the_text_exactly_as_received(hostile_home: Run) -> None:
    documents = hostile_home("task", "list", "--json").json()
    assert {row["task_id"] for row in documents} == set(HOSTILE_TASKS)
