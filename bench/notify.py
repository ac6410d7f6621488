"""Notification benchmark: delivery throughput through the file sink, and alert-to-delivery latency.

Usage: python bench/notify.py [N] [--latency-alerts M]

In one run:
  - throughput: ingests N generated alerts (`../shared/bench/gen_alerts.py`, cached under bench/.cache)
    without delivering, then times delivering every queued notification through the file channel
    (each attempt recorded as an event, the outbox updated in the same transaction). Baseline: appending
    the same messages as JSON lines to a plain file, with the same number of fsyncs.
  - latency: M crisis alerts ingested one at a time into a fresh home, each followed by a delivery
    pass; the time from handing the alert to the coordinator until its notifications are on disk,
    p50 and p99, beside the seed's targets (RED notifications within 10 s; 500 ms end to end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.alert_file import read_alerts  # noqa: E402
from bench.ingest import alerts_file  # noqa: E402
from cli.bootstrap import build  # noqa: E402
from cli.settings import Settings  # noqa: E402


def throughput(count: int, workdir: Path) -> None:
    services = build(Settings(home=workdir / "throughput"))
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


def latency(count: int, workdir: Path) -> None:
    home = workdir / "latency"
    home.mkdir()
    source = home / "alerts.jsonl"
    moment = datetime(2025, 7, 16, 21, 0, tzinfo=UTC)
    lines = [
        json.dumps({"type": "COORDINATION_CRISIS", "task_id": f"task-{index}", "agent_id": f"agent-{index % 20}",
                    "escalation_level": "red", "description": "benchmark crisis",
                    "timestamp": (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        for index in range(count)
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    alerts = list(read_alerts(source))
    services = build(Settings(home=home))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=20_000)
    parser.add_argument("--latency-alerts", type=int, default=2_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        throughput(options.count, Path(tmp))
        latency(options.latency_alerts, Path(tmp))


if __name__ == "__main__":
    main()
