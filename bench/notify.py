"""Notification benchmark: delivery throughput through the file sink, and alert-to-delivery latency.

Usage: python bench/notify.py [N] [--latency-alerts M] [--webhook-alerts W]

In one run:
  - throughput: ingests N generated alerts (`../shared/bench/gen_alerts.py`, cached under bench/.cache)
    without delivering, then times delivering every queued notification through the file channel
    (each attempt recorded as an event, the outbox updated in the same transaction). Baseline: appending
    the same messages as JSON lines to a plain file, with the same number of fsyncs.
  - latency: M crisis alerts ingested one at a time into a fresh home, each followed by a delivery
    pass; the time from handing the alert to the coordinator until its notifications are on disk,
    p50 and p99, beside the seed's targets (RED notifications within 10 s; 500 ms end to end).
  - webhook: W crisis alerts (two notifications each) delivered through the webhook channel to a local
    endpoint that answers after 50 ms; baseline: the time one request after another would take.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on the import path, where bench/http.py would stand for the standard
# library's `http` package (which this benchmark and httpx import): take it off before importing anything.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.alert_file import read_alerts  # noqa: E402
from bench.home import Home  # noqa: E402
from bench.ingest import alerts_file  # noqa: E402

WEBHOOK_ANSWERS_AFTER = 0.05
"""Seconds the benchmark's webhook endpoint takes to answer each request."""


def throughput(count: int, workdir: Path) -> None:
    services = Home(workdir / "throughput")
    try:
        services.coordinator.ingest(read_alerts(alerts_file(count, 0)))
        rows = services.ledger.notifications()
        dispatcher = services.dispatcher()
        started = time.perf_counter()
        report = dispatcher.drain()
        seconds = time.perf_counter() - started
        base_seconds = _baseline(rows, workdir / "baseline.jsonl", dispatcher.record_every)
    finally:
        services.close()
    rate, base_rate = report.delivered / seconds, len(rows) / base_seconds
    print(f"alerts:         {count:,} -> {len(rows):,} notifications queued")
    print(f"baseline:       {base_rate:,.0f} lines/s (plain append, one fsync per {dispatcher.record_every})")
    print(f"delivered:      {rate:,.0f} notifications/s ({report.delivered:,} in {seconds:.2f} s, "
          f"{report.failed} failed, {report.dead} dead)")
    print(f"ratio:          {rate / base_rate:.3f}")


def _baseline(rows: list[dict[str, object]], path: Path, chunk: int) -> float:
    started = time.perf_counter()
    with path.open("ab") as out:
        for start in range(0, len(rows), chunk):
            chunk_rows = rows[start : start + chunk]
            out.write(b"".join((json.dumps(row, ensure_ascii=False) + "\n").encode() for row in chunk_rows))
            out.flush()
            os.fsync(out.fileno())
    return time.perf_counter() - started


def crises(count: int, path: Path) -> Path:
    """`count` RED crisis alerts, one second apart, written to `path`."""
    moment = datetime(2025, 7, 16, 21, 0, tzinfo=UTC)
    lines = [
        json.dumps({"type": "COORDINATION_CRISIS", "task_id": f"task-{index}", "agent_id": f"agent-{index % 20}",
                    "escalation_level": "red", "description": "benchmark crisis",
                    "timestamp": (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        for index in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def latency(count: int, workdir: Path) -> None:
    home = workdir / "latency"
    home.mkdir()
    alerts = list(read_alerts(crises(count, home / "alerts.jsonl")))
    services = Home(home)
    samples: list[float] = []
    try:
        dispatcher = services.dispatcher()
        for alert in alerts:
            started = time.perf_counter()
            services.coordinator.ingest([alert])
            report = dispatcher.deliver_due()
            samples.append(time.perf_counter() - started)
            assert report.delivered >= 1, "every crisis alert is followed by at least one notification"
    finally:
        services.close()
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * len(samples)))]
    print(f"latency:        {count:,} RED alerts, ingest -> notifications on disk: "
          f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (seed: RED < 10 s; 500 ms end to end)")


class _SlowEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(WEBHOOK_ANSWERS_AFTER)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # room for every connection the channel opens at once


def webhook(count: int, workdir: Path) -> None:
    server = _Server(("127.0.0.1", 0), _SlowEndpoint)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = workdir / "webhook"
    home.mkdir()
    services = Home(home, {"webhook": {"url": f"http://127.0.0.1:{server.server_address[1]}/"}}, default="webhook")
    try:
        services.coordinator.ingest(read_alerts(crises(count, home / "alerts.jsonl")))
        started = time.perf_counter()
        report = services.dispatcher().drain()
        seconds = time.perf_counter() - started
    finally:
        services.close()
        server.shutdown()
    one_by_one = report.delivered * WEBHOOK_ANSWERS_AFTER
    print(f"webhook:        {report.delivered:,} notifications to an endpoint answering in "
          f"{WEBHOOK_ANSWERS_AFTER * 1000:.0f} ms: {seconds:.2f} s ({report.delivered / seconds:,.0f}/s; "
          f"one at a time >= {one_by_one:.1f} s, {one_by_one / seconds:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=20_000)
    parser.add_argument("--latency-alerts", type=int, default=2_000)
    parser.add_argument("--webhook-alerts", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        throughput(options.count, Path(tmp))
        latency(options.latency_alerts, Path(tmp))
        webhook(options.webhook_alerts, Path(tmp))


if __name__ == "__main__":
    main()
