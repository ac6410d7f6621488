"""Refresh the README's picture of the dashboard: `docs/dashboard.png`, the board of a generated hive.

Usage: uv run python docs/screenshot.py [--tasks N] [--out PATH]

Builds a hive of N open tasks (default 60; `bench/hive.py`), serves it with a real `coordinator run`, and has
Debian's headless Chromium take the board at 1280x800.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds `http.py`, which must not stand for the standard library's package: look there last.
sys.path.append(str(ROOT / "bench"))

import argparse  # noqa: E402
import tempfile  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import httpx  # noqa: E402
from hive import Service, build, chromium, stamp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        moment = datetime.now(UTC).replace(microsecond=0)
        build(home, options.tasks, moment, agents=max(options.tasks // 5, 1))
        service = Service(home)
        try:
            with sync_playwright() as playwright:
                browser = chromium(playwright)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{service.url}/")
                page.wait_for_selector("body[data-ready='yes'][data-live='open']")
                for index, level in ((3, "orange"), (4, "red"), (5, "red")):  # a little live activity
                    alert = {"type": "COORDINATION_CRISIS", "task_id": f"task-{index:05d}", "agent_id":
                             f"agent-{index % max(options.tasks // 5, 1):03d}", "escalation_level": level,
                             "description": "tests failing on main", "timestamp": stamp(moment)}
                    httpx.post(f"{service.url}/api/v1/alerts", json=alert, timeout=60).raise_for_status()
                httpx.post(f"{service.url}/api/v1/tasks/task-00020/ack", json={"by": "pm-alice"},
                           timeout=60).raise_for_status()
                page.wait_for_function("Number(document.body.dataset.flushed || 0) > 0")
                page.wait_for_selector(".card .ack")
                page.wait_for_timeout(1_600)  # let the moved cards' highlight fade
                page.screenshot(path=str(options.out))
                browser.close()
        finally:
            service.stop()
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
