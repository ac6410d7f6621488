"""While this process records events, a second process may keep the read models up to date; the result is the same
as bringing them up to date afterwards, and the second process never outlives the first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import Settings
from tests.integration.test_parallel_rebuild import alerts_file, alone, contents
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a follower is started only with a second CPU")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build(Settings(home=tmp_path / "home"))
    yield built
    built.close()


def test_read_models_kept_up_to_date_by_a_second_process_meanwhile_equal_those_built_afterwards(
    services: Services, tmp_path: Path
) -> None:
    views = services.views
    assert views.follow_elsewhere()
    follower = views.following
    assert follower is not None
    services.coordinator.ingest(read_alerts(alerts_file(tmp_path / "first.jsonl", range(0, 150, 3))))
    recorded = services.ledger.max_notification_id() or 0
    wait_for(lambda: all(views.position(p) >= recorded for p in views.projections),
             "the second process to apply what was recorded")
    services.coordinator.ingest(read_alerts(alerts_file(tmp_path / "second.jsonl", range(150, 300, 3))))
    services.dispatcher().drain()
    views.catch_up()
    assert views.following is None and not follower.process.is_alive(), "the second process was stopped"
    assert follower.process.exitcode == 0
    head = services.ledger.max_notification_id() or 0
    assert head > recorded
    assert [row["position"] for row in views.status()] == [head] * len(views.projections)
    assert contents(services.settings.views_path) == alone(services, tmp_path / "alone.sqlite")


def test_closing_the_read_models_stops_their_follower(services: Services, tmp_path: Path) -> None:
    assert services.views.follow_elsewhere()
    follower = services.views.following
    assert follower is not None
    services.views.close()
    assert not follower.process.is_alive() and follower.process.exitcode == 0


FOLLOWING = """
import signal, sys
from pathlib import Path
from cli.bootstrap import build
from cli.settings import Settings
built = build(Settings(home=Path(sys.argv[1])))
assert built.views.follow_elsewhere()
print(built.views.following.process.pid, flush=True)
while True:
    signal.pause()  # until killed
"""


def gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie nobody reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_a_follower_ends_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", FOLLOWING, str(tmp_path / "home")], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert not gone(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_for(lambda: gone(pid), "the follower to notice it was left alone")
    finally:
        parent.kill()
        parent.wait()
