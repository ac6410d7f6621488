"""The README's example of following the event stream does what the README shows, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import EXAMPLE, ROOT
from tests.e2e.service_support import Run
from tests.waiting import as_from_a_terminal, wait_for

FOLLOW = ROOT / "examples" / "follow_events.py"


def quick_start(coordinator: Run) -> None:
    result = coordinator("run", "--once", "--alerts-file", str(EXAMPLE), "--as-of", "2025-07-16T22:30:00Z")
    assert result.code == 0, result.err


def test_the_event_stream_example_prints_what_the_readme_shows(coordinator: Run, tmp_path: Path) -> None:
    quick_start(coordinator)
    printed = subprocess.run([sys.executable, str(FOLLOW), "--home", str(tmp_path / "home")], capture_output=True,
                             text=True, timeout=120, check=True).stdout.splitlines()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"`uv run python examples/follow_events.py` prints \(first lines\):\n\n```\n(.*?)```", readme,
                      re.DOTALL)
    assert shown is not None
    lines = shown.group(1).splitlines()
    assert printed[: len(lines)] == lines


def test_ctrl_c_stops_the_following_example_cleanly(coordinator: Run, tmp_path: Path) -> None:
    quick_start(coordinator)
    out = tmp_path / "follow.out"
    with out.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-u", str(FOLLOW), "--follow", "--home", str(tmp_path / "home")],
                                   stdout=sink, stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_terminal)
    wait_for(lambda: out.read_text().count("\n") >= 5, "the example to print the events so far")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err
