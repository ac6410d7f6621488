"""Stored states are packed against the shipped dictionary, and every reader gets their JSON text back."""

from __future__ import annotations

import json
import struct
import threading
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from adapters import state_packing
from adapters.state_packing import CURRENT, MAGIC, dictionary_path, pack, unpack

ESCALATED = (b'{"timestamp":"2026-12-04T22:32:22.462578Z","from_stage":"GREEN","to_stage":"YELLOW",'
             b'"at":"2025-07-16T00:00:03Z","reason":"deadline warning: 50% of the time left (10m 00s before the '
             b'deadline)","rule":"deadline_warning","class_version":2}')

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def test_an_event_s_state_packs_to_a_fraction_of_its_json_text_and_unpacks_to_the_same_bytes() -> None:
    packed = pack(ESCALATED)

    assert packed.startswith(MAGIC)
    assert len(packed) * 2 < len(ESCALATED)
    assert unpack(packed) == ESCALATED


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_any_json_object_comes_back_byte_for_byte(value: dict[str, object]) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    assert unpack(pack(text)) == text


def test_a_state_packing_would_not_shrink_is_kept_as_its_plain_text() -> None:
    assert pack(b"{}") == b"{}"


def test_a_plain_state_as_older_stores_hold_it_reads_as_it_is() -> None:
    assert unpack(ESCALATED) is ESCALATED


def test_a_state_packed_with_a_dictionary_this_copy_does_not_have_is_refused_naming_it() -> None:
    shipped = dictionary_path(CURRENT).read_bytes()
    other = shipped[:4] + struct.pack("<I", 40_000) + shipped[8:]  # the same dictionary under another id
    packed = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(other)).compress(ESCALATED)

    with pytest.raises(LookupError, match="dictionary 40000"):
        unpack(packed)


def test_threads_packing_and_unpacking_at_once_each_get_their_own_states_back() -> None:
    states = [ESCALATED.replace(b"50%", f"{n}%".encode()) for n in range(200)]
    wrong: list[int] = []
    start = threading.Barrier(4)

    def work(offset: int) -> None:
        start.wait()
        for number in range(offset, len(states), 4):
            if unpack(pack(states[number])) != states[number]:
                wrong.append(number)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wrong == []


def test_the_dictionary_new_states_are_packed_with_is_shipped_under_its_own_id() -> None:
    dictionary = zstandard.ZstdCompressionDict(dictionary_path(state_packing.CURRENT).read_bytes())

    assert dictionary.dict_id() == CURRENT


def test_a_page_of_states_unpacks_all_at_once_to_what_each_unpacks_to_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = dictionary_path(CURRENT).read_bytes()
    older = shipped[:4] + struct.pack("<I", CURRENT + 1) + shipped[8:]  # a dictionary beside the current one
    (tmp_path / f"{CURRENT}.zdict").write_bytes(shipped)
    (tmp_path / f"{CURRENT + 1}.zdict").write_bytes(older)
    monkeypatch.setattr(state_packing, "DICTIONARIES", tmp_path)
    older_frame = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(older)).compress(ESCALATED)
    page = [pack(ESCALATED), ESCALATED, pack(ESCALATED.replace(b"50%", b"75%")), b"{}", older_frame]

    together = state_packing.unpack_all(page)

    assert together == [unpack(state) for state in page]
    assert together[-1] == ESCALATED
    assert state_packing.unpack_all([]) == []
