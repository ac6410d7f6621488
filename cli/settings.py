"""Settings: from `COORDINATOR_*` environment variables, overridden by command-line options."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".coordinator")
DEFAULT_ALERTS_FILE = Path("coordination_alerts.json")


class Settings(BaseSettings):
    """Where the coordinator keeps its state and what it reads."""

    model_config = SettingsConfigDict(env_prefix="COORDINATOR_", extra="ignore")

    home: Path = DEFAULT_HOME
    alerts_file: Path = DEFAULT_ALERTS_FILE
    batch_size: int = 2_000

    @property
    def event_store_path(self) -> Path:
        """The SQLite file holding events and the ledger."""
        return self.home / "events.sqlite"

    @property
    def views_path(self) -> Path:
        """The SQLite file holding the read models."""
        return self.home / "views.sqlite"
