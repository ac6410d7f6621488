"""Untrusted text (ids, descriptions, messages) made safe to show on a terminal: its control characters are
shown, never obeyed.

A task id of `\\x1b[2J` would clear the screen it is printed on, `\\x1b]0;...\\x07` would set the window's title, a
newline would add a line of its own (a fake table row), a right-to-left override would reorder what follows. Every
renderer for people passes untrusted text through `visible`, which writes such characters as escapes instead.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
"""C0 and C1 controls, DEL, and the invisible marks that move or hide text (bidirectional overrides and isolates,
zero-width spaces, line and paragraph separators). The zero-width joiner stays: emoji sequences need it."""
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """`text` with every control or invisible formatting character written as an escape (`\\x1b`, `\\n`, `\\u202e`)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    code = ord(character)
    return _NAMED.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
