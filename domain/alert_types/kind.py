"""What one alert type means to the coordinator, declared by its own module in this package.

A type names what it is about (a task or an agent), whether it shows its agent at work, how it changes a task's
facts, when it reopens or completes a task, which notifications its arrival asks for, and a valid sample for
`coordinator test-event`. Task is not imported here (it asks the registry): functions take it as `Any`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.alerts import Alert, AlertType
from domain.responses import Ask, Policy, TaskContext

Facts = dict[str, Any]
"""A task's facts once an alert is applied (its `AlertReceived` event records those that changed)."""
FactsRule = Callable[[Any, Alert, Facts, bool], None]
"""Update `facts` for `alert` on `task`; the flag says the alert puts its agent in charge."""
AsksRule = Callable[[Any, Any, TaskContext, Policy], list[Ask]]
"""The notifications a task's recorded `AlertReceived` event asks for (given the task with the alert applied, the
event, context and policy)."""
Sample = Callable[[str, str, str], dict[str, object]]
"""The fields of a valid alert of the type naming (task, agent) at the ISO instant given."""


def _never(alert: Alert) -> bool:
    return False


def _no_facts(task: Any, alert: Alert, facts: Facts, takes_over: bool) -> None:
    return None


def _no_asks(task: Any, event: Any, context: TaskContext, policy: Policy) -> list[Ask]:
    return []


@dataclass(frozen=True, slots=True)
class AlertKind:
    """One alert type's meaning (see the module docstring)."""

    type: AlertType
    target: str
    """"task" or "agent": the aggregate the alert is applied to."""
    sample: Sample
    shows_activity: bool = False
    """Its named agent is evidently at work: an unresponsive flag is cleared."""
    facts: FactsRule = _no_facts
    reopens: Callable[[Alert], bool] = _never
    completes: Callable[[Alert], bool] = _never
    asks: AsksRule = _no_asks

    @property
    def on_task(self) -> bool:
        """Whether the alert is applied to a task (else to an agent)."""
        return self.target == "task"
