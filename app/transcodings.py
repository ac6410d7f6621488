"""How domain values that JSON has no type for are stored: a `Stage` as its name."""

from __future__ import annotations

from eventsourcing.persistence import Transcoding

from domain.stages import Stage


class StageAsName(Transcoding):
    """Stores a `Stage` as its name."""

    type = Stage
    name = "stage"

    def encode(self, obj: Stage) -> str:
        return str(obj.value)

    def decode(self, data: str) -> Stage:
        return Stage(data)
