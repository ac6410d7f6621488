"""The escalation rulebook: one shared, model-less `transitions` Machine.

The machine holds no aggregate. Aggregates ask it which trigger moves them from
one state to another and whether that move is legal; they then record what was
decided as an event. Replaying events never consults the machine.
"""

from __future__ import annotations

from functools import cache

from transitions import Machine

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


def moves() -> list[dict[str, str]]:
    """The rulebook's transitions (`trigger`, `source`, `dest`), as its machine is built from them."""
    found: list[dict[str, str]] = []
    for source in Stage:
        for dest in Stage:
            if dest.rank > source.rank:
                found.append({"trigger": ESCALATE, "source": source.value, "dest": dest.value})
            elif dest.rank < source.rank:
                found.append({"trigger": DE_ESCALATE, "source": source.value, "dest": dest.value})
        found.append({"trigger": RESOLVE, "source": source.value, "dest": RESOLVED})
        found.append({"trigger": REOPEN, "source": RESOLVED, "dest": source.value})
    return found


RULEBOOK = Machine(
    model=None,
    states=STATES,
    transitions=moves(),
    initial=Stage.GREEN.value,
    auto_transitions=False,
)


def check(trigger: str, source: str, dest: str) -> None:
    """Raise `IllegalTransition` unless `trigger` may move `source` to `dest`."""
    if not allows(trigger, source, dest):
        raise IllegalTransition(f"cannot {trigger.replace('_', '-')} from {source} to {dest}")


@cache
def allows(trigger: str, source: str, dest: str) -> bool:
    """Whether the rulebook has a `trigger` transition from `source` to `dest` (the machine never changes)."""
    return bool(RULEBOOK.get_transitions(trigger=trigger, source=source, dest=dest))


def trigger_for(source: Stage, dest: Stage) -> str | None:
    """The legal trigger between two stages, or None when they are the same."""
    if source is dest:
        return None
    trigger = ESCALATE if dest.rank > source.rank else DE_ESCALATE
    check(trigger, source.value, dest.value)
    return trigger
