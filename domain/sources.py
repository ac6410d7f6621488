"""Where the coordinator stands in an input file: recorded with the alerts read up to there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceMark:
    """An input file read up to byte `offset` (the next line being `line`), as identified by `inode`.

    For a file rewritten as a whole (a JSON array or document), `offset` is the size that was read and
    `mtime_ns` its modification time: a change of either means it is read again.
    """

    path: str
    inode: int
    offset: int
    line: int
    mtime_ns: int = 0
    head: str = ""
    """A digest of the file's first bytes, to notice a file deleted and written again in its place."""
