"""Moving a home's history to PostgreSQL: positions are kept exactly, however many attempts it takes, and only an
empty database is filled."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from adapters import store_migration
from adapters.postgres_open import EventSource
from tests.integration.delivery_scenarios import open_home

KEPT = Path(__file__).resolve().parents[1] / "stores" / "delivery-stream-v1"


class Interrupted(Exception):
    """The migration stopped partway (as by a lost connection or Ctrl-C)."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with a history of events, outbox rows and delivery attempts, its tables brought up to date."""
    path = tmp_path / "home"
    shutil.copytree(KEPT, path)
    open_home(path).close()
    return path


def positions_in_home(home: Path) -> dict[tuple[str, int], int]:
    with sqlite3.connect(home / "events.sqlite") as db:
        rows = db.execute("SELECT originator_id, originator_version, rowid FROM stored_events").fetchall()
    return {(UUID(bytes=originator).hex if isinstance(originator, bytes) else UUID(originator).hex, version): position
            for originator, version, position in rows}


def positions_in(url: str) -> dict[tuple[str, int], int]:
    source = EventSource(url)
    try:
        return {(UUID(record.originator_id).hex, record.originator_version): record.position
                for record in source.select_records(0, 1_000_000)}
    finally:
        source.application.close()


def migrate(home: Path, url: str, stop_after: int | None = None) -> store_migration.Migrated:
    copied = 0

    def progress(count: int) -> None:
        nonlocal copied
        copied += count
        if stop_after is not None and copied >= stop_after:
            raise Interrupted

    source = EventSource(url)
    try:
        return store_migration.migrate(home / "events.sqlite", source.recorder, progress)
    finally:
        source.application.close()


def test_a_migration_run_again_after_an_interrupted_one_keeps_every_event_at_its_position_in_the_home(
    home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_migration, "PAGE", 20)
    expected = positions_in_home(home)
    assert len(expected) > 40, "the kept home has too few events for a partial copy"
    for _ in range(2):
        with pytest.raises(Interrupted):
            migrate(home, postgres_url, stop_after=40)
        assert positions_in(postgres_url) == {}, "an interrupted migration left events behind"

    done = migrate(home, postgres_url)
    assert done.events == len(expected)
    assert positions_in(postgres_url) == expected


def test_events_recorded_after_a_migration_follow_the_last_migrated_position(home: Path, postgres_url: str) -> None:
    head = max(positions_in_home(home).values())
    migrate(home, postgres_url)
    with psycopg.connect(postgres_url) as db:
        following = db.execute("SELECT nextval(pg_get_serial_sequence('public.coordinator_events',"
                               " 'notification_id'))").fetchone()
    assert following is not None and following[0] == head + 1


def test_a_database_holding_only_ledger_rows_is_refused_and_left_as_it_was(home: Path, postgres_url: str) -> None:
    EventSource(postgres_url).application.close()  # the store's tables, empty
    with psycopg.connect(postgres_url) as db:
        db.execute("INSERT INTO public.sources VALUES ('elsewhere.json', 1, 10, 1, 0, '')")
    with pytest.raises(store_migration.TargetNotEmpty, match="1 sources"):
        migrate(home, postgres_url)
    assert positions_in(postgres_url) == {}
    with psycopg.connect(postgres_url) as db:
        kept = db.execute("SELECT path FROM public.sources").fetchall()
    assert kept == [("elsewhere.json",)]
