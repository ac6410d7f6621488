"""Following a real alerts file as it is written: incremental reads, partial lines, truncation, rotation,
whole-document rewrites, and a position that survives a restart because it is recorded with the alerts."""

from __future__ import annotations

import gc
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.alert_file import Item
from adapters.alert_follower import BLOCK as READ_LIMIT
from adapters.alert_follower import AlertFollower, Chunk
from cli.bootstrap import Services, build
from cli.settings import Settings
from domain.alerts import Alert, AlertType, Quarantined
from domain.sources import SourceMark

T = "2025-07-16T19:03:54Z"


def crisis(task: str, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": "agent-1",
                            "escalation_level": "red", "timestamp": T}
    item.update(changes)
    return item


def line(task: str, **changes: Any) -> str:
    return json.dumps(crisis(task, **changes)) + "\n"


def lines(*tasks: str) -> str:
    return "".join(line(task) for task in tasks)


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def alerts(items: list[Item]) -> list[Alert]:
    return [item for item in items if isinstance(item, Alert)]


def quarantined(items: list[Item]) -> list[Quarantined]:
    return [item for item in items if isinstance(item, Quarantined)]


def tasks_and_lines(chunk: Chunk) -> list[tuple[str | None, int | None]]:
    assert quarantined(chunk.items) == []
    return [(alert.task_id, alert.line) for alert in alerts(chunk.items)]


def take(follower: AlertFollower) -> Chunk:
    """Read the next chunk (there must be one) and take it as read."""
    chunk = follower.read()
    assert chunk is not None
    follower.advance(chunk.mark)
    return chunk


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "coordination_alerts.json"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    built = build(Settings(home=home))
    try:
        yield built
    finally:
        built.close()


# Incremental JSON Lines -------------------------------------------------------------------------


def test_appended_lines_are_read_once_each_with_their_line_numbers_and_the_mark_advances(path: Path) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    follower = AlertFollower(path)

    first = take(follower)
    assert tasks_and_lines(first) == [("task-1", 1), ("task-2", 2)]
    assert first.mark == SourceMark(str(path), path.stat().st_ino, path.stat().st_size, 3, 0, first.mark.head)
    assert first.mark.head, "the mark identifies the file by its first bytes"
    assert follower.read() is None, "nothing new: nothing is read again"

    append(path, lines("task-3", "task-4", "task-5"))
    second = take(follower)
    assert tasks_and_lines(second) == [("task-3", 3), ("task-4", 4), ("task-5", 5)]
    assert (second.mark.offset, second.mark.line) == (path.stat().st_size, 6)
    assert second.mark.inode == first.mark.inode
    assert follower.read() is None


def test_reading_without_advancing_returns_the_same_chunk_again_because_only_advance_moves_the_mark(
    path: Path,
) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    follower = AlertFollower(path)
    first = follower.read()
    again = follower.read()
    assert first is not None and again is not None
    assert again.mark == first.mark
    assert [a.fingerprint for a in alerts(again.items)] == [a.fingerprint for a in alerts(first.items)]
    assert follower.mark is None


def test_a_backlog_is_read_in_chunks_of_at_most_max_lines_with_continuous_line_numbers(path: Path) -> None:
    path.write_text(lines(*(f"task-{n}" for n in range(1, 8))), encoding="utf-8")
    follower = AlertFollower(path, max_lines=3)
    seen = [tasks_and_lines(take(follower)) for _ in range(3)]
    assert seen == [
        [("task-1", 1), ("task-2", 2), ("task-3", 3)],
        [("task-4", 4), ("task-5", 5), ("task-6", 6)],
        [("task-7", 7)],
    ]
    assert follower.read() is None
    assert follower.mark is not None and follower.mark.offset == path.stat().st_size


def test_blank_lines_are_skipped_but_still_counted_in_line_numbers(path: Path) -> None:
    path.write_text(line("task-1") + "\n   \n" + line("task-2"), encoding="utf-8")
    chunk = take(AlertFollower(path))
    assert tasks_and_lines(chunk) == [("task-1", 1), ("task-2", 4)]
    assert chunk.mark.line == 5


