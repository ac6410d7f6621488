"""What the routers are given: each hive's read side and writer's commands (set when the app is created, and
changed as this coordinator starts or stops writing a hive)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request

from app.ports import Commands, NotFound, Queries

DEFAULT_HIVE = "default"
"""The hive the paths without `/hives/{hive}` are about."""


@dataclass
class Side:
    """One hive as the API serves it: where its queries are answered, where its commands go."""

    queries: Queries
    commands: Commands


def side(request: Request) -> Side:
    """The hive a request is about: the one its path names (`/api/v1/hives/{hive}/...`), else the default one (or,
    when one hive alone is served, that one)."""
    hives: dict[str, Side] = request.app.state.hives
    name = request.path_params.get("hive")
    if name is None:
        name = DEFAULT_HIVE if DEFAULT_HIVE in hives or len(hives) != 1 else next(iter(hives))
    found = hives.get(name)
    if found is None:
        raise NotFound(f"no hive {name!r} here (known: {', '.join(sorted(hives))})")
    return found


def queries(request: Request) -> Queries:
    """The read side."""
    return side(request).queries


def commands(request: Request) -> Commands:
    """The writer's commands."""
    return side(request).commands


def hive(name: Annotated[str, Path(alias="hive", description="A hive's name (`default` is the home's own).")]
         ) -> str:
    """The `{hive}` of a path (declared once, for every hive's route)."""
    return name
