"""Following a real alerts file as it is written: incremental reads, partial lines, truncation, rotation,
whole-document rewrites and bad lines."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from adapters import input_limits
from adapters.alert_follower import BLOCK as READ_LIMIT
from adapters.alert_follower import AlertFollower
from adapters.input_limits import Limits
from cli.bootstrap import Services
from domain.alerts import Alert, AlertType
from domain.sources import SourceMark
from tests.integration.follower_support import (
    alerts,
    append,
    crisis,
    line,
    lines,
    quarantined,
    take,
    tasks_and_lines,
)
from tests.integration.follower_support import home as home  # pytest fixture (requested by `services`)
from tests.integration.follower_support import path as path  # pytest fixture
from tests.integration.follower_support import services as services  # pytest fixture

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


@pytest.mark.parametrize("opening", [
    '{"type": "TASK_ASSIGNED", "task_id": \ngarbage\n',  # a write cut short by a crash, then junk
    "[1, 2, 3]\n",  # a first line that is JSON but no alert
])
def test_a_json_lines_file_opening_with_lines_that_are_no_alerts_is_followed_line_by_line_within_small_limits(
    path: Path, opening: str,
) -> None:
    input_limits.configure(Limits(max_line_bytes=4096, max_document_bytes=1_000))
    try:
        path.write_text(opening + lines(*(f"task-{n}" for n in range(1, 21))), encoding="utf-8")
        follower = AlertFollower(path)
        first = take(follower)
        bad = opening.count("\n")
        assert [item.line for item in quarantined(first.items)] == list(range(1, bad + 1))
        assert len(alerts(first.items)) == 20
        append(path, line("task-21"))
        assert tasks_and_lines(take(follower)) == [("task-21", bad + 21)], "only the new line is read"
    finally:
        input_limits.configure(Limits())


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


def test_lines_written_just_before_a_rotation_are_read_before_the_new_file(path: Path) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    append(path, lines("task-2", "task-3") + line("task-4").rstrip("\n"))  # its last line never got its newline
    path.rename(path.with_name(path.name + ".1"))
    path.write_text(lines("task-5"), encoding="utf-8")

    rest = take(follower)
    assert tasks_and_lines(rest) == [("task-2", 2), ("task-3", 3), ("task-4", 4)]
    assert tasks_and_lines(take(follower)) == [("task-5", 1)]
    assert follower.read() is None


def test_lines_written_just_before_the_file_was_removed_are_still_read(path: Path) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    append(path, lines("task-2"))
    path.unlink()
    assert tasks_and_lines(take(follower)) == [("task-2", 2)]
    assert follower.read() is None
    follower.close()


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


def test_a_directory_in_the_files_place_is_waited_out_with_the_reason_and_the_file_is_read_once_it_is_back(
    path: Path,
) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    path.unlink()
    path.mkdir()
    assert follower.read() is None
    assert follower.problem is not None and "not a regular file" in follower.problem
    path.rmdir()
    path.write_text(lines("task-2"), encoding="utf-8")
    assert tasks_and_lines(take(follower)) == [("task-2", 1)]
    assert follower.problem is None


def test_a_fifo_in_the_files_place_is_refused_at_once_rather_than_waited_on(path: Path) -> None:
    path.write_text(lines("task-1"), encoding="utf-8")
    follower = AlertFollower(path)
    take(follower)
    path.unlink()
    os.mkfifo(path)
    results: list[object] = []
    reader = threading.Thread(target=lambda: results.append(follower.read()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # unblock it (a writer opening the FIFO) before failing
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading blocked on a FIFO with no writer")
    assert results == [None]
    assert follower.problem is not None and "not a regular file" in follower.problem


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
    assert report.as_dict() == {"processed": 2, "observed": 0, "duplicates": 0, "quarantined": 0}
    assert follower.read() is None, "unchanged: not read again"

    path.write_text(json.dumps([crisis("task-1"), crisis("task-2"), crisis("task-3"), crisis("task-4")],
                               indent=2), encoding="utf-8")
    second = take(follower)
    assert [a.task_id for a in alerts(second.items)] == ["task-1", "task-2", "task-3", "task-4"]
    assert (second.mark.offset, second.mark.mtime_ns) == (path.stat().st_size, path.stat().st_mtime_ns)
    report = services.coordinator.ingest(second.items, mark=second.mark)
    assert report.as_dict() == {"processed": 2, "observed": 0, "duplicates": 2, "quarantined": 0}
    assert services.coordinator.get_task("task-4").task_id == "task-4"
    assert services.ledger.source_mark(str(path)) == second.mark
    assert follower.read() is None


@pytest.mark.parametrize("cut", [300, 301, 302, 350, 420])
def test_a_json_array_caught_half_written_quarantines_nothing_and_is_read_whole_once_finished(
    path: Path, cut: int,
) -> None:
    whole = json.dumps([crisis(f"task-{n}") for n in range(1, 7)], indent=2)
    path.write_text(whole[:cut], encoding="utf-8")
    follower = AlertFollower(path)
    early = follower.read()
    assert early is None or quarantined(early.items) == [], "an array still being written is not refused"
    if early is not None:
        follower.advance(early.mark)
    path.write_text(whole, encoding="utf-8")
    finished = take(follower)
    assert [alert.task_id for alert in alerts(finished.items)] == [f"task-{n}" for n in range(1, 7)]
    assert quarantined(finished.items) == []


def test_a_json_array_broken_in_its_middle_is_still_quarantined_when_followed(path: Path) -> None:
    whole = json.dumps([crisis(f"task-{n}") for n in range(1, 4)], indent=2)
    path.write_text(whole.replace('"task_id": "task-2",', '"task_id": "task-2"', 1), encoding="utf-8")
    chunk = take(AlertFollower(path))
    assert [alert.task_id for alert in alerts(chunk.items)] == ["task-1", "task-3"]
    assert len(quarantined(chunk.items)) == 1


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
    assert report.as_dict() == {"processed": 3, "observed": 0, "duplicates": 0, "quarantined": 5}
    assert sorted(row["line"] for row in services.ledger.quarantined()) == [2, 4, 5, 6, 7]
