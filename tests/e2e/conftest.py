"""Run the installed `coordinator` command as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "coordination_alerts.json"
ISOLATED = {"COLUMNS": "200", "COORDINATOR_HTTP__LISTEN": "127.0.0.1:0"}
"""Environment every command a test runs gets: a wide terminal, and a service API on a free port (never one a
test shares with another)."""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def coordinator_executable() -> str:
    beside = Path(sys.executable).parent / "coordinator"
    found = str(beside) if beside.exists() else shutil.which("coordinator")
    if found is None:
        pytest.fail("the `coordinator` command is not installed in this environment")
    return found


@pytest.fixture
def coordinator(tmp_path: Path) -> Callable[..., Result]:
    """Run `coordinator ARGS` in a scratch directory with its own home."""
    executable = coordinator_executable()
    env = {**os.environ, **ISOLATED, "COORDINATOR_HOME": str(tmp_path / "home")}

    def run(*args: str, env_extra: dict[str, str] | None = None) -> Result:
        completed = subprocess.run(
            [executable, *args], cwd=tmp_path, env={**env, **(env_extra or {})},
            capture_output=True, text=True, timeout=120, check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run
