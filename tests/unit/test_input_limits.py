"""Reading lines in bounded blocks: lines within the limit come whole, longer ones as their size and first bytes."""

from __future__ import annotations

import io

import pytest

from adapters.input_limits import BLOCK, KEPT, Line, Oversized, bounded_lines, is_complete, raw_text, too_long, width

LIMIT = 100_000


def expected(lengths: list[int], last_complete: bool) -> list[Line]:
    out: list[Line] = []
    for number, length in enumerate(lengths):
        complete = last_complete or number < len(lengths) - 1
        text = bytes([ord("a") + number % 26]) * length
        out.append(text + b"\n" * complete if length <= LIMIT else Oversized(length, text[:KEPT], complete))
    return out


def content(lines: list[Line]) -> bytes:
    return b"".join(line if isinstance(line, bytes) else line.head[:1] * line.size + b"\n" * line.complete
                    for line in lines)


@pytest.mark.parametrize("last_complete", [True, False])
@pytest.mark.parametrize(
    "lengths",
    [
        [0, 10, 0],
        [BLOCK - 1, BLOCK, BLOCK + 1, 3],
        [10, LIMIT, LIMIT + 1, 5, 3 * BLOCK + 7, LIMIT - 1],
        [LIMIT + 1],
        [5 * LIMIT, 2, 5 * LIMIT],
    ],
)
def test_lines_across_block_boundaries_come_whole_within_the_limit_and_as_their_size_beyond_it(
    lengths: list[int], last_complete: bool,
) -> None:
    lines = expected(lengths, last_complete)
    data = content(lines)
    read = list(bounded_lines(io.BytesIO(data), LIMIT))
    if not last_complete and lengths[-1] == 0:
        lines = lines[:-1]  # an empty last line without its newline is no line
    assert read == lines
    assert sum(map(width, read)) == len(data)
    assert [is_complete(line) for line in read] == [line.endswith(b"\n") if isinstance(line, bytes) else line.complete
                                                  for line in lines]


def test_nothing_at_all_is_no_line() -> None:
    assert list(bounded_lines(io.BytesIO(b""), LIMIT)) == []


def test_an_oversized_line_keeps_only_its_first_64_kb_and_says_its_size_and_the_setting() -> None:
    [line] = bounded_lines(io.BytesIO(b"x" * 10_485_760 + b"\n"), 1_048_576)
    assert isinstance(line, Oversized) and len(line.head) == KEPT
    item = too_long("alerts.jsonl", 7, None, "line", line.size, line.head, 1_048_576)
    assert item.reason == "line is 10,485,760 bytes, over the limit of 1,048,576 (max_line_bytes)"
    assert (item.source, item.line, item.raw) == ("alerts.jsonl", 7, "x" * KEPT)


def test_raw_text_cut_at_64_kb_leaves_out_a_character_cut_in_two() -> None:
    data = "é".encode() * KEPT  # two bytes each: the 64 KB cut falls between characters
    assert raw_text(data) == "é" * (KEPT // 2)
    shifted = b"x" + data
    assert raw_text(shifted) == "x" + "é" * (KEPT // 2 - 1), "the half character at the end is dropped"
