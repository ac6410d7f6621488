"""Reading stored events by notification id, as the read models' queries do."""

from __future__ import annotations

from app.records import Record, records_by_id


class Store:
    """A notification log of `size` events, counting the reads it serves."""

    def __init__(self, size: int) -> None:
        self.records = [Record(number, "a" * 32, number, "domain.task:Task.Registered", b"{}")
                        for number in range(1, size + 1)]
        self.reads: list[tuple[int, int]] = []

    def max_notification_id(self) -> int | None:
        return len(self.records) or None

    def select_records(self, after: int, limit: int) -> list[Record]:
        self.reads.append((after, limit))
        return self.records[after : after + limit]


def test_events_wanted_by_id_are_all_found_and_nothing_else() -> None:
    store = Store(20_000)
    wanted = [1, 2, 3, 40, 900, 901, 15_000, 20_000, 3]

    found = records_by_id(store, wanted)

    assert sorted(found) == sorted(set(wanted))
    assert all(found[number].position == number for number in wanted)


def test_events_close_together_are_read_in_one_go_and_far_apart_ones_alone() -> None:
    store = Store(20_000)

    records_by_id(store, [*range(100, 200, 3), 10_000, 19_999])

    assert store.reads == [(99, 100), (9_999, 1), (19_998, 1)]


def test_ids_beyond_the_log_are_simply_not_found() -> None:
    assert records_by_id(Store(10), [5, 11, 50]).keys() == {5}
