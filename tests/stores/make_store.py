"""Write a home for the replay tests: the hive workload, the upstream's real files, an acknowledgement and a
resolution by hand, all through the `coordinator` command, then keep its event store and read models.

    python tests/stores/make_store.py tests/stores/<name>

The home is kept as the code of the day wrote it (`events.sqlite` and `views.sqlite`); later code must replay
it into the same read models (tests/integration/test_stored_homes.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
STEPS = [
    ["run", "--once", "--alerts-file", "{hive}", "--as-of", "2025-07-16T06:00:00Z"],
    ["ack", "task-31", "--by", "alice"],
    ["resolve", "task-32", "--by", "bob", "--note", "agent replaced"],
    *(["run", "--once", "--alerts-file", str(path), "--as-of", "2025-07-16T22:00:00Z"]
      for path in sorted((SHARED / "corpus" / "real").glob("*.json"))),
    ["tick", "--as-of", "2025-07-17T12:00:00Z"],
]


def main(target: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        hive = Path(scratch) / "hive.jsonl"
        with hive.open("w", encoding="utf-8") as out:
            subprocess.run([sys.executable, str(SHARED / "bench" / "gen_alerts.py"), "800", "--workload", "hive",
                            "--seed", "13", "--bad-every", "97"], stdout=out, check=True)
        home = Path(scratch) / "home"
        environment = {**os.environ, "COORDINATOR_HOME": str(home)}
        for step in STEPS:
            command = [str(Path(sys.executable).parent / "coordinator"), *(part.format(hive=hive) for part in step)]
            subprocess.run(command, env=environment, check=True, stdout=subprocess.DEVNULL)
        target.mkdir(parents=True, exist_ok=True)
        for name in ("events.sqlite", "views.sqlite"):
            shutil.copyfile(home / name, target / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
