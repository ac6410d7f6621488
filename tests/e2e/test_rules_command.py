"""`coordinator rules`: the thresholds in force, and the escalation state machine drawn from the rulebook."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.service_support import Run


def test_rules_print_the_thresholds_and_the_response_settings_in_force(coordinator: Run, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "coordinator.toml").write_text('repeat_interval = "5 minutes"\npm_agent = "lead"\n',
                                                         encoding="utf-8")
    document = coordinator("rules", "--json").json()
    assert [row["at_least"] for row in document["deadline"]] == [0.5, 0.25, 0.1, 0.0]
    assert [row["level"] for row in document["silence"]] == ["ORANGE", "RED", "RED (EMERGENCY)"]
    assert (document["responses"]["repeat_interval"], document["responses"]["pm_agent"]) == ("5m 00s", "lead")
    assert "Deadline rule" in coordinator("rules").out


def test_the_diagram_draws_every_state_and_move_of_the_rulebook(coordinator: Run) -> None:
    from domain.rulebook import RULEBOOK

    drawn = coordinator("rules", "--diagram", "mermaid")
    assert drawn.code == 0, drawn.err
    assert "stateDiagram-v2" in drawn.out
    for state in RULEBOOK.states:
        assert f'state "{state}"' in drawn.out
    moves = sum(len(found) for event in RULEBOOK.events.values() for found in event.transitions.values())
    assert drawn.out.count(" --> ") == moves + 1, "every move, and the initial state"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed: apt-get install graphviz")
def test_with_graphviz_the_diagram_is_also_an_svg_image(coordinator: Run, tmp_path: Path) -> None:
    out = tmp_path / "rulebook.svg"
    result = coordinator("rules", "--diagram", "svg", "--out", str(out))
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml") and "EMERGENCY" in out.read_text()


def test_an_unknown_diagram_format_is_a_usage_error(coordinator: Run) -> None:
    result = coordinator("rules", "--diagram", "gif")
    assert result.code == 2 and "mermaid, svg, png" in result.err
