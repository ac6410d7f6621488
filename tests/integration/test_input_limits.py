"""Input over its size limit, read by both readers (`run --once` and the follower): quarantined with the same
reason, keeping only its first 64 KB, while the valid input around it is read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import input_limits
from adapters.alert_file import Item, read_alerts
from adapters.alert_follower import BLOCK, CHUNK_BYTES, AlertFollower
from adapters.input_limits import KEPT, Limits
from cli.bootstrap import build
from cli.settings import Settings
from domain.alerts import Quarantined
from tests.integration.follower_support import alerts, append, crisis, line, lines, quarantined, take
from tests.integration.follower_support import home as home  # pytest fixture
from tests.integration.follower_support import path as path  # pytest fixture

READERS = ["once", "follower"]
SMALL = Limits(max_line_bytes=4096, max_document_bytes=100_000)


@pytest.fixture
def limits() -> Iterator[None]:
    """Small limits for the readers during one test."""
    input_limits.configure(SMALL)
    try:
        yield
    finally:
        input_limits.configure(Limits())


def read(reader: str, path: Path) -> list[Item]:
    """Every item of `path`, as `run --once` reads it or as the follower does chunk by chunk."""
    if reader == "once":
        return list(read_alerts(path))
    follower, items = AlertFollower(path), []
    while (chunk := follower.read()) is not None:
        items += chunk.items
        follower.advance(chunk.mark)
    return items


FIELD = 60_000
"""Characters of one padding field: under the 64 KiB every text of an alert is held to."""


def sized(task: str, size: int) -> str:
    """One alert line of `size` bytes (or the smallest alert, when that is longer), without its newline; padded in
    fields of at most `FIELD` characters."""
    alert = crisis(task, description="")
    number = 0
    while len(json.dumps(alert)) < size:
        key = f"pad{number}"
        alert[key] = ""
        alert[key] = "x" * min(FIELD, size - len(json.dumps(alert)))
        number += 1
    return json.dumps(alert)


def where(items: list[Item]) -> list[tuple[str | None, int | None]]:
    return [("quarantined", item.line) if isinstance(item, Quarantined) else (item.task_id, item.line)
            for item in items]


@pytest.mark.parametrize("reader", READERS)
def test_a_10_mb_line_is_quarantined_saying_its_size_and_the_limit_and_keeping_its_first_64_kb(
    reader: str, path: Path,
) -> None:
    big = sized("big", 10 * 1024 * 1024)
    path.write_text(line("task-1") + big + "\n" + line("task-2"), encoding="utf-8")
    items = read(reader, path)
    assert where(items) == [("task-1", 1), ("quarantined", 2), ("task-2", 3)]
    [bad] = quarantined(items)
    assert bad.reason == "line is 10,485,760 bytes, over the limit of 1,048,576 (max_line_bytes)"
    assert (bad.source, bad.raw) == (str(path), big[:KEPT])


@pytest.mark.parametrize("reader", READERS)
def test_a_line_exactly_at_the_limit_is_read_and_one_byte_longer_is_quarantined(
    reader: str, path: Path, limits: None,
) -> None:
    path.write_text(sized("at-limit", 4096) + "\n" + sized("over", 4097) + "\n", encoding="utf-8")
    items = read(reader, path)
    assert where(items) == [("at-limit", 1), ("quarantined", 2)]
    assert quarantined(items)[0].reason == "line is 4,097 bytes, over the limit of 4,096 (max_line_bytes)"


@pytest.mark.parametrize("reader", READERS)
def test_lines_over_the_limit_first_in_the_middle_and_last_do_not_hide_the_lines_between_them(
    reader: str, path: Path, limits: None,
) -> None:
    path.write_text("\n".join([sized("a", 9000), sized("b", 100), "y" * 50_000, sized("c", 100),
                               "[" + "z" * 5000, sized("d", 100), sized("e", 200_000)]) + "\n", encoding="utf-8")
    items = read(reader, path)
    assert where(items) == [("quarantined", 1), ("b", 2), ("quarantined", 3), ("c", 4), ("quarantined", 5),
                            ("d", 6), ("quarantined", 7)]
    assert [q.reason.split(",")[0] for q in quarantined(items)] == ["line is 9", "line is 50", "line is 5",
                                                                    "line is 200"]


def test_run_once_reads_a_last_line_over_the_limit_without_a_newline_where_the_follower_waits_for_it(
    path: Path, limits: None,
) -> None:
    path.write_text(line("task-1") + "q" * 10_000, encoding="utf-8")
    assert where(list(read_alerts(path))) == [("task-1", 1), ("quarantined", 2)]
    follower = AlertFollower(path)
    assert where(take(follower).items) == [("task-1", 1)]
    assert follower.read() is None, "half written: wait for its newline"
    append(path, "q" * 10_000)
    assert follower.read() is None
    append(path, "\n" + line("task-3"))
    chunk = take(follower)
    assert where(chunk.items) == [("quarantined", 2), ("task-3", 3)]
    assert quarantined(chunk.items)[0].reason == "line is 20,000 bytes, over the limit of 4,096 (max_line_bytes)"
    assert follower.read() is None, "quarantined once"


@pytest.mark.parametrize("reader", READERS)
def test_a_file_whose_first_line_is_longer_than_a_read_block_is_read(reader: str, path: Path) -> None:
    path.write_text(sized("long", BLOCK + 5000) + "\n" + line("task-2"), encoding="utf-8")
    items = read(reader, path)
    assert where(items) == [("long", 1), ("task-2", 2)]


@pytest.mark.parametrize("reader", READERS)
def test_an_item_of_a_document_over_the_limit_is_quarantined_and_the_other_items_are_read(
    reader: str, path: Path, limits: None,
) -> None:
    items = [crisis("task-1"), crisis("task-2", description="x" * 5000), crisis("task-3")]
    path.write_text(json.dumps({"alerts": items}, indent=2), encoding="utf-8")
    read_items = read(reader, path)
    assert [a.task_id for a in alerts(read_items)] == ["task-1", "task-3"]
    [bad] = quarantined(read_items)
    assert (bad.line, bad.index) == (10, 1)
    assert bad.reason.startswith("item is 5,") and bad.reason.endswith(" over the limit of 4,096 (max_line_bytes)")


@pytest.mark.parametrize("reader", READERS)
def test_a_document_over_its_limit_is_one_quarantined_entry_keeping_its_first_64_kb(
    reader: str, path: Path, limits: None,
) -> None:
    document = json.dumps([crisis(f"task-{n}") for n in range(1000)], indent=2)
    path.write_text("\n" + document, encoding="utf-8")
    [bad] = read(reader, path)
    size = len(document) + 1
    assert isinstance(bad, Quarantined) and bad.line == 2
    assert bad.reason == f"document is {size:,} bytes, over the limit of 100,000 (max_document_bytes)"
    assert bad.raw == document[:KEPT - 1].strip()


@pytest.mark.parametrize("newline", ["", "\n"])
@pytest.mark.parametrize("reader", READERS)
def test_a_document_written_on_one_line_longer_than_the_line_limit_is_still_read_as_a_document(
    reader: str, path: Path, newline: str,
) -> None:
    input_limits.configure(Limits(max_line_bytes=4096))
    try:
        path.write_text(json.dumps({"alerts": [crisis(f"task-{n}") for n in range(600)]}) + newline, encoding="utf-8")
        assert path.stat().st_size > BLOCK
        items = read(reader, path)
    finally:
        input_limits.configure(Limits())
    assert len(alerts(items)) == 600 and quarantined(items) == []


@pytest.mark.parametrize("text", [sized("alone", 10_000), "not json at all " * 1000])
@pytest.mark.parametrize("reader", READERS)
def test_a_file_of_one_line_over_the_limit_that_is_no_document_is_quarantined_as_a_line(
    reader: str, path: Path, limits: None, text: str,
) -> None:
    path.write_text(text + "\n", encoding="utf-8")
    [bad] = read(reader, path)
    assert isinstance(bad, Quarantined) and bad.line == 1
    assert bad.reason == f"line is {len(text):,} bytes, over the limit of 4,096 (max_line_bytes)"


def test_lines_near_the_limit_are_followed_a_few_at_a_time_so_a_chunk_stays_small(path: Path) -> None:
    path.write_text("".join(sized(f"task-{n}", 900_000) + "\n" for n in range(7)), encoding="utf-8")
    follower = AlertFollower(path)
    sizes = []
    while (chunk := follower.read()) is not None:
        follower.advance(chunk.mark)
        sizes.append(len(alerts(chunk.items)))
    assert sum(sizes) == 7
    assert max(sizes) * 900_000 < CHUNK_BYTES + 1_048_576


def test_building_the_services_gives_the_readers_the_configured_limits(path: Path, home: Path) -> None:
    path.write_text(lines("task-1") + sized("task-2", 3000) + "\n", encoding="utf-8")
    built = build(Settings(home=home, max_line_bytes=2048, max_document_bytes=50_000))
    try:
        assert input_limits.current() == Limits(2048, 50_000)
        report = built.coordinator.ingest(read_alerts(path))
        assert report.as_dict() == {"processed": 1, "observed": 0, "duplicates": 0, "quarantined": 1}
        [row] = built.ledger.quarantined()
        assert (row["line"], row["reason"]) == (2, "line is 3,000 bytes, over the limit of 2,048 (max_line_bytes)")
        assert where(take(AlertFollower(path)).items) == [("task-1", 1), ("quarantined", 2)]
    finally:
        built.close()
        input_limits.configure(Limits())
