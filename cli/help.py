"""How the command line presents itself: one look for every command and group.

Help is Markdown (paragraphs of a docstring are reflowed to the terminal, `code` stands out), `-h` works like
`--help`, and usage lines name arguments plainly (`TASK_ID`, not `{TASK_ID}`).
"""

from __future__ import annotations

from typing import Any, Final

import typer
from typer.core import TyperCommand, TyperGroup

CONTEXT = {"help_option_names": ["-h", "--help"]}
MARKUP: Final = "markdown"


def _plain(pieces: list[str]) -> list[str]:
    return [piece.replace("{", "").replace("}", "") for piece in pieces]


class Command(TyperCommand):
    """A command whose usage line names its arguments as they are written."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain(super().collect_usage_pieces(ctx))


class Group(TyperGroup):
    """A group of commands, presented like its commands."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain(super().collect_usage_pieces(ctx))


def group(help_text: str, **options: Any) -> typer.Typer:
    """A command group with the common look."""
    options.setdefault("no_args_is_help", True)
    options.setdefault("cls", Group)
    return typer.Typer(help=help_text, rich_markup_mode=MARKUP, context_settings=CONTEXT, **options)
