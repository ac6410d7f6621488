"""The escalation rulebook: one shared, model-less `transitions` Machine.

The machine holds no aggregate. Aggregates ask it which trigger moves them from
one state to another and whether that move is legal; they then record what was
decided as an event. Replaying events never consults the machine.

What it refuses: escalating downwards or de-escalating upwards; any move of a resolved task but reopening, and
reopening to anything but GREEN (a reopened task is judged afresh); resolving twice; and de-escalating below the
level an open coordination crisis holds a task at (a condition on every `de_escalate`, given the crisis level as
`floor`). A refused move raises `IllegalTransition`; an alert whose application asks for one is quarantined with it.

Not held here: "EMERGENCY only from RED". The rules record one move per instant at the instant a threshold is
crossed, and several thresholds can fall at once (an assignment whose deadline has already passed is EMERGENCY at
once, from GREEN); demanding RED first would record a move that never held.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from transitions import Machine
from transitions.core import EventData

from domain.stages import Stage

RESOLVED = "RESOLVED"
ESCALATE = "escalate"
DE_ESCALATE = "de_escalate"
RESOLVE = "resolve"
REOPEN = "reopen"

STATES = [*(stage.value for stage in Stage), RESOLVED]
"""Every state the rulebook knows: the stages, and RESOLVED."""


class IllegalTransition(Exception):
    """A move the rulebook does not allow, e.g. escalating to a lower stage."""


def keeps_the_crisis(dest: str, floor: str | None = None) -> bool:
    """A task in an open coordination crisis at `floor` stays at least there (no floor: nothing to keep)."""
    return floor is None or Stage(dest).rank >= Stage(floor).rank


def moves() -> list[dict[str, Any]]:
    """The rulebook's transitions (`trigger`, `source`, `dest`, `conditions`), as its machine is built from them."""
    found: list[dict[str, Any]] = []
    for source in Stage:
        for dest in Stage:
            if dest.rank > source.rank:
                found.append({"trigger": ESCALATE, "source": source.value, "dest": dest.value})
            elif dest.rank < source.rank:
                found.append({"trigger": DE_ESCALATE, "source": source.value, "dest": dest.value,
                              "conditions": [keeps_the_crisis]})
        found.append({"trigger": RESOLVE, "source": source.value, "dest": RESOLVED})
    found.append({"trigger": REOPEN, "source": RESOLVED, "dest": Stage.GREEN.value})
    return found


RULEBOOK = Machine(
    model=None,
    states=STATES,
    transitions=moves(),
    initial=Stage.GREEN.value,
    auto_transitions=False,
)


def check(trigger: str, source: str, dest: str, floor: str | None = None) -> None:
    """Raise `IllegalTransition` unless `trigger` may move `source` to `dest` (`floor`: the level an open crisis
    holds the task at)."""
    if not allows(trigger, source, dest, floor):
        below = f" below the open crisis at {floor}" if floor is not None and allows(trigger, source, dest) else ""
        raise IllegalTransition(f"cannot {trigger.replace('_', '-')} from {source} to {dest}{below}")


@cache
def allows(trigger: str, source: str, dest: str, floor: str | None = None) -> bool:
    """Whether the rulebook has a `trigger` transition from `source` to `dest` whose conditions hold (the machine
    never changes, so the answers are kept)."""
    found = RULEBOOK.get_transitions(trigger=trigger, source=source, dest=dest)
    if not found:
        return False
    event = EventData(RULEBOOK.get_state(source), RULEBOOK.events[trigger], RULEBOOK, None, (dest,),
                      {"floor": floor})
    return any(all(condition.check(event) for condition in transition.conditions) for transition in found)


def trigger_for(source: Stage, dest: Stage, floor: Stage | None = None, resolved: bool = False) -> str | None:
    """The legal trigger between two stages, or None when they are the same (`floor`: the level an open crisis
    holds the task at; `resolved`: the task is closed, so only reopening may move it)."""
    if source is dest and not resolved:
        return None
    trigger = ESCALATE if dest.rank > source.rank else DE_ESCALATE
    check(trigger, RESOLVED if resolved else source.value, dest.value, None if floor is None else floor.value)
    return trigger
