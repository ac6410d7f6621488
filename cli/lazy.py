"""Commands loaded when they are used: `coordinator task list` imports the task commands' module and no other.

Typer builds a command from a function's signature, and importing every command module to build all of them
cost a query command about a fifth of its start-up. The root group here knows each command only by where it
lives (`"cli.task_commands:app"`) until someone asks for it by name; help, the reference and completion list
every command in the order given, loading them as they are shown.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Any

import typer
import typer.main

from cli.help import MARKUP, Command, Group

Built = Any
"""A built command or group: a click command of the click typer carries inside it (not a public type)."""


def command_at(name: str, where: str) -> Built:
    """The command `name` built from `module:attribute`: a command group (a Typer app) or a single function."""
    module, _, attribute = where.partition(":")
    found = getattr(import_module(module), attribute)
    if isinstance(found, typer.Typer):
        built: Built = typer.main.get_group(found)
    else:
        single = typer.Typer(rich_markup_mode=MARKUP, add_completion=False)
        single.command(name, cls=Command)(found)
        built = typer.main.get_command(single)
    built.name = name
    return built


class Commands(MutableMapping[str, Built]):
    """A group's commands by name, each built from its module the first time it is looked up."""

    def __init__(self, built: MutableMapping[str, Built], where: dict[str, str]) -> None:
        self._built = dict(built)
        self._where = where

    def __getitem__(self, name: str) -> Built:
        if name not in self._built:
            self._built[name] = command_at(name, self._where[name])  # KeyError for a name nobody registered
        return self._built[name]

    def __setitem__(self, name: str, command: Built) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._built.pop(name, None)
        self._where.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._where, *self._built]))

    def __len__(self) -> int:
        return len(set(self._where) | set(self._built))

    def __contains__(self, name: object) -> bool:
        return name in self._where or name in self._built


def lazy_group(where: dict[str, str]) -> type[Group]:
    """A group class whose commands are `where`'s (name → `module:attribute`), built when first looked up."""

    class Lazy(Group):
        def __init__(self, *args: Any, **options: Any) -> None:
            super().__init__(*args, **options)
            self.commands = Commands(self.commands, dict(where))

    return Lazy
