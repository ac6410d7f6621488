"""The dependency rule, read from the source: domain ← app ← adapters, projections ← cli; nothing imports cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "app", "adapters", "projections", "cli")
ALLOWED = {
    "domain": {"domain"},
    "app": {"domain", "app"},
    "adapters": {"domain", "app", "adapters"},
    "projections": {"domain", "app", "projections"},
    "cli": set(PACKAGES),
    "bench": {"domain", "app", "adapters", "projections", "bench"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Our modules that `path` imports (anywhere in it, or only when it is first imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in (*PACKAGES, "bench")}


def _sources(*tops: str) -> list[Path]:
    return sorted(path for top in tops for path in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("top", list(ALLOWED))
def test_each_layer_imports_only_the_layers_beneath_it(top: str) -> None:
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _sources(top)
        for name in _imports(path, top_level_only=False)
        if name.split(".")[0] not in ALLOWED[top]
    }
    assert not offending, "\n".join(sorted(offending))


def test_no_two_modules_import_each_other_even_through_others() -> None:
    paths = _sources(*PACKAGES)
    known = {_module_name(path) for path in paths}
    graph = {
        _module_name(path): {name for name in _imports(path, top_level_only=True) if name in known}
        for path in paths
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycles.append([*trail[trail.index(imported):], imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)
