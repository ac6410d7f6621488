"""A table written to a pipe or a file: its title, then columns two spaces apart, each as wide as its widest cell
looks on a terminal."""

from __future__ import annotations

import pytest

from cli.render import Styled, plain_table, table


def test_cells_line_up_under_their_headers_with_no_trailing_spaces() -> None:
    shown = plain_table(table("2 task(s)", ["task", "level", "note"],
                              [("t-1", Styled("RED", "bold red"), None), ("task-long", "GREEN", "fine")]))

    assert shown.splitlines() == [
        "2 task(s)",
        "task       level  note",
        "t-1        RED",
        "task-long  GREEN  fine",
    ]


def test_wide_characters_and_combining_marks_take_the_columns_a_terminal_gives_them() -> None:
    shown = plain_table(table("t", ["name", "n"], [("日本", 1), ("e\u0301te\u0301", 2), ("ab", 3)])).splitlines()

    assert shown[1:] == ["name  n", "日本  1", "e\u0301te\u0301   2", "ab    3"]


def test_control_characters_in_a_title_header_or_cell_are_shown_as_escapes() -> None:
    shown = plain_table(table("\x1b[2J", ["a\nb"], [("x\x07",)]))

    assert shown.splitlines() == ["\\x1b[2J", "a\\nb", "x\\x07"]


def test_an_empty_table_is_its_title_and_header() -> None:
    assert plain_table(table("0 task(s)", ["task", "level"], [])).splitlines() == ["0 task(s)", "task  level"]


def test_joined_emoji_marks_and_format_characters_take_no_column_of_their_own() -> None:
    shown = plain_table(table("t", ["name", "n"], [("👩\u200d💻", 1), ("ก\u0e31", 2), ("⃝", 3), ("abcd", 4)]))

    assert shown.splitlines()[1:] == ["name  n", "👩\u200d💻    1", "ก\u0e31     2", "⃝      3", "abcd  4"]


def test_a_row_without_a_cell_for_each_column_is_refused_whatever_the_output() -> None:
    with pytest.raises(ValueError, match="a row of 1 cells in a table of 2 columns"):
        table("t", ["a", "b"], [("only",)])
