"""What people expect of any command line: help that teaches (with an example) behind `-h`, a version, shell
completion, and a quiet exit 0 when the reader of a pipe has seen enough."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
import typer

from cli.main import app
from tests.e2e.conftest import ISOLATED, Result, coordinator_executable
from tests.e2e.service_support import Run


def leaf_commands() -> list[tuple[str, ...]]:
    """Every command a user can run, as its words (`("task", "show")`)."""
    found: list[tuple[str, ...]] = []

    def walk(command: typer.core.TyperGroup | typer.core.TyperCommand, words: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if not children:
            found.append(words)
            return
        if getattr(command, "invoke_without_command", False) and words:
            found.append(words)
        for name, child in children.items():
            walk(child, (*words, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("words", leaf_commands(), ids=" ".join)
def test_every_command_explains_itself_with_an_example_and_a_plain_usage_line(coordinator: Run,
                                                                               words: tuple[str, ...]) -> None:
    result = coordinator(*words, "-h")
    assert result.code == 0, result.err
    assert "Example: coordinator " in result.out
    usage = next(line for line in result.out.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    assert "<bool>" not in result.out


def test_projections_rebuild_names_the_projections_it_can_rebuild(coordinator: Run) -> None:
    shown = coordinator("projections", "rebuild", "--help").out
    assert all(name in shown for name in ("status", "metrics", "history", "crisis"))


def test_the_version_is_the_installed_one_and_completion_can_be_installed(coordinator: Run) -> None:
    assert coordinator("--version").out.strip() == f"coordinator {version('hive-coordinator')}"
    assert coordinator("-V").code == 0
    shown = coordinator("--help").out
    assert "--install-completion" in shown and "--show-completion" in shown


def _first_line_then_close(args: list[str], cwd: Path, env: dict[str, str]) -> Result:
    """Run a command whose reader takes one line and stops reading, as `| head -1` does."""
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    return Result(process.wait(timeout=120), first.decode(), err)


def test_a_closed_pipe_ends_every_command_quietly_with_exit_0(coordinator: Run, tmp_path: Path) -> None:
    alerts = tmp_path / "many.jsonl"
    alerts.write_text("".join(json.dumps({"type": "COORDINATION_CRISIS", "task_id": f"task-{n}", "agent_id": "a",
                                          "escalation_level": "red", "timestamp": "2025-07-16T10:00:00Z"}) + "\n"
                              for n in range(1_500)), encoding="utf-8")
    env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(tmp_path / "home")}
    executable = coordinator_executable()
    once = _first_line_then_close([executable, "run", "--once", "--alerts-file", str(alerts), "--as-of",
                                   "2025-07-16T11:00:00Z"], tmp_path, env)
    assert once.code == 0 and "Error" not in once.err and "Traceback" not in once.err, once.err
    drawn = {**env, "FORCE_COLOR": "1"}  # tables drawn by rich, as for a terminal
    for command, where in ((["events", "5000", "--json"], env), (["task", "list"], env), (["task", "list"], drawn),
                           (["notifications", "--limit", "5000", "--json"], env)):
        result = _first_line_then_close([executable, *command], tmp_path, where)
        assert result.code == 0 and "Error" not in result.err and "Traceback" not in result.err, (command, result.err)
        assert result.out


def test_watch_draws_the_answer_again_as_it_changes_and_ctrl_c_ends_it_with_exit_0(coordinator: Run,
                                                                                   tmp_path: Path) -> None:
    from tests.e2e.conftest import EXAMPLE
    from tests.waiting import as_from_a_terminal, wait_for

    env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(tmp_path / "home")}
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert coordinator("run", "--once", "--alerts-file", str(empty)).code == 0
    out = tmp_path / "watch.out"
    with out.open("wb") as sink:
        watching = subprocess.Popen([coordinator_executable(), "status", "--json", "--watch", "0.2"], cwd=tmp_path,
                                    env=env, stdout=sink, stderr=subprocess.PIPE, preexec_fn=as_from_a_terminal)
    try:
        wait_for(lambda: out.read_text().count('"events_processed": 0') >= 2, "two answers before any alert")
        assert coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "2025-07-16T23:00:00Z").code == 0
        wait_for(lambda: '"events_processed": 0' not in out.read_text().rsplit("coordinator_status", 1)[-1],
                 "an answer drawn after the alerts were recorded")
    finally:
        watching.send_signal(signal.SIGINT)
        _, err = watching.communicate(timeout=60)
    assert watching.returncode == 0, err
    assert b"Traceback" not in err
