"""A file rewritten in place that begins as before: the follower notices by the bytes just before its position,
reads it again from the top, and fingerprints keep anything from being applied twice."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from adapters.alert_follower import HEAD, TAIL, AlertFollower
from cli.bootstrap import Services, build
from cli.settings import Settings
from tests.integration.follower_support import append, line, lines, take, tasks_and_lines
from tests.integration.follower_support import home as home  # pytest fixture
from tests.integration.follower_support import path as path  # pytest fixture
from tests.integration.follower_support import services as services  # pytest fixture

BAD = '{"type": "COORDINATION_CRISIS", "task_id": \n'


def follow_to_the_end(built: Services, path: Path) -> dict[str, int]:
    """What a service started on `built`'s home does with `path`: read from its recorded mark to the end."""
    follower = AlertFollower(path, built.ledger.source_mark(str(path)))
    totals = {"processed": 0, "observed": 0, "duplicates": 0, "quarantined": 0}
    while (chunk := follower.read()) is not None:
        report = built.coordinator.ingest(chunk.items, mark=chunk.mark)
        follower.advance(chunk.mark)
        totals = {key: totals[key] + value for key, value in report.as_dict().items()}
    return totals


def test_a_file_rewritten_in_place_beginning_the_same_and_larger_is_read_from_the_top_after_a_restart(
    path: Path, home: Path,
) -> None:
    old = line("task-1") + BAD + lines("task-2", "task-3")
    path.write_text(old, encoding="utf-8")
    built = build(Settings(home=home))
    try:
        assert follow_to_the_end(built, path) == {"processed": 3, "observed": 0, "duplicates": 0, "quarantined": 1}
        before = built.ledger.source_mark(str(path))
    finally:
        built.close()
    inode = path.stat().st_ino

    new = line("task-1") + BAD + lines("task-new-1", "task-new-2", "task-2", "task-3", "task-4")
    with path.open("r+", encoding="utf-8") as out:  # truncated and rewritten in place while the service is down
        out.truncate(0)
        out.write(new)
    assert path.stat().st_ino == inode and path.stat().st_size > len(old.encode())
    assert new.encode()[:HEAD] == old.encode()[:HEAD], "the first bytes alone cannot tell the files apart"
    assert before is not None and before.offset == len(old.encode())

    reopened = build(Settings(home=home))
    try:
        report = follow_to_the_end(reopened, path)
        assert report == {"processed": 3, "observed": 0, "duplicates": 4, "quarantined": 0}, \
            "the new lines before the old offset (the bad line, quarantined before, is read again)"
        assert sorted(reopened.ledger.task_ids()) == [
            "task-1", "task-2", "task-3", "task-4", "task-new-1", "task-new-2"]
        assert [row["line"] for row in reopened.ledger.quarantined()] == [2], "the same bad line is kept once"
        mark = reopened.ledger.source_mark(str(path))
        assert mark is not None and (mark.offset, mark.line) == (path.stat().st_size, 8)
    finally:
        reopened.close()


def test_a_file_rewritten_in_place_while_followed_is_read_again_from_its_start(path: Path) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    path.write_text(lines("task-1", "task-3", "task-2", "task-4"), encoding="utf-8")
    chunk = take(follower)
    assert tasks_and_lines(chunk) == [("task-1", 1), ("task-3", 2), ("task-2", 3), ("task-4", 4)]


def test_only_the_bytes_just_before_the_position_are_compared_so_a_long_file_that_grows_is_followed(
    path: Path,
) -> None:
    path.write_text(lines(*(f"task-{n}" for n in range(100))), encoding="utf-8")
    follower = AlertFollower(path)
    first = take(follower)
    assert first.mark.offset > TAIL + HEAD
    head, before = first.mark.head.split(":")
    content = path.read_bytes()
    assert head == hashlib.sha1(content[:HEAD]).hexdigest()
    assert before == hashlib.sha1(content[first.mark.offset - TAIL : first.mark.offset]).hexdigest()

    append(path, line("task-100"))
    assert tasks_and_lines(take(follower)) == [("task-100", 101)]


def test_a_mark_recorded_before_the_bytes_before_the_position_were_digested_still_resumes_where_it_stood(
    path: Path, home: Path,
) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    built = build(Settings(home=home))
    try:
        follow_to_the_end(built, path)
    finally:
        built.close()
    with sqlite3.connect(home / "events.sqlite") as db:  # what an earlier version recorded: the first bytes only
        old_head = hashlib.sha1(path.read_bytes()[:HEAD]).hexdigest()
        db.execute("UPDATE sources SET head = ? WHERE path = ?", (old_head, str(path)))
    db.close()
    append(path, line("task-3"))

    reopened = build(Settings(home=home))
    try:
        mark = reopened.ledger.source_mark(str(path))
        assert mark is not None and mark.head == old_head
        chunk = take(AlertFollower(path, mark))
        assert tasks_and_lines(chunk) == [("task-3", 3)]
        assert ":" in chunk.mark.head, "the next mark recorded has both digests"
    finally:
        reopened.close()


def test_reading_a_rewritten_file_again_applies_nothing_twice_even_when_nothing_is_new(
    path: Path, services: Services,
) -> None:
    path.write_text(lines("task-1", "task-2", "task-3"), encoding="utf-8")
    assert follow_to_the_end(services, path)["processed"] == 3
    path.write_text(lines("task-1", "task-2") + line("task-3", description="the same task, said again") + "\n",
                    encoding="utf-8")
    report = follow_to_the_end(services, path)
    assert report == {"processed": 1, "observed": 0, "duplicates": 2, "quarantined": 0}
    chunk = AlertFollower(path, services.ledger.source_mark(str(path))).read()
    assert chunk is None
