"""What the application's commands raise: unknown names, and the backstop's marker for an aggregate set aside."""

from __future__ import annotations


class SetAside(Exception):
    """Advancing one task or agent failed: it is set aside and the pass starts again without it."""

    def __init__(self, kind: str, name: str, error: Exception) -> None:
        super().__init__(kind, name)
        self.kind, self.name, self.error = kind, name, error


class UnknownTask(LookupError):
    """No alert ever named this task."""


class UnknownAgent(LookupError):
    """No alert ever named this agent."""