def test_a_half_written_last_line_is_not_parsed_and_is_read_exactly_once_after_its_newline_arrives(
    path: Path,
) -> None:
    whole = line("task-2")
    path.write_text(line("task-1") + whole[:25], encoding="utf-8")
    follower = AlertFollower(path)

    first = take(follower)
    assert tasks_and_lines(first) == [("task-1", 1)], "the half-written line is neither an alert nor quarantined"
    assert (first.mark.offset, first.mark.line) == (len(line("task-1")), 2)
    assert follower.read() is None, "still half-written: wait"

    append(path, whole[25:-1])
    assert follower.read() is None, "everything but the newline: still wait"

    append(path, "\n")
    second = take(follower)
    assert tasks_and_lines(second) == [("task-2", 2)]
    assert second.mark.offset == path.stat().st_size
    assert follower.read() is None, "read exactly once"


def test_a_half_written_first_line_of_a_new_file_waits_for_its_newline_instead_of_being_quarantined(
    path: Path,
) -> None:
    whole = line("task-1")
    path.write_text(whole[:25], encoding="utf-8")
    follower = AlertFollower(path)
    assert follower.read() is None, "nothing complete yet"
    append(path, whole[25:])
    chunk = take(follower)
    assert tasks_and_lines(chunk) == [("task-1", 1)]
    assert chunk.mark.line == 2, "the file is followed line by line"


