"""Damaged or full storage as an unlucky operator meets it: a clear message naming the file and what to do, a
documented exit code, read models that recover by themselves, and nothing half-written."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLE, Result
from tests.e2e.service_support import Run

AS_OF = "2025-07-16T23:00:00Z"
EXIT_DAMAGED, EXIT_FULL = 4, 5


def ingest(coordinator: Run, alerts: Path = EXAMPLE) -> Result:
    return coordinator("run", "--once", "--alerts-file", str(alerts), "--as-of", AS_OF)


def scribble(path: Path, at: int = 0) -> None:
    """Overwrite part of a file with noise, as a failing disk or a stray write would."""
    with path.open("r+b") as handle:
        handle.seek(at)
        handle.write(b"\xde\xad\xbe\xef" * 64)


def test_damaged_read_models_make_queries_say_so_and_rebuilding_recovers_them(coordinator: Run, tmp_path: Path) -> None:
    assert ingest(coordinator).code == 0
    before = coordinator("task", "show", "task-101", "--json").json()
    views = tmp_path / "home" / "views.sqlite"
    scribble(views)

    for command in (["status"], ["task", "list"], ["task", "show", "task-101"], ["audit"], ["replay", "--verify"]):
        result = coordinator(*command)
        assert result.code == EXIT_DAMAGED, (command, result.err)
        assert "read models damaged" in result.err and "coordinator projections rebuild" in result.err
        assert "Traceback" not in result.err

    rebuilt = coordinator("projections", "rebuild")
    assert rebuilt.code == 0, rebuilt.err
    assert "moved aside to" in rebuilt.err
    assert list(views.parent.glob("views.sqlite.damaged-*")), "the damaged file is kept, not deleted"
    assert coordinator("task", "show", "task-101", "--json").json() == before
    assert coordinator("replay", "--verify").code == 0


def test_a_truncated_read_model_file_is_recognised_as_damaged(coordinator: Run, tmp_path: Path) -> None:
    assert ingest(coordinator).code == 0
    views = tmp_path / "home" / "views.sqlite"
    coordinator("projections", "rebuild")  # the views file as one checkpointed file
    size = views.stat().st_size
    for journal in views.parent.glob("views.sqlite-*"):
        journal.unlink()
    os.truncate(views, size // 2)
    result = coordinator("task", "list")
    assert result.code == EXIT_DAMAGED, result.err
    assert "read models damaged" in result.err


def test_a_damaged_event_store_is_named_and_doctor_says_what_to_do(coordinator: Run, tmp_path: Path) -> None:
    assert ingest(coordinator).code == 0
    events = tmp_path / "home" / "events.sqlite"
    scribble(events)
    result = coordinator("status")
    assert result.code == EXIT_DAMAGED, result.err
    assert str(events) in result.err and "coordinator doctor" in result.err

    checked = coordinator("doctor", "--json")
    assert checked.code == 1
    failed = {row["name"]: row for row in checked.json() if row["status"] == "fail"}
    assert "event store" in failed and "backup" in failed["event store"]["advice"]


def test_doctor_passes_a_healthy_home_and_names_a_bad_configuration_key(coordinator: Run, tmp_path: Path) -> None:
    assert ingest(coordinator).code == 0
    healthy = coordinator("doctor", "--json")
    assert healthy.code == 0, healthy.out
    assert {row["name"] for row in healthy.json()} >= {"home", "configuration", "channels", "writer", "event store",
                                                       "read models", "disk"}
    (tmp_path / "home" / "coordinator.toml").write_text('default_channel = "carrier-pigeon"\n', encoding="utf-8")
    broken = coordinator("doctor", "--json")
    assert broken.code == 1
    [failed] = [row for row in broken.json() if row["status"] == "fail"]
    assert failed["name"] == "configuration" and "carrier-pigeon" in failed["detail"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own (a tmpfs mount), unmounted afterwards."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small file system here (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_clear_error_and_nothing_is_half_written(
    coordinator: Run, tmp_path: Path, small_disk: Path,
) -> None:
    home = small_disk / "home"
    alerts = tmp_path / "many.jsonl"
    alerts.write_text("".join(
        f'{{"type": "COORDINATION_CRISIS", "task_id": "task-{n}", "agent_id": "agent-{n % 7}", '
        f'"escalation_level": "red", "description": "{"x" * 200}", "timestamp": "2025-07-16T10:00:00Z"}}\n'
        for n in range(3_000)), encoding="utf-8")
    full = coordinator("run", "--once", "--alerts-file", str(alerts), "--home", str(home), "--as-of", AS_OF)
    assert full.code == EXIT_FULL, full.err
    assert "no space left" in full.err and "Traceback" not in full.err

    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    again = coordinator("run", "--once", "--alerts-file", str(alerts), "--home", str(home), "--as-of", AS_OF,
                        "--json")
    assert again.code == 0, again.err
    reference = coordinator("run", "--once", "--alerts-file", str(alerts), "--home", str(tmp_path / "clean"),
                            "--as-of", AS_OF, "--json")
    assert again.json()["processed"] + again.json()["duplicates"] == reference.json()["processed"]
    assert coordinator("replay", "--verify", "--home", str(home)).code == 0
    listed = coordinator("task", "list", "--json", "--home", str(home)).json()
    assert listed == coordinator("task", "list", "--json", "--home", str(tmp_path / "clean")).json()
