"""The board's view: open tasks in their level's column, filtered by agent, level and a search on the task id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from adapters.http.dashboard.render import LEVELS, instant

Card = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Filters:
    """What the board is narrowed to (empty: everything)."""

    agent: str = ""
    level: str = ""
    q: str = ""

    @classmethod
    def of(cls, agent: str | None, level: str | None, q: str | None) -> Filters:
        wanted = (level or "").strip().upper()
        return cls((agent or "").strip(), wanted if wanted in LEVELS else "", (q or "").strip())

    def keeps(self, card: Card) -> bool:
        """Whether `card` passes every filter (the search is a case-insensitive part of the task id)."""
        return ((not self.agent or card["agent_id"] == self.agent) and (not self.level or card["level"] == self.level)
                and (not self.q or self.q.casefold() in card["task_id"].casefold()))

    @property
    def active(self) -> bool:
        return bool(self.agent or self.level or self.q)


@dataclass(slots=True)
class Board:
    """Columns of open cards by level (most severe last, as the ladder reads), and the tasks done today."""

    columns: dict[str, list[Card]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    done: list[Card] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    total: int = 0


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: "today" for the done list."""
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def done_today(card: Card, now: datetime) -> bool:
    """A completed task whose last change was today."""
    changed = instant(card.get("updated_at"))
    return card["status"] == "completed" and changed is not None and changed >= start_of_day(now)


def board(cards: list[Card], filters: Filters, now: datetime) -> Board:
    """Lay `cards` (most severe first) out as the board, keeping those the filters keep."""
    laid = Board()
    agents: set[str] = set()
    for card in cards:
        if card["agent_id"]:
            agents.add(card["agent_id"])
        if not filters.keeps(card):
            continue
        if card["status"] == "open":
            laid.columns[card["level"]].append(card)
            laid.total += 1
        elif done_today(card, now):
            laid.done.append(card)
    laid.agents = sorted(agents)
    return laid
