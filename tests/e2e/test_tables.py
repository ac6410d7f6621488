"""Tables for people on a terminal, plain columns for pipes and files: `coordinator task list | grep RED` and
`awk '{print $1}'` work, and a terminal still gets the boxed table with levels in colour."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLE, ISOLATED, coordinator_executable
from tests.e2e.service_support import Run

BOX = set("┃│━─┏┗╇┡")


@pytest.fixture
def home(coordinator: Run) -> Run:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "2025-07-16T22:30:00Z")
    assert result.code == 0, result.err
    return coordinator


def test_a_piped_table_is_its_title_then_columns_aligned_under_their_headers(home: Run) -> None:
    lines = home("task", "list").out.splitlines()

    assert lines[0] == "8 task(s)"
    header, *rows = lines[1:]
    assert header.split() == ["task", "agent", "level", "status", "deadline", "acknowledged", "by"]
    assert not BOX & set("".join(lines))
    first = next(row for row in rows if row.startswith("task-101 "))
    for column, value in (("agent", "working-agent"), ("level", "RED"), ("deadline", "2025-07-16T22")):
        assert first.index(value) == header.index(column), f"{value} is not under {column}:\n{header}\n{first}"
    assert all(line == line.rstrip() for line in lines)


def test_awk_takes_the_first_column_of_a_piped_listing(home: Run) -> None:
    listed = home("agent", "list").out.splitlines()[2:]

    assert {line.split()[0] for line in listed} >= {"silent-agent", "frontend-agent", "backup-agent"}


def on_a_terminal(tmp_path: Path, *args: str) -> str:
    """What `coordinator ARGS` shows on a (pseudo-)terminal."""
    screen, side = pty.openpty()
    shown = bytearray()

    def read() -> None:
        try:
            while chunk := os.read(screen, 65_536):
                shown.extend(chunk)
        except OSError:  # the command ended and its side of the terminal closed
            pass

    reader = threading.Thread(target=read)
    reader.start()
    env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(tmp_path / "home")}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([coordinator_executable(), *args], cwd=tmp_path, env=env, stdout=side,
                          stderr=subprocess.PIPE, timeout=120, check=False)
    os.close(side)
    reader.join(timeout=60)
    os.close(screen)
    assert done.returncode == 0, done.stderr
    return shown.decode("utf-8", errors="replace")


def test_a_terminal_gets_the_boxed_table_with_each_level_in_its_colour(home: Run, tmp_path: Path) -> None:
    shown = on_a_terminal(tmp_path, "task", "list")

    assert BOX & set(shown)
    assert "task-101" in shown
    colours = {level: set(re.findall(rf"\x1b\[([0-9;]+)m{level}\b", shown))
               for level in ("RED", "ORANGE", "YELLOW", "GREEN")}
    assert all(colours.values()), f"a level is drawn without a colour: {colours}"
    assert "1;31" in colours["RED"], "RED is drawn bold red"
    assert len({frozenset(found) for found in colours.values()}) == 4, f"two levels share a colour: {colours}"