def test_a_json_lines_file_whose_first_line_is_broken_is_still_followed_line_by_line(path: Path) -> None:
    path.write_text("this is not json\n" + line("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    first = take(follower)
    assert [(type(item).__name__, item.line) for item in first.items] == [("Quarantined", 1), ("Alert", 2)]
    append(path, line("task-2")[:25])
    assert follower.read() is None, "a half-written line waits for its newline"
    assert first.mark.line == 3


def test_a_line_longer_than_the_read_limit_does_not_block_the_lines_after_it(path: Path) -> None:
    path.write_text(line("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    append(path, line("task-2", description="x" * (READ_LIMIT + 10)) + line("task-3"))
    read: list[tuple[str | None, int | None]] = []
    for _ in range(5):
        chunk = follower.read()
        if chunk is None:
            break
        follower.advance(chunk.mark)
        read += [(item.task_id, item.line) if isinstance(item, Alert) else (None, item.line) for item in chunk.items]
    assert ("task-3", 3) in read


# Truncation, rotation, a file that is not there yet ---------------------------------------------


def test_a_truncated_file_is_read_again_from_the_beginning_of_its_new_content(path: Path) -> None:
    path.write_text(lines("task-1", "task-2", "task-3"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)

    path.write_text(line("task-9"), encoding="utf-8")  # same inode, rewritten shorter
    chunk = take(follower)
    assert tasks_and_lines(chunk) == [("task-9", 1)]
    assert (chunk.mark.offset, chunk.mark.line) == (path.stat().st_size, 2)

    append(path, line("task-10"))
    assert tasks_and_lines(take(follower)) == [("task-10", 2)]


def test_a_file_truncated_to_empty_and_then_refilled_beyond_the_old_position_is_read_from_its_start(
    path: Path,
) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    path.write_text("", encoding="utf-8")
    assert follower.read() is None
    append(path, lines("task-3", "task-4", "task-5"))
    assert tasks_and_lines(take(follower)) == [("task-3", 1), ("task-4", 2), ("task-5", 3)]


def test_a_rotated_file_is_followed_from_the_start_of_the_new_file(path: Path) -> None:
    path.write_text(lines("task-1", "task-2"), encoding="utf-8")
    follower = AlertFollower(path)
    old = take(follower)

    path.rename(path.with_name(path.name + ".1"))
    path.write_text(lines("task-3", "task-4", "task-5"), encoding="utf-8")  # longer than the old one
    assert path.stat().st_ino != old.mark.inode
    chunk = take(follower)
    assert tasks_and_lines(chunk) == [("task-3", 1), ("task-4", 2), ("task-5", 3)]
    assert chunk.mark == SourceMark(str(path), path.stat().st_ino, path.stat().st_size, 4, 0, chunk.mark.head)


def test_a_file_that_does_not_exist_yet_gives_none_and_is_read_once_created(path: Path) -> None:
    follower = AlertFollower(path)
    assert follower.read() is None
    assert follower.read() is None
    path.write_text("", encoding="utf-8")
    assert follower.read() is None, "an empty file has nothing to read"
    append(path, lines("task-1", "task-2"))
    assert tasks_and_lines(take(follower)) == [("task-1", 1), ("task-2", 2)]


def test_a_file_removed_after_being_read_gives_none_until_it_is_created_again(path: Path) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    path.unlink()
    assert follower.read() is None
    assert follower.read() is None


def test_a_file_deleted_and_created_again_is_read_from_its_start_even_when_its_inode_is_reused(path: Path) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    old = take(follower)
    path.unlink()
    assert follower.read() is None
    path.write_text(lines("task-2", "task-3", "task-4"), encoding="utf-8")
    if path.stat().st_ino != old.mark.inode:
        pytest.skip("this file system gave the new file a new inode: the reuse case cannot be shown here")
    assert tasks_and_lines(take(follower)) == [("task-2", 1), ("task-3", 2), ("task-4", 3)]


# Whole documents -------------------------------------------------------------------------------


def test_a_json_array_rewritten_with_old_items_plus_new_is_read_whole_and_only_the_new_alerts_are_applied(
    path: Path, services: Services,
) -> None:
    path.write_text(json.dumps([crisis("task-1"), crisis("task-2")], indent=2), encoding="utf-8")
    follower = AlertFollower(path)
    first = take(follower)
    assert [a.task_id for a in alerts(first.items)] == ["task-1", "task-2"]
    assert first.mark.line == 0, "document mode"
    report = services.coordinator.ingest(first.items, mark=first.mark)
    assert report.as_dict() == {"processed": 2, "duplicates": 0, "quarantined": 0}
    assert follower.read() is None, "unchanged: not read again"

    path.write_text(json.dumps([crisis("task-1"), crisis("task-2"), crisis("task-3"), crisis("task-4")],
                               indent=2), encoding="utf-8")
    second = take(follower)
    assert [a.task_id for a in alerts(second.items)] == ["task-1", "task-2", "task-3", "task-4"]
    assert (second.mark.offset, second.mark.mtime_ns) == (path.stat().st_size, path.stat().st_mtime_ns)
    report = services.coordinator.ingest(second.items, mark=second.mark)
    assert report.as_dict() == {"processed": 2, "duplicates": 2, "quarantined": 0}
    assert services.coordinator.get_task("task-4").task_id == "task-4"
    assert services.ledger.source_mark(str(path)) == second.mark
    assert follower.read() is None


def test_a_document_with_an_alerts_list_is_read_again_when_only_its_modification_time_changes(path: Path) -> None:
    document = json.dumps({"alerts": [crisis("task-1")]}, indent=2)
    path.write_text(document, encoding="utf-8")
    follower = AlertFollower(path)
    first = take(follower)
    assert [a.task_id for a in alerts(first.items)] == ["task-1"]
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = take(follower)
    assert [a.task_id for a in alerts(again.items)] == ["task-1"]
    assert again.mark.mtime_ns == stat.st_mtime_ns + 1_000_000_000


COMPACT_DOCUMENTS = {
    "array-with-newline": json.dumps([crisis("task-1"), crisis("task-2")]) + "\n",
    "array-without-newline": json.dumps([crisis("task-1"), crisis("task-2")]),
    "alerts-list-with-newline": json.dumps({"alerts": [crisis("task-1"), crisis("task-2")]}) + "\n",
    "alerts-list-without-newline": json.dumps({"alerts": [crisis("task-1"), crisis("task-2")]}),
}


@pytest.mark.parametrize("form", sorted(COMPACT_DOCUMENTS))
def test_a_document_written_on_a_single_line_is_read_as_a_document(path: Path, form: str) -> None:
    path.write_text(COMPACT_DOCUMENTS[form], encoding="utf-8")
    chunk = AlertFollower(path).read()
    assert chunk is not None
    assert [a.task_id for a in alerts(chunk.items)] == ["task-1", "task-2"]
    assert quarantined(chunk.items) == []


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
        assert report.as_dict() == {"processed": 2, "duplicates": 0, "quarantined": 0}
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
        assert report.as_dict() == {"processed": 2, "duplicates": 0, "quarantined": 0}
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


# Memory ----------------------------------------------------------------------------------------

BIG_LINES = 50_000


def write_big_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for number in range(BIG_LINES):
            out.write(line(f"task-{number}"))


def test_following_a_large_file_in_chunks_keeps_nothing_but_the_mark_and_memory_stays_bounded(path: Path) -> None:
    write_big_file(path)
    follower = AlertFollower(path, max_lines=500)
    keys = set(vars(follower))
    assert keys == {"path", "mark", "max_lines"}
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        peaks: list[int] = []
        retained: list[int] = []
        total = 0
        while (chunk := follower.read()) is not None:
            assert len(chunk.items) <= 500
            total += len(chunk.items)
            follower.advance(chunk.mark)
            del chunk
            current, peak = tracemalloc.get_traced_memory()
            peaks.append(peak - baseline)
            retained.append(current - baseline)
            tracemalloc.reset_peak()
            assert set(vars(follower)) == keys
            assert isinstance(follower.mark, SourceMark)
    finally:
        tracemalloc.stop()
    assert total == BIG_LINES
    assert len(peaks) == BIG_LINES // 500
    assert max(retained) < 256 * 1024, "nothing accumulates between reads"
    assert retained[-1] <= retained[0] + 64 * 1024
    assert max(peaks) < 1024 * 1024, "one read holds about its chunk of lines, never the whole file"
    later, earlier = max(peaks[len(peaks) // 2 :]), max(peaks[: len(peaks) // 2])
    assert later <= earlier * 1.05, "later reads cost no more than earlier ones"


def test_reading_in_chunks_of_500_lines_peaks_at_well_under_a_megabyte(path: Path) -> None:
    write_big_file(path)
    follower = AlertFollower(path, max_lines=500)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        peak = 0
        for _ in range(3):
            chunk = follower.read()
            assert chunk is not None
            follower.advance(chunk.mark)
            del chunk
            peak = max(peak, tracemalloc.get_traced_memory()[1] - baseline)
            tracemalloc.reset_peak()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


# Bad input -------------------------------------------------------------------------------------


def test_bad_lines_are_quarantined_with_their_line_numbers_and_the_valid_lines_around_them_are_alerts(
    path: Path, services: Services,
) -> None:
    missing_task = crisis("task-x")
    del missing_task["task_id"]
    content = [
        line("task-1"),
        '{"type": "COORDINATION_CRISIS", "task_id": \n',
        line("task-2"),
        json.dumps({**crisis("task-y"), "type": "NO_SUCH_TYPE"}) + "\n",
        "[1, 2, 3]\n",
        json.dumps(missing_task) + "\n",
        line("task-3", timestamp="not a time"),
        line("task-4"),
    ]
    path.write_text("".join(content), encoding="utf-8")
    chunk = take(AlertFollower(path))
    assert [(a.task_id, a.line, a.type) for a in alerts(chunk.items)] == [
        ("task-1", 1, AlertType.COORDINATION_CRISIS),
        ("task-2", 3, AlertType.COORDINATION_CRISIS),
        ("task-4", 8, AlertType.COORDINATION_CRISIS),
    ]
    bad = quarantined(chunk.items)
    assert [q.line for q in bad] == [2, 4, 5, 6, 7]
    assert all(q.source == str(path) and q.reason for q in bad)
    assert bad[0].raw == '{"type": "COORDINATION_CRISIS", "task_id":'
    assert "not valid JSON" in bad[0].reason
    assert [item.line for item in chunk.items] == [1, 2, 3, 4, 5, 6, 7, 8], "file order is kept"

    report = services.coordinator.ingest(chunk.items, mark=chunk.mark)
    assert report.as_dict() == {"processed": 3, "duplicates": 0, "quarantined": 5}
    assert sorted(row["line"] for row in services.ledger.quarantined()) == [2, 4, 5, 6, 7]
