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
    """Digests of the file's first bytes and of the bytes just before `offset` (`first:before`), to notice a
    file written again in its place, even one that begins the same (older marks hold the first only)."""
