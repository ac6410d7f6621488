"""Train the Zstandard dictionary stored event states are packed with (see `adapters.state_packing`).

Usage: python bench/state_dictionary.py OUT [--alerts N] [--size BYTES]

Records, each into a fresh home with `coordinator run --once`, N generated alerts of each workload (seeds the
benchmarks do not use, so the dictionary is not fitted to the streams they measure) and every real alert file of
`../shared/corpus/real`, then trains a dictionary of BYTES on every stored state and writes it to OUT. A dictionary
already shipped is never replaced: give a new one the next id (`CURRENT` in `adapters.state_packing`).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters import event_log  # noqa: E402
from adapters.state_packing import CURRENT, LEVEL  # noqa: E402
from bench.ingest import COORDINATOR, GENERATOR  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "real"
SEEDS = (101, 102)
MOST_SAMPLES = 40_000


def record(source: Path, home: Path) -> list[bytes]:
    """Every stored state of a fresh home that ingested `source` and delivered its notifications."""
    subprocess.run([*COORDINATOR, "run", "--once", "--alerts-file", str(source), "--home", str(home),
                    "--as-of", "2025-07-20T00:00:00Z"], check=False, capture_output=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    with sqlite3.connect(f"file:{home / 'events.sqlite'}?mode=ro", uri=True) as db:
        states = [record.state for record in event_log.records_after(db, 0, 10**9)]
    db.close()
    return states


def samples(alerts: int, workdir: Path) -> list[bytes]:
    """The stored states of every training source."""
    sources: list[Path] = sorted(CORPUS.glob("*")) if CORPUS.exists() else []
    for workload in ("hive", "chaos"):
        for seed in SEEDS:
            path = workdir / f"{workload}-{seed}.jsonl"
            with path.open("w") as out:
                subprocess.run([sys.executable, str(GENERATOR), str(alerts), "--workload", workload,
                                "--seed", str(seed)], stdout=out, check=True)
            sources.append(path)
    states: list[bytes] = []
    for number, source in enumerate(sources):
        found = record(source, workdir / f"home-{number}")
        print(f"  {source.name}: {len(found):,} states", flush=True)
        states += found
    return states


def main() -> None:
    import zstandard

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--alerts", type=int, default=5_000)
    parser.add_argument("--size", type=int, default=16_384)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        states = samples(options.alerts, Path(tmp))
    chosen = random.Random(0).sample(states, min(len(states), MOST_SAMPLES))
    dictionary = zstandard.train_dictionary(options.size, chosen, level=LEVEL, dict_id=CURRENT)
    options.out.write_bytes(dictionary.as_bytes())
    print(f"{options.out}: {len(dictionary.as_bytes()):,} bytes, id {dictionary.dict_id()}, "
          f"from {len(chosen):,} of {len(states):,} states")


if __name__ == "__main__":
    main()
