"""The escalation rules as pure functions of facts and a time `now`.

Each rule returns the stage it demands and why; a task's stage is the highest demand.
Each rule also names the instants at which its answer can change, so that crossings
between alerts are recorded at the exact instant a threshold was crossed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.moments import later
from domain.stages import Stage

# Deadline rule: share of the time window still left -> stage (first match wins).
DEADLINE_FRACTIONS: tuple[tuple[float, Stage], ...] = (
    (0.5, Stage.GREEN),
    (0.25, Stage.YELLOW),
    (0.10, Stage.ORANGE),
    (0.0, Stage.RED),
)
# Agent rule: silence longer than this -> stage (checked from the longest).
SILENCE_LIMITS: tuple[tuple[timedelta, Stage], ...] = (
    (timedelta(hours=2), Stage.EMERGENCY),
    (timedelta(hours=1), Stage.RED),
    (timedelta(minutes=30), Stage.ORANGE),
)


NO_RULE = "none"
DEADLINE = "deadline"
DEADLINE_WARNING = "deadline_warning"
SILENCE = "silence"
CRISIS = "crisis"
MILESTONE = "milestone"
RULES = (NO_RULE, DEADLINE, DEADLINE_WARNING, SILENCE, CRISIS, MILESTONE)


class Demand:
    """A rule's verdict: the stage it demands and the reason in words.

    The reason may be given as a function: it is only put in words if the demand wins.
    """

    __slots__ = ("_reason", "rule", "stage")

    def __init__(self, stage: Stage, reason: str | Callable[[], str], rule: str = NO_RULE) -> None:
        self.stage = stage
        self._reason = reason
        self.rule = rule

    @property
    def reason(self) -> str:
        """Why the rule demands this stage."""
        if not isinstance(self._reason, str):
            self._reason = self._reason()
        return self._reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Demand) and (self.stage, self.reason) == (other.stage, other.reason)

    def __hash__(self) -> int:
        return hash((self.stage, self.reason))

    def __repr__(self) -> str:
        return f"Demand({self.stage.name}, {self.reason!r}, {self.rule!r})"


@dataclass(frozen=True, slots=True)
class AgentView:
    """What a task needs to know of its agent."""

    agent_id: str
    unresponsive: bool
    last_activity: datetime | None
    status_since: datetime | None = None


GREEN = Demand(Stage.GREEN, "no rule applies")


def describe_duration(delta: timedelta) -> str:
    """`3d 04h`, `1h 05m`, `12m 30s`, `45s`: short, and exact to the second below an hour."""
    seconds = round(abs(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _overdue(late: timedelta) -> str:
    return "deadline reached" if late < timedelta(seconds=1) else f"deadline passed {describe_duration(late)} ago"


def deadline_demand(now: datetime, start: datetime | None, deadline: datetime | None) -> Demand:
    """Rule 1: the share of the time window left before the deadline."""
    if deadline is None:
        return GREEN
    if now >= deadline:
        return Demand(Stage.EMERGENCY, lambda: _overdue(now - deadline), DEADLINE)
    left = deadline - now
    if start is None or deadline <= start:
        return Demand(Stage.GREEN, lambda: f"{describe_duration(left)} left before the deadline", DEADLINE)
    fraction = left / (deadline - start)
    stage = next(stage for floor, stage in DEADLINE_FRACTIONS if fraction >= floor)
    return Demand(
        stage, lambda: f"{fraction:.0%} of the time left ({describe_duration(left)} before the deadline)", DEADLINE
    )


def deadline_crossings(start: datetime | None, deadline: datetime | None) -> list[datetime]:
    """Instants at which the deadline rule's answer changes."""
    if deadline is None:
        return []
    if start is None or deadline <= start:
        return [deadline]
    window = deadline - start
    return [deadline - window * floor for floor, _ in DEADLINE_FRACTIONS if floor > 0] + [deadline]


def silence_demand(now: datetime, agent: AgentView | None) -> Demand:
    """Rule 2: how long an unresponsive agent has been silent."""
    if agent is None or not agent.unresponsive:
        return GREEN
    if agent.last_activity is None:
        return Demand(Stage.YELLOW, f"agent {agent.agent_id} unresponsive since an unknown time", SILENCE)
    silence = now - agent.last_activity
    stage = next((stage for limit, stage in SILENCE_LIMITS if silence > limit), Stage.YELLOW)
    return Demand(stage, lambda: f"agent {agent.agent_id} unresponsive for {describe_duration(silence)}", SILENCE)


def silence_crossings(agent: AgentView | None) -> list[datetime]:
    """Instants at which the agent rule's answer changes."""
    if agent is None or not agent.unresponsive or agent.last_activity is None:
        return []
    last = agent.last_activity
    return [instant for limit, _ in SILENCE_LIMITS if (instant := later(last, limit)) is not None]


def silence_changed(before: AgentView, after: AgentView) -> bool:
    """Whether the agent rule may answer differently for the agent's tasks after its status went from `before` to
    `after`: never while it stays responsive (the rule then asks for nothing, however recent its last activity), nor
    while it stays silent since the same activity."""
    if not before.unresponsive and not after.unresponsive:
        return False
    return (before.unresponsive, before.last_activity) != (after.unresponsive, after.last_activity)


def higher(best: Demand, other: Demand) -> Demand:
    """The higher of two demands; on a tie the first (the earlier rule) gives the reason."""
    return other if other.stage.rank > best.stage.rank else best
