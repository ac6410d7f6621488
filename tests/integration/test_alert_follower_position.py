"""The alert follower's position, recorded with the alerts it read: it survives a restart and a crash."""

from __future__ import annotations

from pathlib import Path

from adapters.alert_follower import AlertFollower
from cli.bootstrap import Services, build
from cli.settings import Settings
from tests.integration.follower_support import alerts, append, line, lines, take, tasks_and_lines
from tests.integration.follower_support import home as home  # pytest fixture
from tests.integration.follower_support import path as path  # pytest fixture
from tests.integration.follower_support import services as services  # pytest fixture

# A durable position ----------------------------------------------------------------------------


def test_the_mark_recorded_with_the_alerts_survives_a_restart_and_only_what_came_after_is_read(
    path: Path, home: Path,
) -> None:
    path.write_text(lines("task-1", "task-2", "task-3"), encoding="utf-8")
    built = build(Settings(home=home))
    try:
        follower = AlertFollower(path, built.ledger.source_mark(str(path)), max_lines=2)
        assert follower.mark is None
        while (chunk := follower.read()) is not None:
            built.coordinator.ingest(chunk.items, mark=chunk.mark)
            follower.advance(chunk.mark)
        last = follower.mark
    finally:
        built.close()
    append(path, lines("task-4", "task-5"))

    reopened = build(Settings(home=home))
    try:
        mark = reopened.ledger.source_mark(str(path))
        assert mark == last
        chunk = take(AlertFollower(path, mark))
        assert tasks_and_lines(chunk) == [("task-4", 4), ("task-5", 5)]
        report = reopened.coordinator.ingest(chunk.items, mark=chunk.mark)
        assert report.as_dict() == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 0}
        assert reopened.ledger.source_mark(str(path)) == chunk.mark
    finally:
        reopened.close()


def test_lines_read_but_not_recorded_before_a_crash_are_read_again_after_the_restart(
    path: Path, home: Path,
) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    built = build(Settings(home=home))
    try:
        follower = AlertFollower(path)
        recorded = take(follower)
        built.coordinator.ingest(recorded.items, mark=recorded.mark)
        append(path, lines("task-3", "task-4"))
        lost = follower.read()  # read, then "crash" before ingesting it
        assert lost is not None
    finally:
        built.close()

    reopened = build(Settings(home=home))
    try:
        mark = reopened.ledger.source_mark(str(path))
        assert mark == recorded.mark
        again = take(AlertFollower(path, mark))
        assert tasks_and_lines(again) == [("task-3", 3), ("task-4", 4)]
        assert [a.fingerprint for a in alerts(again.items)] == [a.fingerprint for a in alerts(lost.items)]
        report = reopened.coordinator.ingest(again.items, mark=again.mark)
        assert report.as_dict() == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 0}
    finally:
        reopened.close()


def test_a_chunk_of_only_blank_lines_still_moves_the_recorded_mark(path: Path, services: Services) -> None:
    path.write_text(line("task-1") + "\n\n", encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    append(path, "\n  \n")
    chunk = take(follower)
    assert chunk.items == []
    services.coordinator.ingest(chunk.items, mark=chunk.mark)
    assert services.ledger.source_mark(str(path)) == chunk.mark
