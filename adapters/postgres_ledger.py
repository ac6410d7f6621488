"""The PostgreSQL store's ledger tables, and how their columns keep what the SQLite store keeps.

Instants are `timestamptz`, handed out as the SQLite store's sortable UTC texts. Text that comes from input (ids,
keys, recipients, messages, errors, what was quarantined) is kept as its UTF-8 in `bytea`: PostgreSQL's `text`
cannot hold the NUL character, which an accepted id may contain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LEDGER_TABLES = [
    "CREATE TABLE IF NOT EXISTS {schema}.alerts_seen (fingerprint text PRIMARY KEY, source integer NOT NULL,"
    " line integer)",
    "CREATE TABLE IF NOT EXISTS {schema}.alert_sources (id serial PRIMARY KEY, name text NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS {schema}.quarantine (id bigserial PRIMARY KEY, source bytea NOT NULL,"
    " line integer, item_index integer, raw bytea NOT NULL, reason bytea NOT NULL, recorded_at timestamptz NOT NULL,"
    " digest text NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS {schema}.task_index (task_id bytea PRIMARY KEY, agent_id bytea,"
    " open boolean NOT NULL, next_due timestamptz, pinned boolean NOT NULL)",
    "CREATE INDEX IF NOT EXISTS task_index_open ON {schema}.task_index (open) WHERE open",
    "CREATE INDEX IF NOT EXISTS task_index_due ON {schema}.task_index (next_due) WHERE next_due IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS {schema}.agent_index (agent_id bytea PRIMARY KEY, next_due timestamptz)",
    "CREATE INDEX IF NOT EXISTS agent_index_due ON {schema}.agent_index (next_due) WHERE next_due IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS {schema}.sources (path text PRIMARY KEY, inode bigint NOT NULL,"
    " \"offset\" bigint NOT NULL, line bigint NOT NULL, mtime_ns bigint NOT NULL, head text NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS {schema}.outbox (id bigserial PRIMARY KEY, key bytea NOT NULL UNIQUE,"
    " subject_kind text NOT NULL, subject bytea NOT NULL, recipient bytea NOT NULL, priority text NOT NULL,"
    " kind text NOT NULL, message bytea, requested_at timestamptz NOT NULL, status text NOT NULL,"
    " attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz, last_error bytea, channel text,"
    " delivered_at timestamptz, created_at timestamptz NOT NULL, origin bigint, item integer, claimed_by integer)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON {schema}.outbox (next_attempt_at, id)"
    " WHERE status IN ('pending', 'failed')",
    "CREATE INDEX IF NOT EXISTS outbox_status ON {schema}.outbox (status)",
    "CREATE TABLE IF NOT EXISTS {schema}.delivery_attempts (outbox_id bigint NOT NULL, position bigint NOT NULL,"
    " PRIMARY KEY (outbox_id, position))",
]
"""The ledger's tables, as the SQLite store's (see `adapters.sqlite_store` and `adapters.outbox_table`)."""


def b(text: str | None) -> bytes | None:
    """Text from input as a `bytea` column keeps it (None stays None)."""
    return None if text is None else text.encode("utf-8", "surrogatepass")


def s(data: bytes | memoryview | None) -> Any:
    """The text a `bytea` column keeps (None stays None)."""
    return None if data is None else bytes(data).decode("utf-8", "surrogatepass")


def text_of(data: bytes | memoryview) -> str:
    """The text a `NOT NULL` `bytea` column keeps."""
    return bytes(data).decode("utf-8", "surrogatepass")


def utc_text(moment: Any) -> str | None:
    """An instant as the SQLite store's sortable UTC text (None stays None)."""
    if moment is None:
        return None
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def instant(text: str | None) -> datetime | None:
    """A stored UTC text (as the SQLite store keeps instants) as an aware instant (None stays None)."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
