"""The files a coordinator home holds, and the event store's table names: named here once for every layer."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = Path(".coordinator")
HOME_VARIABLE = "COORDINATOR_HOME"
EVENTS_FILE = "events.sqlite"
"""The event store: events, snapshots and the ledger beside them."""
VIEWS_FILE = "views.sqlite"
"""The read models (rebuildable from the events at any time)."""
CONFIG_FILE = "coordinator.toml"
LOG_FILE = "coordinator.log"
EVENTS_TABLE = "stored_events"
SNAPSHOTS_TABLE = "stored_snapshots"


HIVE_VARIABLE = "COORDINATOR_HIVE"
DEFAULT_HIVE = "default"
"""The hive of a home that names none: its own directory, its own alerts file, the store's own schema."""
HIVE_NAME = r"^[a-z][a-z0-9_]{0,39}$"
"""A hive's name: lower-case letters, digits and _, starting with a letter (its store's schema is `hive_<name>`)."""
HIVES_DIR = "hives"
HIVE_FILE = "hive"
"""In a hive's directory (`<home>/hives/<name>`): the hive's name, which makes the directory that hive's."""


def home_path(home: Path | str | None = None) -> Path:
    """The home directory: `home` if given, else `COORDINATOR_HOME`, else `./.coordinator`; with `COORDINATOR_HIVE`
    naming a hive other than `default`, that hive's directory in it (see `hive_home`)."""
    base = Path(home or os.environ.get(HOME_VARIABLE) or DEFAULT_HOME)
    hive = os.environ.get(HIVE_VARIABLE) or DEFAULT_HIVE
    if hive == DEFAULT_HIVE or hive_of(base) is not None:
        return base
    return base / HIVES_DIR / hive


def hive_home(base: Path, hive: str) -> Path:
    """The directory of `hive` in the home `base` (made, and marked as the hive's, when missing): its read models,
    its lock and its default notifications file, apart from every other hive's."""
    path = base / HIVES_DIR / hive
    marker = path / HIVE_FILE
    if not marker.is_file():
        path.mkdir(parents=True, exist_ok=True)
        marker.write_text(hive + "\n", encoding="utf-8")
    return path


def base_home(home: Path) -> Path:
    """The home `home` belongs to: itself, or the home holding it when it is a hive's directory (whose
    coordinator.toml configures it)."""
    located = hive_of(home)
    return home if located is None else located[0]


def hive_of(home: Path) -> tuple[Path, str] | None:
    """(the home, the hive) when `home` is a hive's directory (see `hive_home`; or will be: the hive
    `COORDINATOR_HIVE` names, not made yet), else None."""
    try:
        name = (home / HIVE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        name = os.environ.get(HIVE_VARIABLE) or DEFAULT_HIVE
        if name == DEFAULT_HIVE or home.name != name or home.parent.name != HIVES_DIR:
            return None
    return home.parent.parent, name
