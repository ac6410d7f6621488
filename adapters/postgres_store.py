"""PostgreSQL event store with the coordinator's ledger, written in the same transaction as the events.

eventsourcing's own PostgreSQL persistence (psycopg 3 and its pool) keeps the events and snapshots; this recorder
adds the ledger, the outbox, the quarantine and the input marks beside them, as the SQLite store does, and answers
the same questions (`app.ledger.Store`, `adapters.delivery.Outbox`, the read side the command line uses). Every
save takes eventsourcing's exclusive lock on the events table, so positions are given out in commit order and a
reader tailing the log never passes over an event committed later with a lower position.

Instants are `timestamptz` here; rows are handed out with the same ISO 8601 texts as the SQLite store's, so every
consumer of an outbox or quarantine row reads either store alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from adapters import outbox_table, quarantine_table, store_url
from adapters.clock import Clock, SystemClock
from adapters.event_codec import EventMapper
from adapters.postgres_lease import LEASE_SPACE, WriterLease
from adapters.postgres_ledger import LEDGER_TABLES
from adapters.postgres_ledger import b as _b
from adapters.postgres_ledger import s as _s
from adapters.postgres_ledger import text_of as _text_of
from adapters.postgres_ledger import utc_text as _text
from adapters.state_packing import unpack_all
from app.ledger import LeaseLost, LedgerBatch
from app.records import DELIVERIES_TOPIC, Record
from domain.alerts import quarantine_digest
from domain.sources import SourceMark

_HOLDS_LEASE = ("EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %(me)s"
                " AND classid::bigint = %(space)s AND objid::bigint = (hashtext(%(lease)s)::bigint & 4294967295)"
                " AND objsubid = 2) AS held")
"""Whether session `me` holds the advisory lock of lease `lease` (`adapters.postgres_lease`: a two-key lock
shows its first key as `classid`, its second as `objid`, and `objsubid` 2)."""
_OUTBOX_INSTANTS = ("requested_at", "next_attempt_at", "delivered_at", "created_at")
_OUTBOX_TEXTS = ("key", "subject", "recipient", "message", "last_error")
_WAITING = "status IN ('pending', 'failed')"


def environment(url: str) -> dict[str, str]:
    """The eventsourcing environment of the PostgreSQL store at `url` (see `adapters.store_url`), ledger and codec
    included."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        **store_url.connection_settings(url),
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_PRE_PING": "yes",
        "APPLICATION_RECORDER_TOPIC": f"{PostgresStore.__module__}:{PostgresStore.__qualname__}",
        "MAPPER_TOPIC": f"{EventMapper.__module__}:{EventMapper.__qualname__}",
    }


