"""The Rules page: the escalation state machine drawn from the `transitions` rulebook itself, and the thresholds.

States are read from the machine in its order and laid out on one row; every transition it holds is an arc, above
the row when it moves forward in that order and below when it moves back, coloured by its trigger. Whatever the
rulebook holds is drawn: nothing here knows its states or triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.responses import SLA_SECONDS
from domain.rulebook import RULEBOOK
from domain.rules import DEADLINE_FRACTIONS, SILENCE_LIMITS

WIDTH, NODE_W, NODE_H = 1000.0, 110.0, 40.0
MIDDLE = 230.0
HEIGHT = 2 * MIDDLE


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    x: float
    initial: bool


@dataclass(frozen=True, slots=True)
class Arc:
    trigger: str
    source: str
    dest: str
    path: str
    tone: int


@dataclass(frozen=True, slots=True)
class Diagram:
    nodes: list[Node]
    arcs: list[Arc]
    triggers: list[str]
    width: float = WIDTH
    height: float = HEIGHT
    middle: float = MIDDLE


def moves(machine: Any = RULEBOOK) -> list[tuple[str, str, str, str]]:
    """Every (trigger, source, dest, conditions) the machine holds, in its order of events and sources (the names
    of the conditions that must hold, joined; empty when none)."""
    found: list[tuple[str, str, str, str]] = []
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            found.extend((trigger, source, transition.dest, _conditions(transition)) for transition in transitions)
    return found


def _conditions(transition: Any) -> str:
    return ", ".join(getattr(condition.func, "__name__", str(condition.func)).replace("_", " ")
                     for condition in transition.conditions)


def diagram(machine: Any = RULEBOOK) -> Diagram:
    """Nodes on a row and an arc per transition (height by how far it goes)."""
    names = list(machine.states)
    step = (WIDTH - NODE_W) / max(len(names) - 1, 1)
    where = {name: NODE_W / 2 + n * step for n, name in enumerate(names)}
    nodes = [Node(name, round(where[name], 1), name == machine.initial) for name in names]
    triggers = list(machine.events)
    arcs = []
    for trigger, source, dest, _ in moves(machine):
        if dest is None or dest not in where:
            continue
        x1, x2 = where[source], where[dest]
        forward = x2 > x1
        reach = abs(names.index(dest) - names.index(source))
        lift = (NODE_H / 2 + 18 + 30 * reach) * (-1 if forward else 1)
        edge = MIDDLE + (NODE_H / 2 if not forward else -NODE_H / 2)
        # Leave and arrive a little off centre so an arc and its way back do not overlap.
        shift = 8 if forward else -8
        path = (f"M {x1 + shift:.1f} {edge:.1f} C {x1 + shift:.1f} {MIDDLE + lift:.1f} "
                f"{x2 - shift:.1f} {MIDDLE + lift:.1f} {x2 - shift:.1f} {edge:.1f}")
        arcs.append(Arc(trigger, source, dest, path, triggers.index(trigger) % 6))
    return Diagram(nodes, arcs, triggers)


def thresholds() -> dict[str, list[tuple[str, str]]]:
    """The rules' thresholds in force, as (condition, stage) rows per rule."""
    deadline = []
    upper = None
    for fraction, stage in DEADLINE_FRACTIONS:
        left = f"{fraction:.0%} ≤ time left" + (f" < {upper:.0%}" if upper is not None else "")
        deadline.append((left, stage.value))
        upper = fraction
    deadline.append(("deadline reached", "EMERGENCY"))
    shortest = min(limit for limit, _ in SILENCE_LIMITS)
    silence = [(f"flagged, silent for at most {_minutes(shortest.total_seconds())}", "YELLOW")]
    silence += [(f"silent for more than {_minutes(limit.total_seconds())}", stage.value)
                for limit, stage in reversed(SILENCE_LIMITS)]
    sla = [(f"delivered within {seconds:g} s", level) for level, seconds in SLA_SECONDS.items()]
    return {"deadline (share of the time window left)": deadline,
            "agent silence (an agent flagged unresponsive)": silence,
            "notification response time (SLA)": sla}


def _minutes(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"
