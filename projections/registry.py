"""Every read model, in the order they are brought up to date: a new projection is one module plus one line here."""

from __future__ import annotations

from projections.base import Projection
from projections.crisis import CrisisProjection
from projections.history import HistoryProjection
from projections.metrics import MetricsProjection
from projections.status import StatusProjection


def projections() -> list[Projection]:
    """A fresh instance of every projection."""
    return [
        StatusProjection(),
        MetricsProjection(),
        HistoryProjection(),
        CrisisProjection(),
    ]
