"""Start-up benchmark: how long each command takes from a cold start, as a ratio to `python3 -c pass`.

Usage: python bench/startup.py [--runs N]

Builds a home from the example alerts, then times every command people run most (`--help`, `status`,
`task show`, `task list`, `agent list`, `notifications`, `audit`, `events`) as a fresh process, N times each
(default 11), interleaved with `python -c pass` so that both see the same load. Medians are printed for three
cases: with bytecode (what an install with `--compile-bytecode` gives: every module compiled beforehand), its
output read through a pipe as a script reads it; the same in a terminal (a pseudo-terminal: tables are drawn by
rich, which a pipe's plain columns do not load); and without bytecode (no `.pyc` to read, every import compiled
again, as on a fresh clone with PYTHONDONTWRITEBYTECODE), piped.
Target: every query command within 10x `python -c pass` with bytecode.
"""

from __future__ import annotations

import argparse
import compileall
import os
import pty
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "coordination_alerts.json"
PACKAGES = ("domain", "app", "adapters", "projections", "cli")
TARGET = 10.0
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "status": ["status"],
    "task show": ["task", "show", "task-101"],
    "task list": ["task", "list"],
    "agent list": ["agent", "list"],
    "notifications": ["notifications"],
    "audit": ["audit"],
    "events": ["events"],
}
QUERIES = set(COMMANDS) - {"--help"}


def coordinator() -> str:
    beside = Path(sys.executable).parent / "coordinator"
    return str(beside) if beside.exists() else "coordinator"


def seconds(argv: list[str], env: dict[str, str], cwd: Path, terminal: bool) -> float:
    """Wall time of one run of `argv`, its output read through a pipe or, with `terminal`, a pseudo-terminal."""
    if not terminal:
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started
    screen, side = pty.openpty()
    reader = threading.Thread(target=_drain, args=(screen,), daemon=True)
    reader.start()
    try:
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, stdout=side, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started
    finally:
        os.close(side)
        reader.join()
        os.close(screen)


def _drain(screen: int) -> None:
    """Read what the terminal shows until its other side is closed, as a terminal would."""
    try:
        while os.read(screen, 65_536):
            pass
    except OSError:  # the other side closed
        pass


def measure(runs: int, env: dict[str, str], cwd: Path, terminal: bool = False) -> dict[str, float]:
    """Median seconds of `python -c pass` and of each command, the runs interleaved."""
    times: dict[str, list[float]] = {"python -c pass": [], **{name: [] for name in COMMANDS}}
    executable = coordinator()
    for _ in range(runs):
        times["python -c pass"].append(seconds([sys.executable, "-c", "pass"], env, cwd, terminal))
        for name, args in COMMANDS.items():
            times[name].append(seconds([executable, *args], env, cwd, terminal))
    return {name: statistics.median(values) for name, values in times.items()}


def compile_everything() -> None:
    """What installing with bytecode does: every module of the environment and of the project compiled."""
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=0)
    for package in PACKAGES:
        if (ROOT / package).is_dir():
            compileall.compile_dir(ROOT / package, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11, help="runs of each command per case (median; default 11)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "COORDINATOR_HOME": str(work / "home"), "COLUMNS": "120"}
        subprocess.run([coordinator(), "run", "--once", "--alerts-file", str(EXAMPLE), "--as-of",
                        "2025-07-16T22:30:00Z"], env=env, cwd=work, stdout=subprocess.DEVNULL, check=True)
        compile_everything()
        cases = {"with bytecode, piped": measure(options.runs, env, work),
                 "in a terminal": measure(options.runs, env, work, terminal=True)}
        empty = work / "no-bytecode"
        empty.mkdir()
        cold = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(empty)}
        cases["without bytecode, piped"] = measure(options.runs, cold, work)
    print(f"cold start, median of {options.runs} runs; ratio to `python -c pass` in the same run")
    print(f"{'command':<16}" + "".join(f"{case:>26}" for case in cases))
    for name in ["python -c pass", *COMMANDS]:
        cells = []
        for figures in cases.values():
            base = figures["python -c pass"]
            cells.append(f"{figures[name] * 1000:9.1f} ms {figures[name] / base:6.1f}x")
        print(f"{name:<16}" + "".join(f"{cell:>26}" for cell in cells))
    for case in ("with bytecode, piped", "in a terminal"):
        warm = cases[case]
        worst = max(warm[name] / warm["python -c pass"] for name in QUERIES)
        verdict = "met" if worst <= TARGET else "MISSED"
        print(f"target: every query command <= {TARGET:.0f}x with bytecode, {case.removeprefix('with bytecode, ')}: "
              f"{verdict} (worst {worst:.1f}x)")

if __name__ == "__main__":
    main()
