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


def _on_import(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run when a module is first imported: its top level, inside `try`, `if` and `with` blocks
    too, but not under `if TYPE_CHECKING:` and not in functions or classes' methods."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, ast.If):
            checking = isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            found += _on_import(node.orelse if checking else [*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            found += _on_import([*node.body, *node.orelse, *node.finalbody,
                                 *(stmt for handler in node.handlers for stmt in handler.body)])
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _on_import(node.body)
    return found


def _imports(path: Path, on_import_only: bool) -> set[str]:
    """Our modules that `path` imports (anywhere in it, or only when it is first imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _on_import(tree.body) if on_import_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(ROOT)}:{node.lineno}: imports are absolute here"
            assert node.module is not None
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
        for name in _imports(path, on_import_only=False)
        if name.split(".")[0] not in ALLOWED[top]
    }
    assert not offending, "\n".join(sorted(offending))


def test_no_two_modules_import_each_other_even_through_others() -> None:
    paths = _sources(*PACKAGES)
    known = {_module_name(path) for path in paths}
    graph = {
        _module_name(path): {name for name in _imports(path, on_import_only=True) if name in known}
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


def test_reading_the_settings_and_building_the_default_channels_loads_no_channel_library(tmp_path: Path) -> None:
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from cli.channels_setup import build_router\n"
        "from cli.settings import load_settings\n"
        f"build_router(load_settings({str(tmp_path)!r}))\n"
        "print(sorted(name for name in ('httpx', 'apprise') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", "httpx and apprise load only when a webhook or apprise channel is built"


QUERY_COMMANDS = [["task", "list"], ["task", "show", "task-101"], ["agent", "list"], ["status"], ["notifications"],
                  ["audit"], ["events"]]


@pytest.fixture(scope="module")
def written_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("home")
    subprocess.run([sys.executable, "-m", "cli.main", "run", "--once", "--home", str(home), "--alerts-file",
                    str(ROOT / "examples" / "coordination_alerts.json"), "--as-of", "2025-07-17T00:00:00Z"],
                   cwd=ROOT, check=True, capture_output=True)
    return home


@pytest.mark.parametrize("words", QUERY_COMMANDS, ids=" ".join)
def test_a_piped_query_command_loads_neither_the_other_commands_nor_the_aggregates_nor_rich(written_home: Path,
                                                                                            words: list[str]) -> None:
    import json
    import subprocess
    import sys

    program = (
        "import json, sys\n"
        "from cli.main import app\n"
        f"try: app({[*words, '--home', str(written_home)]!r}, standalone_mode=False)\n"
        "finally: print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert done.stdout.strip(), "the command showed nothing"
    commands = {name for name in loaded if name.startswith("cli.") and name.endswith(("_commands", "_command"))}
    assert len(commands) == 1, f"{' '.join(words)} loaded {sorted(commands)}"
    heavy = sorted(name for name in loaded if name in {"domain.task", "domain.agent", "domain.deliveries",
                                                       "eventsourcing.domain", "transitions", "rich"})
    assert heavy == [], f"{' '.join(words)} loaded {heavy}, which only writing, upcasting and terminals need"
