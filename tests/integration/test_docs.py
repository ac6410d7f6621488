"""The reference in `docs/` and the rulebook diagram in the README are generated from the code, and up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from adapters.rulebook_diagram import mermaid

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"
REGENERATE = "uv run typer cli.main utils docs --name coordinator --output docs/reference.md"


def test_the_command_reference_in_docs_is_what_the_command_line_says_of_itself(tmp_path: Path) -> None:
    fresh = tmp_path / "reference.md"
    subprocess.run([sys.executable, "-m", "typer", "cli.main", "utils", "docs", "--name", "coordinator", "--output",
                    str(fresh)], cwd=ROOT, check=True, capture_output=True)
    assert REFERENCE.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        f"docs/reference.md is out of date: {REGENERATE}")


def test_the_readme_shows_the_rulebook_as_its_machine_draws_itself() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawn = re.search(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    assert drawn is not None, "the README has no mermaid diagram"
    assert drawn.group(1) == mermaid(), "the README's diagram is out of date: coordinator rules --diagram mermaid"
