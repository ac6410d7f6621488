"""Following a large alerts file in chunks keeps the alert follower's memory use bounded."""

from __future__ import annotations

import gc
import io
import tracemalloc
from pathlib import Path

from adapters.alert_follower import AlertFollower
from domain.sources import SourceMark
from tests.integration.follower_support import line
from tests.integration.follower_support import path as path  # pytest fixture

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
    assert keys == {"path", "mark", "max_lines", "problem", "_held"}, "a mark, why it could not read, a file handle"
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
            assert isinstance(follower._held, io.BufferedReader), "the handle on the file, not what it read"
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
