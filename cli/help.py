"""How the command line presents itself: one look for every command and group.

Help is Markdown (paragraphs of a docstring are reflowed to the terminal, `code` stands out), `-h` works like
`--help`, and usage lines name arguments plainly (`TASK_ID`, not `{TASK_ID}`). Text given to any command (an id,
a name, a note) must be UTF-8: bytes that are not are refused as a usage error naming the argument (exit 2), as
every id is stored, compared and shown as UTF-8. Paths are left as the system gives them.
"""

from __future__ import annotations

from typing import Any, Final

import typer
from typer.core import TyperCommand, TyperGroup

CONTEXT = {"help_option_names": ["-h", "--help"]}
MARKUP: Final = "markdown"


def _plain(pieces: list[str]) -> list[str]:
    return [piece.replace("{", "").replace("}", "") for piece in pieces]


PATH_TYPES = frozenset({"path", "filename"})
"""The parameter types a path is given as (the system's bytes, kept as they are)."""


def _undecodable(value: object) -> bool:
    """Whether `value` is text holding bytes that were not UTF-8 (which Python keeps as lone surrogates)."""
    if isinstance(value, list | tuple):
        return any(map(_undecodable, value))
    return isinstance(value, str) and any("\udc80" <= character <= "\udcff" for character in value)


def _text_is_utf8(command: TyperCommand | TyperGroup, ctx: Any) -> None:
    """Refuse (a usage error, exit 2) any text parameter that is not valid UTF-8."""
    for param in command.params:
        if getattr(param.type, "name", "") in PATH_TYPES:
            continue
        if _undecodable(ctx.params.get(param.name or "")):
            raise typer.BadParameter("not valid UTF-8 text (check the terminal's or the script's encoding)",
                                     ctx=ctx, param=param)


class Command(TyperCommand):
    """A command whose usage line names its arguments as they are written, and which takes UTF-8 text only."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain(super().collect_usage_pieces(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        _text_is_utf8(self, ctx)
        return rest


class Group(TyperGroup):
    """A group of commands, presented like its commands."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain(super().collect_usage_pieces(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        _text_is_utf8(self, ctx)
        return rest


def group(help_text: str, **options: Any) -> typer.Typer:
    """A command group with the common look."""
    options.setdefault("no_args_is_help", True)
    options.setdefault("cls", Group)
    return typer.Typer(help=help_text, rich_markup_mode=MARKUP, context_settings=CONTEXT, **options)
