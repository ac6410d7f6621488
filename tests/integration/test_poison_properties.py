"""Property: whatever extreme alerts arrive, each is processed or quarantined and the valid ones around it count.

Each example writes a JSON Lines file of generated alerts interleaved with plain valid ones, and runs it through
what `run --once` does (read, ingest, tick, deliver, catch up the read models) on one store shared by every example.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from adapters.alert_file import read_alerts
from cli.bootstrap import Services, build
from cli.settings import Settings
from cli.views import catch_up
from domain.moments import LATEST
from projections import queries
from tests.alert_builders import assigned
from tests.poison_strategies import ALERT_TYPES, raw_alerts

EXAMPLES = 125
PER_EXAMPLE = (84, 100)
REQUIRED_CASES = 10_000
NOW = datetime(2025, 7, 16, 12, tzinfo=UTC)
_FAILED = re.compile(r"\w+(Error|Exception): ")
"""A reason the coordinator's backstop gives (an exception's type and message), not the schema."""
_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
"""The same examples on every run; a failing one is reported as drawn (shrinking 100 alerts would take minutes)."""


def _recorded_lines(home: Path, source: Path) -> tuple[set[int], dict[int, str]]:
    """Lines of `source` accepted, and lines quarantined with their reasons."""
    with sqlite3.connect(home / "events.sqlite") as db:
        accepted = {row[0] for row in db.execute(
            "SELECT line FROM alerts_seen JOIN alert_sources ON alert_sources.id = alerts_seen.source"
            " WHERE alert_sources.name = ?", [str(source)])}
        refused = dict(db.execute("SELECT line, reason FROM quarantine WHERE source = ?", [str(source)]).fetchall())
    return accepted, refused


def _run_once(built: Services, path: Path) -> dict[str, int]:
    report = built.coordinator.ingest(read_alerts(path))
    built.coordinator.tick(NOW)
    built.dispatcher(test_mode=True).drain()
    catch_up(built.views)
    return report.as_dict()


def test_every_extreme_alert_is_processed_or_quarantined_and_the_valid_alerts_around_it_are_processed() -> None:
    counter = itertools.count()
    cases = [0]
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        built = build(Settings(home=home))
        try:

            @_SETTINGS
            @given(st.lists(raw_alerts(), min_size=PER_EXAMPLE[0], max_size=PER_EXAMPLE[1]))
            def check(generated: list[dict[str, Any]]) -> None:
                run = next(counter)
                anchors = [assigned(f"anchor-{run}-{n}", "ada", "2025-07-16T09:00:00Z")
                           for n in range(len(generated) + 1)]
                pairs = itertools.zip_longest(anchors, generated)
                mixed = [item for pair in pairs for item in pair if item is not None]
                lines = [{**item, "seq": f"{run}.{position}"} for position, item in enumerate(mixed)]  # none alike
                path = Path(scratch) / f"alerts-{run}.jsonl"
                path.write_text("".join(json.dumps(item) + "\n" for item in lines), encoding="utf-8")
                report = _run_once(built, path)
                accepted, refused = _recorded_lines(home, path)
                assert report["duplicates"] == 0
                assert report["processed"] + report["quarantined"] == len(lines)
                assert accepted.isdisjoint(refused)
                assert accepted | set(refused) == set(range(1, len(lines) + 1))
                backstopped = [reason for reason in refused.values() if _FAILED.match(reason)]
                assert not backstopped, "the schema let through what the domain could not apply"
                assert {2 * n + 1 for n in range(len(anchors))} <= accepted
                cases[0] += len(generated)

            check()
            built.coordinator.tick(LATEST)  # and time runs on to its very end
            catch_up(built.views)
            shown = {row["task_id"] for row in queries.tasks(built.views.db)}
            assert {f"anchor-{run}-0" for run in range(EXAMPLES)} <= shown
        finally:
            built.close()
    assert cases[0] >= REQUIRED_CASES, f"only {cases[0]} generated alerts"


def test_every_alert_type_is_generated_with_extreme_fields() -> None:
    seen: set[str] = set()

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(raw_alerts())
    def check(item: dict[str, Any]) -> None:
        seen.add(str(item["type"]).upper())

    check()
    assert seen == set(ALERT_TYPES)
