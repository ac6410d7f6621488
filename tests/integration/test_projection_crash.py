"""Projections apply each event exactly once, even when the process rebuilding them is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.alert_file import read_alerts
from cli.bootstrap import build
from cli.settings import Settings
from projections.registry import projections
from projections.runner import ProjectionRunner

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 7, 16, 9, 0, tzinfo=UTC)
PAGES_BEFORE_KILL = 4

REBUILDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from cli.bootstrap import build
    from projections.registry import projections
    from cli.settings import Settings
    from projections.runner import ProjectionRunner

    services = build(Settings(home=Path(sys.argv[1])))
    runner = ProjectionRunner(Path(sys.argv[2]), services.coordinator.recorder, projections(), page_size=50)

    def page_done(count: int) -> None:
        print("page", flush=True)
        sys.stdin.readline()  # carry on only when told: the test kills this process while it waits here

    runner.catch_up(page_done)
    print("finished", flush=True)
""")


def busy_store(tmp_path: Path, count: int = 600) -> Path:
    alerts = []
    for index in range(count):
        moment = (START + timedelta(seconds=37 * index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        task, agent = f"task-{index % 40}", f"agent-{index % 7}"
        kind = index % 4
        if kind == 0:
            alerts.append({"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": moment,
                           "deadline": (START + timedelta(seconds=37 * index + 3600)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        elif kind == 1:
            alerts.append({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent, "timestamp": moment,
                           "escalation_level": ["yellow", "orange", "red"][index % 3], "description": "x"})
        elif kind == 2:
            alerts.append({"type": "AGENT_UNRESPONSIVE", "agent_id": agent, "timestamp": moment,
                           "last_activity": (START + timedelta(seconds=37 * index - 4000)).strftime(
                               "%Y-%m-%dT%H:%M:%SZ"), "unresponsive_duration": "1 hour"})
        else:
            alerts.append({"type": "AGENT_HEARTBEAT", "agent_id": agent, "timestamp": moment})
    source = tmp_path / "alerts.jsonl"
    source.write_text("".join(json.dumps(alert) + "\n" for alert in alerts), encoding="utf-8")
    home = tmp_path / "home"
    services = build(Settings(home=home))
    services.coordinator.ingest(read_alerts(source))
    services.dispatcher().drain()
    services.close()
    return home


def dump(runner: ProjectionRunner) -> dict[str, list[tuple[object, ...]]]:
    tables = [table for projection in runner.projections for table in projection.tables]
    return {table: sorted(runner.db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}


def test_a_rebuild_killed_half_way_resumes_and_ends_equal_to_a_clean_rebuild(tmp_path: Path) -> None:
    home = busy_store(tmp_path)
    views = tmp_path / "killed-views.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", REBUILDER, str(home), str(views)], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdin is not None and process.stdout is not None
    pages = 0
    for line in process.stdout:
        pages += line.strip() == "page"
        if pages >= PAGES_BEFORE_KILL:
            process.send_signal(signal.SIGKILL)  # while it waits, its page committed and the next not begun
            break
        process.stdin.write("go\n")
        process.stdin.flush()
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the rebuild finished before it could be killed"

    services = build(Settings(home=home))
    head = services.coordinator.recorder.max_notification_id() or 0
    resumed = ProjectionRunner(views, services.coordinator.recorder, projections(), page_size=50)
    positions = [row["position"] for row in resumed.status()]
    assert any(0 < int(str(position)) < head for position in positions), positions
    resumed.catch_up()
    clean = ProjectionRunner(tmp_path / "clean-views.sqlite", services.coordinator.recorder, projections())
    clean.catch_up()
    assert dump(resumed) == dump(clean)
    assert all(row["lag"] == 0 for row in resumed.status())
    resumed.close()
    clean.close()
    services.close()
