"""Stored event states packed with Zstandard against a dictionary of the coordinator's own events.

Most of an event's bytes repeat in every event of its kind: field names, the common prefix of its instants, the
templates of its notification texts. Compressing one state of a few hundred bytes on its own finds few of those
repeats; compressing it against a dictionary that holds them finds most. States shrink to about a fifth, at about
2 µs to pack and 1 µs to unpack each, and the store writes (and syncs) that many fewer pages.

A packed state is a Zstandard frame (it starts with the frame's magic number and names its dictionary by id); a
plain one is JSON text (it starts with `{`). Readers unpack what is packed and take the rest as it is, so stores
written before packing, and states packing would not shrink, read unchanged, and no event needs an upcaster.
A dictionary is never changed once states were packed with it: a better one is added beside it under a new id, and
the old one stays to read what it packed. `bench/state_dictionary.py` trains one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

MAGIC = b"\x28\xb5\x2f\xfd"
"""The first four bytes of every Zstandard frame (JSON text never starts with them)."""
DICTIONARIES = Path(__file__).resolve().parent / "state_dictionaries"
"""Where the dictionaries live, one file each, named `<id>.zdict`."""
CURRENT = 32768
"""The id of the dictionary new states are packed with (the first id Zstandard leaves to private use)."""
LEVEL = 3


def pack(state: bytes) -> bytes:
    """`state` packed, or as it is when packing would not make it smaller."""
    packed: bytes = _codecs().compressor().compress(state)
    return packed if len(packed) < len(state) else state


def unpack(state: bytes) -> bytes:
    """The plain JSON text of a stored state, packed or not."""
    if state[:4] != MAGIC:
        return state
    return _codecs().unpack(state)


def unpack_all(states: Sequence[bytes]) -> list[bytes]:
    """`unpack` of each state, in order: for a page of the event log, where the lookups `unpack` makes for each
    state, made once here, cost about as much as Zstandard's own work."""
    codecs = _codecs()
    current, mismatch = codecs.current().decompress, codecs.zstandard.ZstdError
    plain: list[bytes] = []
    for state in states:
        if state[:4] != MAGIC:
            plain.append(state)
            continue
        try:
            plain.append(current(state))
        except mismatch:
            plain.append(codecs.unpack(state))
    return plain


def dictionary_path(dictionary_id: int) -> Path:
    """The file of the dictionary with this id."""
    return DICTIONARIES / f"{dictionary_id}.zdict"


class _Codecs:
    """One thread's compressor and decompressors (Zstandard's may be used by one thread at a time)."""

    def __init__(self) -> None:
        import zstandard

        self.zstandard = zstandard
        self.packer: Any = None
        self.decompressors: dict[int, Any] = {}
        self.newest: Any = None

    def compressor(self) -> Any:
        """The compressor for new states (made on first use: a reader never needs it)."""
        if self.packer is None:
            self.packer = self.zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(CURRENT),
                                                        write_checksum=False, write_content_size=True,
                                                        write_dict_id=True)
        return self.packer

    def current(self) -> Any:
        """The decompressor for the dictionary new states are packed with (what almost every state needs)."""
        if self.newest is None:
            self.newest = self.zstandard.ZstdDecompressor(dict_data=_dictionary(CURRENT))
        return self.newest

    def unpack(self, state: bytes) -> bytes:
        """The plain text of a packed state: unpacked with the current dictionary, or, when Zstandard refuses
        because its frame names another, with that one (trying first is cheaper than reading every frame's
        header)."""
        try:
            plain: bytes = self.current().decompress(state)
        except self.zstandard.ZstdError:
            plain = self.decompressor(state).decompress(state)
        return plain

    def decompressor(self, state: bytes) -> Any:
        """The decompressor for the dictionary `state` was packed with."""
        dictionary_id = self.zstandard.get_frame_parameters(state).dict_id
        found = self.decompressors.get(dictionary_id)
        if found is None:
            found = self.decompressors[dictionary_id] = self.zstandard.ZstdDecompressor(
                dict_data=_dictionary(dictionary_id))
        return found


_LOCAL = threading.local()
_LOCK = threading.Lock()


def _codecs() -> _Codecs:
    codecs: _Codecs | None = getattr(_LOCAL, "codecs", None)
    if codecs is None:
        codecs = _LOCAL.codecs = _Codecs()
    return codecs


@cache
def _loaded(dictionary_id: int) -> Any:
    import zstandard

    path = dictionary_path(dictionary_id)
    if not path.exists():
        raise LookupError(f"a stored event was packed with dictionary {dictionary_id}, which {DICTIONARIES} lacks")
    return zstandard.ZstdCompressionDict(path.read_bytes(), dict_type=zstandard.DICT_TYPE_FULLDICT)


def _dictionary(dictionary_id: int) -> Any:
    """The dictionary with this id, loaded once for every thread."""
    with _LOCK:
        return _loaded(dictionary_id)
