"""Taking input in: the ledger's row for each accepted item, batches of items, and what one ingest did."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.ledger import AcceptedAlert
from domain.alerts import Alert, Observation

OBSERVATION = "observation"
"""How the ledger of accepted fingerprints names a record kept as an observation only."""


@dataclass(slots=True)
class IngestReport:
    """What one ingest did with its input: each item is one of these.

    `processed`: alerts applied (a record a mapping rule turned into an alert included); `observed`: records kept
    as observations only; `duplicates`: items already accepted (alerts or observations); `quarantined`: refused.
    """

    processed: int = 0
    observed: int = 0
    duplicates: int = 0
    quarantined: int = 0

    def as_dict(self) -> dict[str, int]:
        """The machine-readable summary."""
        return {"processed": self.processed, "observed": self.observed, "duplicates": self.duplicates,
                "quarantined": self.quarantined}


def accepted_row(item: Alert | Observation) -> AcceptedAlert:
    """The ledger's row for an accepted alert or observation (a mapped record under its alert's type)."""
    if isinstance(item, Alert):
        return AcceptedAlert(item.fingerprint, item.type.value, item.timestamp, item.source, item.line)
    kind = item.alert.type.value if item.alert is not None else OBSERVATION
    return AcceptedAlert(item.fingerprint, kind, item.at, item.source, item.line)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size` (the last may be shorter)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
