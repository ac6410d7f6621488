"""A notification's text is stored once, in the event that requested it; the outbox reads it from there, and an
outbox written by older code is upgraded in place with every row and text kept."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from adapters.channels.kind import Context
from adapters.channels.registry import build_channels
from adapters.delivery import Router
from app.records import event_kind
from tests.integration.delivery_scenarios import (
    Clock,
    clock_after_queueing,
    dispatcher,
    file_lines,
    open_home,
    queue,
)

STORED = Path(__file__).resolve().parents[1] / "stores" / "alert-facts-v2"


def requested_texts(home: Path) -> dict[str, str]:
    """Every requested notification's text as its requesting event recorded it, by key."""
    import json

    with sqlite3.connect(home / "events.sqlite") as db:
        rows = db.execute("SELECT topic, state FROM stored_events").fetchall()
    return {told["key"]: told["message"] for topic, state in rows
            if event_kind(topic).endswith(".NotificationsRequested") for told in json.loads(state)["notifications"]}


def test_the_text_is_kept_only_in_the_requesting_event_and_delivered_and_listed_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = open_home(home)
    queued = queue(services, tmp_path)
    texts = requested_texts(home)
    with sqlite3.connect(home / "events.sqlite") as db:
        beside = db.execute("SELECT COUNT(*) FROM outbox WHERE message IS NOT NULL").fetchone()[0]
    assert beside == 0, "no text is stored twice"
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
