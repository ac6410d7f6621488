"""A notification's text is stored once, in the event that requested it; the outbox reads it from there, and an
outbox written by older code is upgraded in place with every row and text kept."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from adapters.channels.kind import Context
from adapters.channels.registry import build_channels
from adapters.delivery import Router
from adapters.state_packing import unpack
from app.records import event_kind
from tests.integration.delivery_scenarios import (
    Clock,
    clock_after_queueing,
    crisis,
    dispatcher,
    file_lines,
    open_home,
    queue,
)

STORES = Path(__file__).resolve().parents[1] / "stores"
STORED = STORES / "alert-facts-v2"
REPEATING = STORES / "compact-events-v1"
"""A home whose outbox rows still repeat what their events asked."""


def requested_texts(home: Path) -> dict[str, str]:
    """Every requested notification's text as its requesting event recorded it, by key."""
    import json

    with sqlite3.connect(home / "events.sqlite") as db:
        rows = db.execute("SELECT topic, state FROM stored_events").fetchall()
    requested = [unpack(state) for topic, state in rows if event_kind(topic).endswith(".NotificationsRequested")]
    return {told["key"]: told["message"] for state in requested for told in json.loads(state)["notifications"]}


def test_the_text_is_kept_only_in_the_requesting_event_and_delivered_and_listed_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = open_home(home)
    queued = queue(services, tmp_path)
    texts = requested_texts(home)
    with sqlite3.connect(home / "events.sqlite") as db:
        beside = db.execute("SELECT COUNT(*) FROM outbox WHERE message IS NOT NULL").fetchone()[0]
        repeated = db.execute("SELECT COUNT(*) FROM outbox WHERE COALESCE(subject_kind, subject, recipient, priority,"
                              " kind, requested_at, created_at) IS NOT NULL").fetchone()[0]
    assert beside == 0, "no text is stored twice"
    assert repeated == 0, "a row repeats nothing its event keeps"
    assert {(row["subject"], row["recipient"]) for row in queued} == {
        ("task-1", "pm-agent"), ("task-1", "agent-1"), ("task-2", "pm-agent"), ("task-2", "agent-2")}
    assert {row["key"]: row["message"] for row in queued} == texts
    router = Router(build_channels({}, Context(home)), (), "file")
    clock: Clock = clock_after_queueing()
    assert dispatcher(services, router, clock).drain().delivered == len(queued)
    sent = {line["key"]: line["message"] for line in file_lines(home / "notifications.jsonl")}
    assert sent == texts
    services.close()


def test_an_outbox_written_by_older_code_is_upgraded_with_every_row_and_text_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(STORED, home)
    with sqlite3.connect(home / "events.sqlite") as db:
        before = db.execute("SELECT id, key, message, status, attempts FROM outbox ORDER BY id").fetchall()
        columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    assert before and "origin" not in columns, "the stored home predates the upgrade"

    services = open_home(home)
    listed = {row["key"]: row["message"] for row in services.ledger.notifications()}
    services.close()

    with sqlite3.connect(home / "events.sqlite") as db:
        after = db.execute("SELECT id, key, message, status, attempts FROM outbox ORDER BY id").fetchall()
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'outbox'")}
    assert after == before
    assert listed == {key: message for _, key, message, _, _ in before}
    assert {"outbox_due", "outbox_status"} <= indexes


def test_an_outbox_whose_rows_repeat_what_their_events_asked_is_upgraded_with_every_row_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(REPEATING, home)
    with sqlite3.connect(home / "events.sqlite") as db:
        before = db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
        names = [row[1] for row in db.execute("PRAGMA table_info(outbox)")]
        required = {row[1] for row in db.execute("PRAGMA table_info(outbox)") if row[3]}
    assert before and "recipient" in required, "the stored home predates the upgrade"

    services = open_home(home)
    queue(services, tmp_path, crisis("task-new", "agent-new", "red", "stuck"))
    services.close()

    with sqlite3.connect(home / "events.sqlite") as db:
        after = db.execute(f"SELECT {', '.join(names)} FROM outbox WHERE id <= ? ORDER BY id",
                           [before[-1][0]]).fetchall()
        fresh = db.execute("SELECT recipient, message FROM outbox WHERE id > ?", [before[-1][0]]).fetchall()
        required = {row[1] for row in db.execute("PRAGMA table_info(outbox)") if row[3]}
    assert after == before
    assert fresh and all(row == (None, None) for row in fresh), "new rows leave what was asked to their event"
    assert "recipient" not in required
