"""The board's view: open tasks in their level's column, filtered by agent, level and a search on the task id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from markupsafe import Markup

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
        """Whether `card` passes every filter (the level filter is for open tasks; the search is a case-insensitive
        part of the task id)."""
        return ((not self.agent or card["agent_id"] == self.agent)
                and (not self.level or card["status"] != "open" or card["level"] == self.level)
                and (not self.q or self.q.casefold() in card["task_id"].casefold()))

    @property
    def active(self) -> bool:
        return bool(self.agent or self.level or self.q)


@dataclass(slots=True)
class Board:
    """Columns of open cards by level (most severe last, as the ladder reads), and the tasks done today."""

    columns: dict[str, list[Card]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    done: list[Card] = field(default_factory=list)
    kept: list[Card] = field(default_factory=list)
    """Every card shown, open ones most severe first, then the ones done today."""
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
    laid.kept = [card for level in LEVELS for card in laid.columns[level]] + laid.done
    return laid


ROW = ("task_id", "agent_id", "level", "emergency", "status", "deadline", "acknowledged_by", "level_since")
"""The fields of a card as the page's script gets them: one array per card, in this order (and `gone`: shown no
more, a task completed before today)."""


def rows(cards: list[Card], now: datetime) -> list[list[Any]]:
    """Cards as compact arrays (see `ROW`), with a last field saying whether the board should drop them."""
    return [[*(card[name] for name in ROW), card["status"] != "open" and not done_today(card, now)] for card in cards]


def script_json(value: Any) -> Markup:
    """`value` as JSON that is safe inside a `<script type="application/json">` element: `<`, `>` and `&` are
    written as escapes, so no text of a task can close the element or start markup."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)
