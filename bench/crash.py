"""Crash benchmark: the crash-safety harness of the test suite, with more cycles and more alerts.

Usage: python bench/crash.py [CYCLES] [--alerts N]

A real `coordinator run` service is SIGKILLed CYCLES times (default 100) at random moments while it
follows a growing alerts file (default 1,500 alerts), restarted each time, then left to finish. Prints
the time taken, how many kills fell while it still had work, and whether the final state equals an
uninterrupted run's with every notification key delivered exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.test_crash_safety import kill_and_compare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cycles", nargs="?", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=1_500)
    options = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = kill_and_compare(Path(tmp), options.cycles, options.alerts)
    seconds = time.perf_counter() - started
    equal = outcome["killed"] == outcome["reference"]
    once = outcome["delivered_twice"] == [] and outcome["delivered"] == outcome["requested"]
    print(f"kills:     {options.cycles} SIGKILLs over {options.alerts:,} alerts in {seconds:.0f} s, "
          f"{outcome['killed_while_working']} while work was pending")
    print(f"state:     {'equal to' if equal else 'DIFFERENT from'} an uninterrupted run")
    print(f"delivery:  {len(outcome['delivered']):,} notifications, "
          f"{'each key exactly once' if once else 'KEYS LOST OR REPEATED'}")
    sys.exit(0 if equal and once else 1)


if __name__ == "__main__":
    main()
