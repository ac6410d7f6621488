"""Dashboard benchmark: the board of a 10,000-task hive rendered in headless Chromium, and a burst of events.

Usage: python bench/dashboard.py [--tasks N] [--runs R] [--rate E] [--seconds S]

  - render: a home with N open tasks (default 10,000; `bench/hive.py`) is served by a real `coordinator run`; the
    board is loaded R times (default 5) in a fresh page each time, and the time from navigation start to the board
    painted (the page marks `data-ready` in the frame after its cards are in place) is printed, median and worst,
    beside the 1 s target, with the server's part (request to last byte).
  - burst: with the board open, crisis alerts for random tasks are posted at E a second (default 1,000) for S
    seconds (default 5) while the page records its frames (requestAnimationFrame) and long tasks: the longest gap
    between two frames (target under 500 ms: the page never freezes), the frames' p99, the page's batched updates,
    and how long after the last post the page has shown the last event.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This script's folder holds `http.py`, which would stand for the standard library's `http` package (httpx
# imports it): take the folder off the front of the import path, and put it at the end for `hive`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hive import Service, build, chromium, stamp

TARGET_RENDER = 1.0
TARGET_FREEZE = 0.5
HEARTBEAT = """() => {
  window.bench = { gaps: [], long: [] };
  let last = performance.now();
  const beat = (now) => { window.bench.gaps.push(now - last); last = now; requestAnimationFrame(beat); };
  requestAnimationFrame(beat);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.bench.long.push(e.duration); })
    .observe({ type: "longtask", buffered: false });
}"""


def settle(url: str) -> None:
    """Wait until the service is idle: its read models caught up and no event recorded for a second."""
    last = -1
    while True:
        status = httpx.get(f"{url}/api/v1/status", timeout=60).json()
        if status["projection_lag"] == 0 and status["events_processed"] == last:
            return
        last = status["events_processed"]
        time.sleep(1.0)


def render(browser: Any, url: str) -> list[float]:
    """[seconds from navigation start to the board painted, seconds the server took, cards shown, and from
    navigation start: the response's end, the document's parse, the cards drawn (ms)]."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{url}/", wait_until="commit", timeout=120_000)
    page.wait_for_selector("body[data-ready='yes']", timeout=120_000)
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        const drawn = performance.getEntriesByName('cards-drawn')[0];
        return [Number(document.body.dataset.readyAt) - n.startTime, n.responseEnd - n.requestStart,
                document.querySelectorAll('.card').length, n.responseEnd, n.domContentLoadedEventStart,
                drawn ? drawn.startTime : 0]; }""")
    context.close()
    return [timing[0] / 1000, timing[1] / 1000, *timing[2:]]


def burst(browser: Any, url: str, tasks: int, rate: int, seconds: float) -> dict[str, Any]:
    """Post crisis alerts at `rate` a second for `seconds` with the board open; what the page went through."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{url}/", timeout=120_000)
    page.wait_for_selector("body[data-ready='yes'][data-live='open']", timeout=120_000)
    page.evaluate(HEARTBEAT)
    chance, levels, base = random.Random(11), ("yellow", "orange", "red", "green"), datetime.now(UTC)
    batch, sent, started = max(rate // 10, 1), 0, time.perf_counter()
    with httpx.Client(timeout=120) as client:
        while time.perf_counter() - started < seconds:
            alerts = [{"type": "COORDINATION_CRISIS", "task_id": f"task-{chance.randrange(tasks):05d}",
                       "agent_id": f"agent-{chance.randrange(200):03d}", "escalation_level": chance.choice(levels),
                       "timestamp": stamp(base + timedelta(milliseconds=sent + n))} for n in range(batch)]
            client.post(f"{url}/api/v1/alerts", json=alerts).raise_for_status()
            sent += batch
            ahead = sent / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
        posted = time.perf_counter() - started
        head = client.get(f"{url}/api/v1/status").json()["events_processed"]
    done = time.perf_counter()
    page.wait_for_function(f"Number((document.body.dataset.flushed || '0')) >= {head}", timeout=120_000)
    caught_up = time.perf_counter() - done
    found = page.evaluate("() => ({ gaps: window.bench.gaps, long: window.bench.long, board: window.dashboard.board,"
                          " received: window.dashboard.received, flushes: performance.getEntriesByName('board-flush')"
                          ".map(m => Math.round(m.duration)) })")
    context.close()
    gaps = sorted(found["gaps"])
    return {"sent": sent, "rate": sent / posted, "max_gap": gaps[-1] / 1000 if gaps else 0.0,
            "p99_gap": gaps[int(len(gaps) * 0.99)] / 1000 if gaps else 0.0, "frames": len(gaps),
            "long": len(found["long"]), "long_max": max(found["long"], default=0) / 1000, "board": found["board"],
            "received": found["received"], "caught_up": caught_up, "flush_max": max(found["flushes"], default=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        built = build(home, options.tasks, datetime.now(UTC).replace(microsecond=0))
        print(f"hive of {options.tasks:,} open tasks ingested in {built:.1f} s")
        service = Service(home)
        try:
            with sync_playwright() as playwright:
                browser = chromium(playwright)
                print(f"Chromium {browser.version}, headless, 1280x800")
                settle(service.url)
                runs = [render(browser, service.url) for _ in range(options.runs)]
                painted = [run[0] for run in runs]
                print(f"board render, navigation start -> board painted ({runs[0][2]:,} cards), {options.runs} runs: "
                      f"median {statistics.median(painted) * 1000:.0f} ms, worst {max(painted) * 1000:.0f} ms "
                      f"(target {TARGET_RENDER * 1000:.0f} ms: {'met' if max(painted) <= TARGET_RENDER else 'MISSED'})"
                      f"; server {statistics.median(run[1] for run in runs) * 1000:.0f} ms of it")
                print("  medians from navigation start: response received "
                      f"{statistics.median(run[3] for run in runs):.0f} ms, page parsed "
                      f"{statistics.median(run[4] for run in runs):.0f} ms, cards drawn "
                      f"{statistics.median(run[5] for run in runs):.0f} ms")
                seen = burst(browser, service.url, options.tasks, options.rate, options.seconds)
                browser.close()
        finally:
            service.stop()
    print(f"burst: {seen['sent']:,} crisis alerts posted at {seen['rate']:,.0f}/s for {options.seconds:g} s (as fast "
          f"as the service takes them, up to {options.rate:,}/s); the page received {seen['received']:,} events "
          f"({seen['received'] / options.seconds:,.0f}/s) and applied {seen['board']['flushes']} batched updates "
          f"({seen['board']['cards']:,} cards, the longest {seen['flush_max']} ms of script)")
    print(f"  frames: {seen['frames']:,}, longest gap {seen['max_gap'] * 1000:.0f} ms (target under "
          f"{TARGET_FREEZE * 1000:.0f} ms: {'met' if seen['max_gap'] < TARGET_FREEZE else 'MISSED'}), p99 "
          f"{seen['p99_gap'] * 1000:.0f} ms; long tasks {seen['long']} (longest {seen['long_max'] * 1000:.0f} ms)")
    print(f"  the page showed the last event {seen['caught_up']:.2f} s after the last post")


if __name__ == "__main__":
    main()
