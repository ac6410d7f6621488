"""Crash benchmark: the crash-safety harness of the test suite, with more cycles and more alerts.

Usage: python bench/crash.py [CYCLES] [--alerts N] [--workload mixed|hive|chaos|all]

A real `coordinator run` service is SIGKILLed CYCLES times (default 100) at random moments while it
follows a growing alerts file (default 1,500 alerts), restarted each time, then left to finish. Prints
the time taken, how many kills fell while it still had work, and whether the final state equals an
uninterrupted run's with every notification key delivered exactly once. The alerts are the test suite's mix of
every type (`mixed`, the default) or a workload of `../shared/bench/gen_alerts.py` (`hive`, `chaos`), or each of
the three in turn (`all`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.test_crash_safety import GENERATOR, kill_and_compare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cycles", nargs="?", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=1_500)
    parser.add_argument("--workload", choices=("mixed", "hive", "chaos", "all"), default="mixed")
    options = parser.parse_args()
    chosen = ["mixed", "hive", "chaos"] if options.workload == "all" else [options.workload]
    if any(name != "mixed" for name in chosen) and not GENERATOR.is_file():
        sys.exit(f"generator not found: {GENERATOR} (set COORDINATOR_GEN_ALERTS)")
    passed = [measure(name, options.cycles, options.alerts) for name in chosen]
    sys.exit(0 if all(passed) else 1)


def measure(workload: str, cycles: int, alerts: int) -> bool:
    """Kill and compare on one workload; print the figures; whether the state was equal and each key sent once."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = kill_and_compare(Path(tmp), cycles, alerts, workload_name=None if workload == "mixed" else workload)
    seconds = time.perf_counter() - started
    equal = outcome["killed"] == outcome["reference"]
    once = outcome["delivered_twice"] == [] and outcome["delivered"] == outcome["requested"]
    print(f"[{workload}] kills:     {cycles} SIGKILLs over {alerts:,} alerts in {seconds:.0f} s, "
          f"{outcome['killed_while_working']} while work was pending")
    print(f"[{workload}] state:     {'equal to' if equal else 'DIFFERENT from'} an uninterrupted run")
    print(f"[{workload}] delivery:  {len(outcome['delivered']):,} notifications, "
          f"{'each key exactly once' if once else 'KEYS LOST OR REPEATED'}")
    return equal and once


if __name__ == "__main__":
    main()
