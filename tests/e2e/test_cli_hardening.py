"""Bad input and unusable homes as an operator meets them: one clear line saying what is wrong, a documented exit
code, no traceback, and nothing recorded or created on the way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLE, ISOLATED, Result, coordinator_executable
from tests.e2e.service_support import Run

AS_OF = "2025-07-16T22:30:00Z"
CRISIS_TASK = "task-106"
"""A task of the example in an open, unacknowledged crisis by `AS_OF`."""
EXIT_USAGE = 2
NOT_UTF8 = "x\udcff"
"""An argument holding the byte 0xff, which is not UTF-8 (Python passes it on to the command as that byte)."""


def ingest(coordinator: Run, *extra: str) -> Result:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, *extra)
    assert result.code in (0, 1), result.err
    return result


def refused(result: Result, *words: str) -> bool:
    """Whether the command was refused as a usage error, saying each of `words`, without a traceback."""
    return result.code == EXIT_USAGE and "Traceback" not in result.err and all(word in result.err for word in words)


# --- settings ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [
    ("repeat_interval", '"0s"'), ("repeat_interval", '"30s"'), ("retry_base_delay", "0"),
    ("retry_max_delay", '"0.5s"'),
])
def test_a_repeat_interval_or_retry_delay_too_short_is_refused_naming_the_key_before_anything_is_written(
        coordinator: Run, tmp_path: Path, key: str, value: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "coordinator.toml").write_text(f"{key} = {value}\n", encoding="utf-8")
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF)
    assert refused(result, key, "at least"), result.err
    assert not (home / "events.sqlite").exists(), "nothing written"


def test_a_repeat_interval_of_a_minute_is_accepted(coordinator: Run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "coordinator.toml").write_text('repeat_interval = "1 minute"\nretry_base_delay = "1s"\n', encoding="utf-8")
    assert coordinator("rules", "--json").json()["responses"]["repeat_interval"] == "1m 00s"


# --- a home this user may read but not write ---------------------------------------------------------------------


@pytest.fixture
def read_only_home(coordinator: Run, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    """A home holding the example's history that the commands run here may read but not write: its directory and
    files made read-only, and, run as root, the commands run without the capabilities that let root write anyway.
    Skipped where this cannot be arranged."""
    ingest(coordinator)
    home = tmp_path / "home"
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to run a command that may not write the home")
        dropped = "-dac_override,-dac_read_search,-fowner"
        prefix = ["setpriv", f"--bounding-set={dropped}", f"--inh-caps={dropped}"]
    modes = {path: path.stat().st_mode for path in [*home.iterdir(), home]}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(home / 'probe')!r}, 'w')"],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            pytest.skip("this user writes a read-only directory anyway (e.g. root without setpriv's effect)")
        executable = coordinator_executable()
        env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(home)}

        def run(*args: str) -> Result:
            done = subprocess.run([*prefix, executable, *args], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=120, check=False)
            return Result(done.returncode, done.stdout, done.stderr)

        yield run
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@pytest.mark.parametrize("command", [
    ["task", "list"], ["status"], ["events"], ["audit"], ["quarantine"], ["metrics"], ["export", "crisis-log"],
    ["tick", "--as-of", AS_OF], ["ack", CRISIS_TASK], ["run", "--once", "--alerts-file", str(EXAMPLE)],
])
def test_a_home_this_user_may_not_write_is_said_so_and_not_called_damaged(
        read_only_home: Callable[..., Result], command: list[str]) -> None:
    result = read_only_home(*command)
    assert refused(result, "may not write"), result.err
    assert "damaged" not in result.err and "backup" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_doctor_on_a_home_this_user_may_not_write_says_so_rather_than_to_restore_a_backup(
        read_only_home: Callable[..., Result]) -> None:
    result = read_only_home("doctor", "--json")
    assert result.code == 1, result.err
    failed = [check for check in result.json() if check["status"] == "fail"]
    assert failed and all("backup" not in check["advice"] and "rebuild" not in check["advice"] for check in failed)
    assert any("may not write" in check["detail"] or "cannot be opened" in check["detail"] for check in failed)


def test_rebuilding_the_read_models_of_a_home_this_user_may_not_write_sets_nothing_aside(
        read_only_home: Callable[..., Result], tmp_path: Path) -> None:
    result = read_only_home("projections", "rebuild")
    assert refused(result, "may not write"), result.err
    assert not list((tmp_path / "home").glob("*.damaged-*")), "a sound file is not set aside as damaged"
    assert (tmp_path / "home" / "views.sqlite").is_file()


# --- a home that cannot be made ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["tick"], ["run", "--once", "--alerts-file", str(EXAMPLE)], ["start", "--no-http", "--alerts-file", "a.json"],
])
def test_a_home_under_a_file_is_refused_naming_the_file(coordinator: Run, tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = coordinator(*command, "--home", str(blocker / "sub" / "home"))
    assert refused(result, str(blocker), "is a file, not a directory"), result.err


@pytest.mark.skipif(not Path("/proc/1").is_dir(), reason="no /proc: no directory that takes no files to try")
@pytest.mark.parametrize("command", [["tick"], ["run", "--once", "--alerts-file", str(EXAMPLE)]])
def test_a_home_in_a_directory_that_takes_no_files_is_refused_plainly(coordinator: Run, command: list[str]) -> None:
    result = coordinator(*command, "--home", "/proc/1")
    assert refused(result, "/proc/1/coordinator.lock", "another --home"), result.err


@pytest.mark.parametrize("command", [["status"], ["tick", "--as-of", AS_OF]])
def test_an_empty_home_is_refused_rather_than_taken_for_the_current_directory(
        coordinator: Run, tmp_path: Path, command: list[str]) -> None:
    result = coordinator(*command, "--home", "")
    assert refused(result, "--home", "is empty"), result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "nothing made in the current directory"


# --- arguments ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["task", "show", NOT_UTF8], ["agent", "show", NOT_UTF8], ["ack", NOT_UTF8], ["audit", "--task", NOT_UTF8],
    ["task", "list", "--agent", NOT_UTF8], ["notifications", "retry", NOT_UTF8],
    ["test-event", "--agent", NOT_UTF8, "--alerts-file", "alerts.json"], ["resolve", CRISIS_TASK, "--note", NOT_UTF8],
])
def test_an_argument_that_is_not_utf8_is_a_usage_error(coordinator: Run, tmp_path: Path, command: list[str]) -> None:
    ingest(coordinator)
    result = coordinator(*command)
    assert refused(result, "not valid UTF-8"), result.err
    assert not (tmp_path / "alerts.json").exists()


def test_a_path_that_is_not_utf8_is_still_a_home(coordinator: Run, tmp_path: Path) -> None:
    home = tmp_path / f"home-{NOT_UTF8}"
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, "--home", str(home))
    assert result.code == 0, result.err
    assert (home / "events.sqlite").is_file()


@pytest.mark.parametrize("command", [
    ["events", "99999999999999999999"], ["task", "list", "--limit", "99999999999999999999"],
    ["notifications", "--limit", "99999999999999999999"], ["status", "--watch", "1e400"],
    ["status", "--watch", "nan"],
])
def test_a_count_or_interval_too_large_to_use_is_a_usage_error(coordinator: Run, command: list[str]) -> None:
    ingest(coordinator)
    result = coordinator(*command)
    assert refused(result, "Invalid value"), result.err


@pytest.mark.parametrize("by", ["", "   "])
def test_acknowledging_by_no_one_is_refused_and_records_nothing(coordinator: Run, by: str) -> None:
    ingest(coordinator)
    result = coordinator("ack", CRISIS_TASK, "--by", by)
    assert refused(result, "--by", "is empty"), result.err
    assert coordinator("task", "show", CRISIS_TASK, "--json").json()["acknowledged_by"] is None


def test_a_test_event_into_a_directory_or_a_missing_one_is_refused_and_creates_nothing(
        coordinator: Run, tmp_path: Path) -> None:
    assert refused(coordinator("test-event", "--alerts-file", str(tmp_path)), "is a directory"), "a directory"
    missing = tmp_path / "missing" / "dir" / "alerts.json"
    result = coordinator("test-event", "--alerts-file", str(missing))
    assert refused(result, str(missing.parent), "does not exist"), result.err
    assert not (tmp_path / "missing").exists()


def test_rules_out_without_a_diagram_is_refused_rather_than_ignored(coordinator: Run, tmp_path: Path) -> None:
    out = tmp_path / "rules.txt"
    result = coordinator("rules", "--out", str(out))
    assert refused(result, "--out", "--diagram"), result.err
    assert not out.exists()


def test_a_bare_number_as_an_instant_is_refused_with_the_forms_that_say_what_is_meant(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "1752704400")
    assert refused(result, "1752704400s", "@1752704400"), result.err
    epoch = int(datetime(2025, 7, 16, 22, 30, tzinfo=UTC).timestamp())
    unix = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", f"@{epoch}")
    assert unix.code == 0 and f"(as of {AS_OF})" in unix.out, unix.err


# --- quarantine under --strict -----------------------------------------------------------------------------------


def test_strict_fails_only_on_input_this_run_quarantined_not_on_what_an_earlier_run_did(coordinator: Run) -> None:
    first = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, "--strict", "--json")
    assert first.code == 1 and first.json()["quarantined"] == 1, first.err
    again = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", AS_OF, "--strict", "--json")
    assert again.code == 0, again.err
    summary = again.json()
    assert set(summary) == {"processed", "observed", "duplicates", "quarantined"}
    assert (summary["quarantined"], summary["processed"]) == (0, 0)
    assert summary["duplicates"] == first.json()["processed"] + first.json()["quarantined"]
    assert len(json.loads(coordinator("quarantine", "--json").out)) == 1, "still in quarantine, once"


def test_run_once_on_a_device_says_it_is_no_regular_file_rather_than_missing(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", "/dev/null")
    assert refused(result, "not a regular file", "/dev/null"), result.err
    assert "not found" not in result.err
