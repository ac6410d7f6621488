"""A 31 MB alerts file with 10 MB lines is read, recorded and reported on in well under 150 MB of memory, by
`run --once`'s reader and by the follower alike: the big lines are quarantined, the others processed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.follower_support import crisis, lines

ROOT = Path(__file__).resolve().parents[2]
BIG = 10 * 1024 * 1024
PEAK_LIMIT_MB = 150

INGEST = """
import json, sys
from pathlib import Path
from adapters.alert_file import read_alerts
from adapters.alert_follower import AlertFollower
from cli.bootstrap import build
from cli.settings import Settings

reader, path, home = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
built = build(Settings(home=home))
try:
    totals = {"processed": 0, "observed": 0, "duplicates": 0, "quarantined": 0}
    if reader == "once":
        totals = built.coordinator.ingest(read_alerts(path), built.settings.batch_size).as_dict()
    else:
        follower = AlertFollower(path, built.ledger.source_mark(str(path)), built.settings.batch_size)
        while (chunk := follower.read()) is not None:
            report = built.coordinator.ingest(chunk.items, built.settings.batch_size, mark=chunk.mark)
            follower.advance(chunk.mark)
            totals = {key: totals[key] + value for key, value in report.as_dict().items()}
    built.views.catch_up()
    rows = built.ledger.quarantined()
finally:
    built.close()
# VmHWM: this process's own peak (ru_maxrss may carry the parent's, from before the exec)
status = Path("/proc/self/status").read_text()
peak_kb = int(next(row.split()[1] for row in status.splitlines() if row.startswith("VmHWM:")))
print(json.dumps({"totals": totals, "peak_mb": peak_kb / 1024,
                  "quarantined": [(row["line"], row["reason"], len(row["raw"].encode())) for row in rows]}))
"""


def write_big_file(path: Path) -> None:
    """50 valid lines, a 10 MB alert, 50 more, a 10 MB line of garbage, 50 more, a 10 MB alert, 50 more."""
    text = json.dumps(crisis("huge", description=""))
    huge_alert = json.dumps(crisis("huge", description="x" * (BIG - len(text)))) + "\n"
    with path.open("w", encoding="utf-8") as out:
        for block, big in enumerate([huge_alert, "g" * BIG + "\n", huge_alert, ""]):
            out.write(lines(*(f"task-{block}-{n}" for n in range(50))))
            out.write(big)


@pytest.mark.parametrize("reader", ["once", "follower"])
def test_a_31_mb_file_with_10_mb_lines_is_ingested_in_under_150_mb_and_the_big_lines_are_quarantined(
    tmp_path: Path, reader: str,
) -> None:
    if not Path("/proc/self/status").is_file():
        pytest.skip("peak memory is read from /proc/self/status")
    path = tmp_path / "coordination_alerts.json"
    write_big_file(path)
    assert 31_000_000 < path.stat().st_size < 32_000_000
    done = subprocess.run([sys.executable, "-c", INGEST, reader, str(path), str(tmp_path / "home")], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["totals"] == {"processed": 200, "observed": 0, "duplicates": 0, "quarantined": 3}
    reason = f"line is {BIG:,} bytes, over the limit of 1,048,576 (max_line_bytes)"
    assert result["quarantined"] == [[51, reason, 65536], [102, reason, 65536], [153, reason, 65536]]
    assert result["peak_mb"] < PEAK_LIMIT_MB, f"peak RSS {result['peak_mb']:.0f} MB"
