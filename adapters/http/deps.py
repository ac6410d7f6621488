"""What the routers are given: the read side and the writer's commands (set when the app is created)."""

from __future__ import annotations

from fastapi import Request

from app.ports import Commands, Queries


def queries(request: Request) -> Queries:
    """The read side."""
    found: Queries = request.app.state.queries
    return found


def commands(request: Request) -> Commands:
    """The writer's commands."""
    found: Commands = request.app.state.commands
    return found
