"""What every channel module declares: its name, its configuration section and how to build it from that section."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from pydantic import BaseModel, ConfigDict

from domain.notifications import Channel


class Section(BaseModel):
    """A `[channels.<name>]` section: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class Context:
    """What a channel may need besides its section: the home (relative paths are inside it) and where the console
    prints (standard output when None)."""

    home: Path
    console: TextIO | None = None


S = TypeVar("S", bound=Section)


@dataclass(frozen=True, slots=True)
class ChannelKind(Generic[S]):
    """One kind of channel: `[channels.<name>]` holds a `section`; `build` makes the channel from it (raising
    ValueError for a section it cannot use). A channel that `always` exists needs no section to be used."""

    name: str
    section: type[S]
    build: Callable[[S, Context], Channel]
    always: bool = False

    def make(self, section: Any, context: Context) -> Channel:
        """The channel for `section` (validated against this kind's model)."""
        return self.build(self.section.model_validate(section), context)
