"""A long rebuild lends the second process the share of the projections that evens out the two processes' work."""

from __future__ import annotations

from projections.base import Projection
from projections.parallel import _share
from projections.registry import projections


def weighing(name: str, weight: float) -> Projection:
    projection = Projection()
    projection.name, projection.weight = name, weight  # type: ignore[misc]
    return projection


def test_the_lent_share_is_the_one_closest_to_half_the_work_even_when_the_heaviest_alone_is_not() -> None:
    fresh = [weighing("a", 6.8), weighing("b", 12.7), weighing("c", 2.7), weighing("d", 9.3)]

    assert [p.name for p in _share(fresh, 31.5)] == ["b", "c"]


def test_one_projection_always_stays_with_the_process_that_lends() -> None:
    fresh = [weighing("a", 1), weighing("b", 1)]

    assert len(_share(fresh, 100)) == 1


def test_work_this_process_does_anyway_counts_towards_its_half() -> None:
    fresh = [weighing("a", 2), weighing("b", 2), weighing("c", 2)]

    assert [p.name for p in _share(fresh, 12)] == ["a", "b"]


def test_every_read_model_weighs_something() -> None:
    assert all(projection.weight > 0 for projection in projections())