def _outbox_row(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row as the SQLite store hands it out."""
    for name in _OUTBOX_INSTANTS:
        row[name] = _text(row[name])
    for name in _OUTBOX_TEXTS:
        row[name] = _s(row[name])
    return row


class PostgresStore(PostgresApplicationRecorder):
    """Application recorder that also keeps the ledger and the outbox (see `app.ledger.Store`)."""

    clock: Clock = SystemClock()
    """Where the ledger's recording times come from (the composition root sets the home's clock)."""
    claimer: int | None = None
    """The session holding the writer lease (`adapters.postgres_lease`), when this recorder's process writes (see
    `write_under`): due notifications are then claimed in its name, and nothing is saved or claimed unless it still
    holds the lease."""
    lease_name: str = ""
    """The name of that lease."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.schema = Identifier(self.datastore.schema)
        prefix = events_table_name.removesuffix("_events")
        self.snapshots_table = Identifier(f"{prefix}_snapshots")
        self.events = SQL("{}.{}").format(self.schema, Identifier(events_table_name))
        self.events_name = f'"{self.datastore.schema}"."{events_table_name}"'
        """The events table's name as text (for the catalogue functions that take one)."""
        self.sql_create_statements.extend(SQL(statement).format(schema=self.schema) for statement in LEDGER_TABLES)

    def _sql(self, text: str) -> Any:
        """`text` with `{schema}` and `{events}` filled in."""
        return SQL(text).format(schema=self.schema, events=self.events)

    # Writing --------------------------------------------------------------------------------------

    def write_under(self, lease: WriterLease) -> None:
        """Write only while `lease` is held: every save and every claim of due notifications first checks, in its
        own transaction, that the lease's session still holds it, and fails with `LeaseLost` when it does not.

        A save checks after taking the events table's lock, and this waits for that lock once, so a save of a
        writer that lost the lease just now either failed its check or committed before this writer reads
        anything (its sources' positions, its due notifications): two writers never interleave."""
        assert lease.session is not None, "the lease is held"
        self.claimer, self.lease_name = lease.session, lease.name
        with self.datastore.transaction(commit=True) as c:
            self._lock_table(c)

    def _check_lease(self, c: Cursor[DictRow]) -> None:
        c.execute(SQL("SELECT " + _HOLDS_LEASE), self._lease_key())
        row = c.fetchone()
        if row is None or not row["held"]:
            raise LeaseLost(f"the writer lease {self.lease_name!r} is no longer held by session {self.claimer}:"
                            " another coordinator may write now")

    def _lease_key(self) -> dict[str, Any]:
        return {"me": self.claimer, "space": LEASE_SPACE, "lease": self.lease_name}

    def save(self, events: Sequence[StoredEvent], batch: LedgerBatch) -> None:
        """Record `events`, the batch's ledger rows and snapshots in one transaction (see `app.ledger.Store`)."""
        with self.datastore.transaction(commit=True) as c:
            if self.claimer is not None:
                self._lock_table(c)
                self._check_lease(c)
            positions: dict[tuple[str, int], int] = {}
            deliveries_at = None
            if events:
                self._insert_stored_events(c, events)  # takes the table lock and notifies listeners
                ids = self._fetch_ids_after_insert_events(c, events)
                assert ids is not None
                for event, position in zip(events, ids, strict=True):
                    positions[(_hex(event.originator_id), event.originator_version)] = position
                    if deliveries_at is None and event.topic == DELIVERIES_TOPIC:
                        deliveries_at = position
            self._insert_ledger(c, batch, positions, deliveries_at)

    def _insert_ledger(self, c: Cursor[DictRow], batch: LedgerBatch, positions: dict[tuple[str, int], int],
                       deliveries_at: int | None) -> None:
        now = self.clock.now()
        if batch.source is not None:
            m = batch.source
            c.execute(self._sql(
                "INSERT INTO {schema}.sources VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (path) DO UPDATE SET"
                " inode = excluded.inode, \"offset\" = excluded.\"offset\", line = excluded.line,"
                " mtime_ns = excluded.mtime_ns, head = excluded.head"),
                (m.path, m.inode, m.offset, m.line, m.mtime_ns, m.head))
        if batch.outbox:
            rows = []
            for e in batch.outbox:
                origin = None if e.origin is None else positions.get(e.origin)
                rows.append((_b(e.key), e.subject_kind, _b(e.subject), _b(e.recipient), e.priority, e.kind,
                             _b(e.message) if origin is None else None, e.requested_at, now, now, origin,
                             None if origin is None else e.item))
            c.executemany(self._sql(
                "INSERT INTO {schema}.outbox (key, subject_kind, subject, recipient, priority, kind, message,"
                " requested_at, status, attempts, next_attempt_at, created_at, origin, item)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,'pending',0,%s,%s,%s,%s) ON CONFLICT (key) DO NOTHING"), rows)
        if batch.deliveries:
            if deliveries_at is not None:
                c.executemany(self._sql(
                    "INSERT INTO {schema}.delivery_attempts SELECT id, %s FROM {schema}.outbox WHERE key = %s"
                    " ON CONFLICT DO NOTHING"), [(deliveries_at, _b(u.key)) for u in batch.deliveries])
            c.executemany(self._sql(
                "UPDATE {schema}.outbox SET status = %s, attempts = %s, channel = %s, next_attempt_at = %s,"
                " last_error = %s, delivered_at = CASE WHEN %s = 'delivered' THEN %s ELSE delivered_at END"
                " WHERE key = %s AND status != 'delivered'"),
                [(u.status, u.attempts, u.channel, u.next_attempt_at, _b(u.last_error), u.status, u.at, _b(u.key))
                 for u in batch.deliveries])
        if batch.accepted:
            sources = self._source_ids(c, {a.source for a in batch.accepted})
            c.executemany(self._sql("INSERT INTO {schema}.alerts_seen VALUES (%s,%s,%s)"),
                          [(a.fingerprint, sources[a.source], a.line) for a in batch.accepted])
        if batch.quarantined:
            c.executemany(self._sql(
                "INSERT INTO {schema}.quarantine (source, line, item_index, raw, reason, recorded_at, digest)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (digest) DO NOTHING"),
                [(_b(q.source), q.line, q.index, _b(q.raw), _b(q.reason), now, quarantine_digest(q))
                 for q in batch.quarantined])
        if batch.tasks:
            c.executemany(self._sql(
                "INSERT INTO {schema}.task_index VALUES (%s,%s,%s,%s,%s) ON CONFLICT (task_id) DO UPDATE SET"
                " agent_id = excluded.agent_id, open = excluded.open, next_due = excluded.next_due,"
                " pinned = excluded.pinned"),
                [(_b(e.task_id), _b(e.agent_id), e.open, e.next_due, e.pinned) for e in batch.tasks.values()])
        if batch.snapshots:
            c.executemany(SQL("INSERT INTO {}.{} (originator_id, originator_version, topic, state)"
                              " VALUES (%s,%s,%s,%s)").format(self.schema, self.snapshots_table),
                          [(s.originator_id, s.originator_version, s.topic, s.state) for s in batch.snapshots])
            # Only an aggregate's latest snapshot is ever read (a load at an earlier version replays its events).
            c.executemany(SQL("DELETE FROM {}.{} WHERE originator_id = %s AND originator_version < %s")
                          .format(self.schema, self.snapshots_table),
                          [(s.originator_id, s.originator_version) for s in batch.snapshots])
        if batch.agents:
            c.executemany(self._sql(
                "INSERT INTO {schema}.agent_index VALUES (%s,%s) ON CONFLICT (agent_id) DO UPDATE SET"
                " next_due = excluded.next_due"), [(_b(agent_id), due) for agent_id, due in batch.agents.items()])

    def _source_ids(self, c: Cursor[DictRow], names: set[str]) -> dict[str, int]:
        """The `alert_sources` id of each name (new names are added)."""
        wanted = sorted(names)
        c.executemany(self._sql("INSERT INTO {schema}.alert_sources (name) VALUES (%s) ON CONFLICT DO NOTHING"),
                      [(name,) for name in wanted])
        c.execute(self._sql("SELECT name, id FROM {schema}.alert_sources WHERE name = ANY(%s)"), (wanted,))
        return {row["name"]: row["id"] for row in c.fetchall()}

    # Reading --------------------------------------------------------------------------------------

    def _all(self, text: str, params: Any = ()) -> list[DictRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self._sql(text), params)
            return c.fetchall()

    def known_quarantine(self, digests: Collection[str]) -> set[str]:
        rows = self._all("SELECT digest FROM {schema}.quarantine WHERE digest = ANY(%s)", (list(digests),))
        return {row["digest"] for row in rows}

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        rows = self._all("SELECT fingerprint FROM {schema}.alerts_seen WHERE fingerprint = ANY(%s)",
                         (list(fingerprints),))
        return {row["fingerprint"] for row in rows}

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        rows = self._all("SELECT originator_id FROM {events} WHERE originator_version = 1"
                         " AND originator_id = ANY(%s)", (list(aggregate_ids),))
        return {row["originator_id"] for row in rows}

    def open_tasks(self) -> list[tuple[str, str | None, bool]]:
        rows = self._all("SELECT task_id, agent_id, pinned FROM {schema}.task_index WHERE open")
        return [(_text_of(row["task_id"]), _s(row["agent_id"]), row["pinned"]) for row in rows]

    def task_ids(self) -> list[str]:
        """Every task the coordinator knows (open or not)."""
        return [_text_of(row["task_id"]) for row in self._all("SELECT task_id FROM {schema}.task_index")]

    def agent_ids(self) -> list[str]:
        return [_text_of(row["agent_id"]) for row in self._all("SELECT agent_id FROM {schema}.agent_index")]

    def source_mark(self, path: str) -> SourceMark | None:
        rows = self._all("SELECT path, inode, \"offset\", line, mtime_ns, head FROM {schema}.sources"
                         " WHERE path = %s", (path,))
        return SourceMark(*rows[0].values()) if rows else None

    def next_due(self) -> datetime | None:
        rows = self._all("SELECT LEAST((SELECT MIN(next_due) FROM {schema}.task_index),"
                         " (SELECT MIN(next_due) FROM {schema}.agent_index)) AS due")
        moment = rows[0]["due"]
        return None if moment is None else moment.astimezone(UTC)

    def due(self, as_of: datetime) -> tuple[list[str], list[str]]:
        tasks = self._all("SELECT task_id FROM {schema}.task_index WHERE next_due <= %s ORDER BY next_due, task_id",
                          (as_of,))
        agents = self._all("SELECT agent_id FROM {schema}.agent_index WHERE next_due <= %s"
                           " ORDER BY next_due, agent_id", (as_of,))
        return [_text_of(row["task_id"]) for row in tasks], [_text_of(row["agent_id"]) for row in agents]

    def _records(self, where: str, params: Any = ()) -> list[Record]:
        rows = self._all("SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
                         + where, params)
        states = unpack_all([bytes(row["state"]) for row in rows])
        return [Record(row["notification_id"], _hex(row["originator_id"]), row["originator_version"], row["topic"],
                       state) for row, state in zip(rows, states, strict=True)]

    def select_records(self, after: int, limit: int) -> list[Record]:
        """Up to `limit` stored events after position `after`, oldest first, as projections read them."""
        return self._records("WHERE notification_id > %s ORDER BY notification_id LIMIT %s", (after, limit))

    def recent_events(self, limit: int, topics: Collection[str] | None = None) -> list[Record]:
        """The newest `limit` events (only those with one of `topics`, if given), newest first."""
        if topics is None:
            return self._records("ORDER BY notification_id DESC LIMIT %s", (limit,))
        return self._records("WHERE topic = ANY(%s) ORDER BY notification_id DESC LIMIT %s", (list(topics), limit))

    def records_at(self, positions: Collection[int]) -> list[Record]:
        """The events at these positions (those recorded), oldest first."""
        return self._records("WHERE notification_id = ANY(%s) ORDER BY notification_id", (sorted(set(positions)),))

    def records_of(self, originator_id: str) -> list[Record]:
        """Every event of one aggregate (its id as 32 hex digits), oldest first."""
        return self._records("WHERE originator_id = %s ORDER BY originator_version", (_uuid(originator_id),))

    def first_record(self, originator_id: str) -> tuple[str, bytes] | None:
        """(topic, state) of an aggregate's first event (its registration), if recorded."""
        found = self._records("WHERE originator_id = %s AND originator_version = 1", (_uuid(originator_id),))
        return (found[0].topic, found[0].state) if found else None

    def topics(self) -> list[str]:
        """Every event topic recorded so far."""
        return sorted(row["topic"] for row in self._all("SELECT DISTINCT topic FROM {events}"))

    # Outbox ---------------------------------------------------------------------------------------

    def _outbox(self, where: str, params: Any) -> list[dict[str, Any]]:
        columns = ", ".join(outbox_table.COLUMNS)
        rows = [_outbox_row(dict(row)) for row in self._all(f"SELECT {columns} FROM {{schema}}.outbox {where}",
                                                            params)]
        wanted = {row["origin"] for row in rows if row["message"] is None and row["origin"] is not None}
        if wanted:
            requested = {record.position: orjson.loads(record.state) for record in self.records_at(wanted)}
            for row in rows:
                if row["message"] is None and row["origin"] in requested:
                    row["message"] = requested[row["origin"]]["notifications"][row["item"]]["message"]
        return rows

    def due_notifications(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Notifications waiting for a delivery attempt at or before `now`, the earliest first.

        A writer (`write_under`) claims them: rows are taken `FOR UPDATE SKIP LOCKED` and marked with its lease's
        session, only while that session holds the lease (`LeaseLost` otherwise). Only the lease's holder claims,
        so a row claimed by another session was claimed by a past writer and is taken over. Two coordinators are
        never handed one notification in one moment; one the past writer was sending when it was cut off may be
        sent again (delivery is at least once, and each message carries its idempotency key)."""
        if self.claimer is None:
            return self._outbox(f"WHERE {_WAITING} AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s",
                                (now, limit))
        with self.datastore.transaction(commit=True) as c:
            self._check_lease(c)
            c.execute(self._sql(
                "WITH due AS (SELECT id FROM {schema}.outbox WHERE " + _WAITING + " AND next_attempt_at <= %(now)s"
                " ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                " UPDATE {schema}.outbox o SET claimed_by = %(me)s FROM due WHERE o.id = due.id RETURNING o.id"),
                {**self._lease_key(), "now": now, "limit": limit})
            claimed = [row["id"] for row in c.fetchall()]
        if not claimed:
            return []
        return self._outbox("WHERE id = ANY(%s) ORDER BY next_attempt_at, id", (claimed,))

    def upcoming_notifications(self, limit: int) -> list[tuple[str, datetime]]:
        """The key and due time of the first `limit` notifications waiting for an attempt, the earliest first."""
        rows = self._all(f"SELECT key, next_attempt_at FROM {{schema}}.outbox WHERE {_WAITING}"
                         " ORDER BY next_attempt_at, id LIMIT %s", (limit,))
        return [(_text_of(row["key"]), row["next_attempt_at"].astimezone(UTC)) for row in rows]

    def notifications(
        self, status: str | None = None, limit: int | None = None, after: int = 0
    ) -> list[dict[str, Any]]:
        """Notifications, newest first (only those queued after id `after`, if given)."""
        where, params = "WHERE id > %s", list[Any]([after])
        if status:
            where += " AND status = %s"
            params.append(status)
        where += " ORDER BY id DESC"
        if limit is not None:
            where += " LIMIT %s"
            params.append(limit)
        return self._outbox(where, params)

    def notification_counts(self) -> dict[str, int]:
        """How many notifications are pending, delivered, failed and dead."""
        found = dict.fromkeys(outbox_table.STATUSES, 0)
        found.update({row["status"]: int(row["n"]) for row in
                      self._all("SELECT status, COUNT(*) AS n FROM {schema}.outbox GROUP BY status")})
        return found

    def requeue_notifications(self, now: datetime, key_or_id: str | None = None) -> int:
        """Make one (by key or id) or every dead notification deliverable again."""
        with self.datastore.transaction(commit=True) as c:
            if key_or_id is None:
                c.execute(self._sql("UPDATE {schema}.outbox SET status = 'pending', attempts = 0,"
                                    " next_attempt_at = %s WHERE status = 'dead'"), (now,))
            else:
                c.execute(self._sql("UPDATE {schema}.outbox SET status = 'pending', attempts = 0,"
                                    " next_attempt_at = %s WHERE (key = %s OR CAST(id AS text) = %s)"
                                    " AND status IN ('dead', 'failed')"), (now, _b(key_or_id), key_or_id))
            return int(c.rowcount)

    def attempt_positions(self, keys: Sequence[str]) -> list[int]:
        """Where in the event log the attempts to deliver the notifications `keys` are recorded, in log order."""
        rows = self._all("SELECT DISTINCT a.position FROM {schema}.outbox o JOIN {schema}.delivery_attempts a"
                         " ON a.outbox_id = o.id WHERE o.key = ANY(%s) ORDER BY a.position",
                         ([_b(key) for key in keys],))
        return [int(row["position"]) for row in rows]

    def writer(self) -> str | None:
        """Who holds the store's writer lease now, as people read it (None when nobody does)."""
        from adapters.postgres_lease import describe, holder_of

        with self.datastore.get_connection() as conn:
            found = holder_of(conn, self.datastore.schema)
        return None if found is None else describe(found)

    def hives(self, stores: Mapping[str, str]) -> dict[str, str | None]:
        """Who writes each of the hives whose `stores` are given by name (schemas of this server), as people read
        it (None: nobody)."""
        from adapters.postgres_lease import describe, holder_of

        found: dict[str, str | None] = {}
        with self.datastore.get_connection() as conn:
            for name, url in stores.items():
                holder = holder_of(conn, store_url.schema_of(url))
                found[name] = None if holder is None else describe(holder)
        return found

    # Quarantine -----------------------------------------------------------------------------------

    def quarantine_count(self) -> int:
        """How many items are in quarantine."""
        return int(self._all("SELECT COUNT(*) AS n FROM {schema}.quarantine")[0]["n"])

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined item, oldest first."""
        columns = ", ".join(quarantine_table.COLUMNS)
        rows = self._all(f"SELECT {columns} FROM {{schema}}.quarantine ORDER BY id")
        return [{**row, "source": _s(row["source"]), "raw": _s(row["raw"]), "reason": _s(row["reason"]),
                 "recorded_at": _text(row["recorded_at"])} for row in rows]


def _hex(originator_id: UUID | str) -> str:
    """An aggregate id as 32 hex digits, as the SQLite store and every reader of the log keep it."""
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def _uuid(originator_id: str) -> UUID | str:
    """An aggregate id as the events table keys it (an id that is no UUID matches nothing)."""
    try:
        return UUID(originator_id)
    except ValueError:
        return UUID(int=0)


EVENTS_TABLE = "coordinator_events"
"""The events table eventsourcing names after the application (`Coordinator.name`)."""
