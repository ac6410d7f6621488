"""Escalation stages: GREEN < YELLOW < ORANGE < RED, with EMERGENCY as RED's last stage."""

from __future__ import annotations

from enum import Enum


class Stage(Enum):
    """Where an aggregate stands on the escalation ladder."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    ORANGE = "ORANGE"
    RED = "RED"
    EMERGENCY = "EMERGENCY"

    rank: int
    """Position on the ladder: GREEN is 0, EMERGENCY is 4."""

    def __init__(self, value: str) -> None:
        self.rank = len(type(self).__members__)

    @property
    def level(self) -> str:
        """The public level name: EMERGENCY is reported as RED."""
        return "RED" if self is Stage.EMERGENCY else self.value

    @property
    def emergency(self) -> bool:
        """True for RED's EMERGENCY stage."""
        return self is Stage.EMERGENCY

    @classmethod
    def from_level(cls, level: str, emergency: bool = False) -> Stage:
        """Stage for a level name in any case (`red`, `Orange`, ...)."""
        stage = cls(level.strip().upper())
        if emergency and stage is Stage.RED:
            return Stage.EMERGENCY
        return stage

