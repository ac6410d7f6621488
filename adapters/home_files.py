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


def home_path(home: Path | str | None = None) -> Path:
    """The home directory: `home` if given, else `COORDINATOR_HOME`, else `./.coordinator`."""
    return Path(home or os.environ.get(HOME_VARIABLE) or DEFAULT_HOME)
