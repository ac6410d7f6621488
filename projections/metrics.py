"""Operational metrics read model: event rates, escalations, alerts, observations, notification timing and SLA
breaches.

`MetricsProjection` keeps counters and one row per requested notification; `metrics` turns them into a
stable JSON document (`projections.prometheus` renders it in the Prometheus text exposition format).
Events per hour are counted by the business time of each event (its `at`; the recording time when it has none);
response times are wall-clock: from a notification's request to its first delivery attempt.

Rebuilds must be fast, so the few fields read from flat events (every event's timestamp, a delivery's key and
time, a level change's stage and rule, an alert's type, the keys requested) are sliced from the stored JSON
when it has the form the coordinator's codec writes (`projections.sliced`), and decoded with `state_of` otherwise.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from app.records import DELIVERIES_KIND, Record, aggregate_key, attempts_of, event_kind, state_of, utc_text
from domain.responses import SLA_SECONDS
from projections import versions
from projections.base import Projection, ReadModels
from projections.sliced import hour_of, recorded_wall, sliced_delivery, sliced_requests, text_field
from projections.sql import missing_table, select_in, upsert

if TYPE_CHECKING:
    import sqlite_utils

"""How long a notification may take from request to delivery, by the subject's stage (GREEN has no SLA)."""
SLA_LEVELS = ("YELLOW", "ORANGE", "RED")
MICROSECOND = timedelta(microseconds=1)
STATUSES = ("pending", "delivered", "failed", "dead")
Document = dict[str, Any]
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events_per_hour (hour TEXT PRIMARY KEY, events INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS escalation_counts (kind TEXT NOT NULL, rule TEXT NOT NULL, level TEXT NOT NULL,"
    " emergency INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (kind, rule, level, emergency))",
    "CREATE TABLE IF NOT EXISTS alert_counts (alert_type TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    # Observations by the record's own event_type, alert_type and severity ('' when it has none); mapped: how many
    # of them a mapping rule turned into an alert.
    "CREATE TABLE IF NOT EXISTS observation_counts (event_type TEXT NOT NULL, alert_type TEXT NOT NULL,"
    " severity TEXT NOT NULL, count INTEGER NOT NULL, mapped INTEGER NOT NULL,"
    " PRIMARY KEY (event_type, alert_type, severity))",
    # level: the subject's stage when the notification was requested (EMERGENCY kept); *_wall: UTC text, `Z`.
    "CREATE TABLE IF NOT EXISTS notification_timing (key TEXT PRIMARY KEY, subject_kind TEXT NOT NULL,"
    " level TEXT NOT NULL, priority TEXT, requested_wall TEXT NOT NULL, delivered_wall TEXT,"
    " attempts INTEGER NOT NULL, status TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS agent_activity (agent_id TEXT PRIMARY KEY, flagged INTEGER NOT NULL,"
    " seen INTEGER NOT NULL)",
    # Running totals of response times (request -> first delivery), so health reads one row; in whole microseconds,
    # so the total is the same however the events were paged.
    "CREATE TABLE IF NOT EXISTS response_totals (id INTEGER PRIMARY KEY CHECK (id = 1), delivered INTEGER NOT NULL,"
    " micros INTEGER NOT NULL)",
    "INSERT INTO response_totals VALUES (1, 0, 0) ON CONFLICT DO NOTHING",
    # Per aggregate: its kind, name and current stage (what a notification's level is read from).
    "CREATE TABLE IF NOT EXISTS metrics_subjects (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT,"
    " stage TEXT NOT NULL)",
)
TIMING = ("key", "subject_kind", "level", "priority", "requested_wall", "delivered_wall", "attempts", "status")
_COUNT = "INSERT INTO {0} VALUES ({1}?) ON CONFLICT ({3}) DO UPDATE SET {2} = {0}.{2} + excluded.{2}"
_WRITES = (
    _COUNT.format("events_per_hour", "?, ", "events", "hour"),
    _COUNT.format("escalation_counts", "?, ?, ?, ?, ", "count", "kind, rule, level, emergency"),
    _COUNT.format("alert_counts", "?, ", "count", "alert_type"),
    "INSERT INTO observation_counts VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_type, alert_type, severity)"
    " DO UPDATE SET count = observation_counts.count + excluded.count,"
    " mapped = observation_counts.mapped + excluded.mapped",
    "INSERT INTO agent_activity VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET"
    " flagged = agent_activity.flagged + excluded.flagged, seen = agent_activity.seen + excluded.seen",
    "INSERT INTO notification_timing VALUES (?, ?, ?, ?, ?, NULL, 0, 'pending') ON CONFLICT DO NOTHING",
    "INSERT INTO notification_timing VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    upsert("notification_timing", TIMING, ("key",)),
    upsert("metrics_subjects", ("id", "kind", "name", "stage"), ("id",)),
    "UPDATE response_totals SET delivered = delivered + ?, micros = micros + ? WHERE id = 1",
)


class MetricsProjection(Projection):
    """Counters and notification timings for dashboards, health checks and Prometheus."""

    name = "metrics"
    version = versions.METRICS
    tables = (
        "events_per_hour", "escalation_counts", "alert_counts", "observation_counts", "notification_timing",
        "agent_activity", "metrics_subjects", "response_totals",
    )
    weight = 3.0

    def create_tables(self, db: sqlite_utils.Database) -> None:
        for statement in _SCHEMA:
            db.conn.execute(statement)

    def apply(self, db: sqlite_utils.Database, records: Sequence[Record]) -> None:
        page = _Page()
        hours = Counter(map(hour_of, records))
        work: list[tuple[Handler, Record, str, str]] = []
        for record in records:
            route = _route(record.topic)
            if route is not None:
                handler, kind, keyed = route
                work.append((handler, record, kind, _key(record.originator_id) if keyed else ""))
        page.load(db, {key for *_, key in work if key})
        for handler, record, kind, key in work:
            handler(page, record, kind, key)
        notes = page.notes.values()
        earlier, delivered_before = page.attempted_earlier(db)
        totals = _responses([*notes, *earlier], delivered_before)
        rows: tuple[Iterable[Sequence[Any]], ...] = (
            [(hour.decode() + ":00Z", count) for hour, count in hours.items()],
            [(*group, count) for group, count in page.escalations.items()],
            page.alerts.items(),
            [(*group, *counts) for group, counts in page.observations.items()],
            [(agent_id, *counts) for agent_id, counts in page.activity.items()],
            [note[:5] for note in notes if not note[6]],
            [note for note in notes if note[6]],
            earlier,
            [page.subjects[key] for key in page.changed],
            [totals] if totals[0] else [],
        )
        for sql, batch in zip(_WRITES, rows, strict=True):
            db.conn.executemany(sql, batch)


class _Page:
    """What one page of events adds to the tables, gathered in memory and written with a few `executemany`."""

    def __init__(self) -> None:
        self.escalations: Counter[tuple[str, str, str, int]] = Counter()
        self.alerts: Counter[str] = Counter()
        self.observations: dict[tuple[str, str, str], list[int]] = {}
        """[count, mapped] by (event_type, alert_type, severity)."""
        self.activity: dict[str, list[int]] = {}
        self.notes: dict[str, list[Any]] = {}
        """Notifications requested on this page: their `notification_timing` rows, by key."""
        self.attempts: list[tuple[str, str | None, str]] = []
        """Outcomes of notifications requested on earlier pages: (status, at, key), in order."""
        self.subjects: dict[str, list[Any]] = {}
        """[id, kind, name, stage] of the aggregates this page touches."""
        self.changed: set[str] = set()

    def load(self, db: sqlite_utils.Database, keys: set[str]) -> None:
        sql = "SELECT id, kind, name, stage FROM metrics_subjects WHERE id IN"
        self.subjects.update((row[0], list(row)) for row in select_in(db, sql, keys))

    def attempted_earlier(self, db: sqlite_utils.Database) -> tuple[list[list[Any]], set[str]]:
        """The rows of the notifications requested on earlier pages this page has attempts of, with those attempts
        counted; and the keys of those already delivered before (for the running totals)."""
        sql = f"SELECT {', '.join(TIMING)} FROM notification_timing WHERE key IN"
        found = {row[0]: list(row) for row in select_in(db, sql, {note for _, _, note in self.attempts})}
        delivered = {key for key, row in found.items() if row[5] is not None}
        for status, at, note in self.attempts:
            row = found.get(note)
            if row is not None:  # (an attempt of a notification never requested here counts nowhere)
                _count(row, status, at)
        return list(found.values()), delivered

    def subject(self, key: str, kind: str, stage: str | None = None) -> list[Any]:
        """The aggregate's row (a new one if its registration was never seen), moved to `stage` if given."""
        found = self.subjects.get(key)
        if found is None:
            found = self.subjects[key] = [key, kind.partition(".")[0].lower(), None, "GREEN"]
            self.changed.add(key)
        if stage is not None:
            found[3] = stage
            self.changed.add(key)
        return found


Handler = Callable[[_Page, Record, str, str], None]


@lru_cache(maxsize=65_536)
def _key(originator_id: Any) -> str:
    return aggregate_key(Record(0, originator_id, 0, "", b""))


@lru_cache(maxsize=256)
def _route(topic: str) -> tuple[Handler, str, bool] | None:
    kind = event_kind(topic)
    handler = _HANDLERS.get(kind)
    return None if handler is None else (handler, kind, handler not in (_alert_received, _attempted, _batch, _observed))


def _registered(page: _Page, record: Record, kind: str, key: str) -> None:
    subject_kind = kind.partition(".")[0].lower()
    name = state_of(record).get(f"{subject_kind}_id")
    page.subjects[key] = [key, subject_kind, name, "GREEN"]
    page.changed.add(key)
    if subject_kind == "agent" and name is not None:
        page.activity.setdefault(str(name), [0, 0])


def _alert_received(page: _Page, record: Record, kind: str, key: str) -> None:
    page.alerts[text_field(record.state, b',"alert_type":"') or str(state_of(record)["alert_type"])] += 1


def _observed(page: _Page, record: Record, kind: str, key: str) -> None:
    state = state_of(record)
    written = state["record"]
    event_type, alert_type, severity = (value if isinstance(value := written.get(name), str) else ""
                                        for name in ("event_type", "alert_type", "severity"))
    counts = page.observations.setdefault((event_type, alert_type, severity), [0, 0])
    counts[0] += 1
    counts[1] += state.get("mapping") is not None


def _moved(page: _Page, record: Record, kind: str, key: str) -> None:
    if kind == "Task.Resolved":
        page.subject(key, kind, "GREEN")
        return
    stage, rule = text_field(record.state, b',"to_stage":"'), text_field(record.state, b',"rule":"', last=True)
    if stage is None or rule is None:  # not as the codec writes it, or from before events named their rule
        state = state_of(record)
        stage, rule = str(state["to_stage"]), str(state["rule"])
    page.subject(key, kind, stage)
    if kind.endswith(".Escalated"):
        emergency = stage == "EMERGENCY"
        page.escalations[(kind.partition(".")[0].lower(), rule, "RED" if emergency else stage, int(emergency))] += 1


def _requested(page: _Page, record: Record, kind: str, key: str) -> None:
    _, subject_kind, _, stage = page.subject(key, kind)
    wall = recorded_wall(record)
    for note, priority in _requests(record):
        page.notes[note] = [note, subject_kind, stage, priority, wall, None, 0, "pending"]


def _requests(record: Record) -> list[tuple[str, str | None]]:
    """(key, priority) of each notification requested."""
    return sliced_requests(record.state) or [
        (item["key"], item.get("priority")) for item in state_of(record)["notifications"]
    ]


def _attempted(page: _Page, record: Record, kind: str, key: str) -> None:
    delivered = kind.endswith("Delivered")
    sliced = sliced_delivery(record.state) if delivered else None
    if sliced is None:
        fields = state_of(record)
        note, at, dead = str(fields["key"]), str(utc_text(fields["at"])), bool(fields.get("dead"))
    else:
        (note, at), dead = sliced, False
    _attempt(page, note, at, "delivered" if delivered else "dead" if dead else "failed")


def _batch(page: _Page, record: Record, kind: str, key: str) -> None:
    for attempt in attempts_of(record, kind):
        fields = attempt.state
        status = "delivered" if attempt.delivered else "dead" if fields.get("dead") else "failed"
        _attempt(page, str(fields["key"]), str(utc_text(fields["at"])), status)


def _attempt(page: _Page, note: str, at: str, status: str) -> None:
    """Count one attempt on the notification `note` (or keep it for when that is found in an earlier page)."""
    row = page.notes.get(note)
    if row is None:
        page.attempts.append((status, at, note))
        return
    _count(row, status, at)


def _count(row: list[Any], status: str, at: str | None) -> None:
    """One attempt on the `notification_timing` row `row`: its status, unless it was delivered already, and when it
    was first delivered."""
    row[6] += 1
    if row[7] != "delivered":
        row[7] = status
    if status == "delivered" and row[5] is None:
        row[5] = at


def _responses(rows: Sequence[Sequence[Any]], delivered_before: set[str]) -> list[int]:
    """[notifications first delivered, microseconds from their requests] among `rows` of `notification_timing`
    (those whose keys are in `delivered_before` were counted on an earlier page)."""
    parse = datetime.fromisoformat
    fresh = [row for row in rows if row[5] is not None and row[0] not in delivered_before]
    return [len(fresh), sum((parse(row[5]) - parse(row[4])) // MICROSECOND for row in fresh)]


def _activity(page: _Page, record: Record, kind: str, key: str) -> None:
    flagged = kind == "Agent.MarkedUnresponsive"
    if flagged:
        page.alerts["AGENT_UNRESPONSIVE"] += 1
    agent_id = page.subject(key, kind)[2]
    if agent_id is not None:
        # one `ActivitySeen` may stand for several sightings in a row (only then does it say how many)
        times = 1 if flagged or b'"sightings"' not in record.state else int(state_of(record)["sightings"])
        page.activity.setdefault(agent_id, [0, 0])[0 if flagged else 1] += times


_HANDLERS: dict[str, Handler] = {
    "Task.Registered": _registered, "Agent.Registered": _registered, "Task.AlertReceived": _alert_received,
    "Task.Escalated": _moved, "Task.DeEscalated": _moved, "Agent.Escalated": _moved, "Agent.DeEscalated": _moved,
    "Task.Resolved": _moved, "Task.NotificationsRequested": _requested, "Agent.NotificationsRequested": _requested,
    "Task.NotificationDelivered": _attempted, "Agent.NotificationDelivered": _attempted,
    "Task.DeliveryFailed": _attempted, "Agent.DeliveryFailed": _attempted, DELIVERIES_KIND: _batch,
    "Agent.MarkedUnresponsive": _activity, "Agent.ActivitySeen": _activity, "Hive.Observed": _observed,
}


# Queries ------------------------------------------------------------------------------------------------------------


def table_rows(db: ReadModels, table: str, sql: str) -> list[Any]:
    """Rows of `sql` over `table`, or none when the metrics tables were never created in `db`."""
    try:
        return db.conn.execute(sql).fetchall()
    except sqlite3.OperationalError as error:
        if missing_table(error):
            return []
        raise


def notification_statuses(db: ReadModels) -> dict[str, int]:
    """How many requested notifications are in each status (every status present, 0 when none)."""
    rows = table_rows(db, "notification_timing", "SELECT status, COUNT(*) FROM notification_timing GROUP BY status")
    return {**dict.fromkeys(STATUSES, 0), **{status: int(count) for status, count in rows}}


def response_seconds(db: ReadModels) -> list[tuple[str, float]]:
    """(subject's stage when requested, seconds from request to first delivery) of each delivered notification."""
    sql = "SELECT level, requested_wall, delivered_wall FROM notification_timing WHERE delivered_wall IS NOT NULL"
    parse = datetime.fromisoformat
    return [(stage, (parse(done) - parse(asked)).total_seconds()) for stage, asked, done in
            table_rows(db, "notification_timing", sql)]


def alert_counts(db: ReadModels) -> dict[str, int]:
    """Alerts received by type (AGENT_HEARTBEAT is not counted: it is a sign of life, not an alert)."""
    rows = table_rows(db, "alert_counts", "SELECT alert_type, count FROM alert_counts ORDER BY alert_type")
    return {alert_type: int(count) for alert_type, count in rows}


def observation_counts(db: ReadModels) -> list[dict[str, Any]]:
    """Observations by the record's event_type, alert_type and severity ('' for none), with how many were mapped."""
    rows = table_rows(db, "observation_counts", "SELECT event_type, alert_type, severity, count, mapped FROM"
                      " observation_counts ORDER BY event_type, alert_type, severity")
    return [{"event_type": event_type, "alert_type": alert_type, "severity": severity, "count": int(count),
             "mapped": int(mapped)} for event_type, alert_type, severity, count, mapped in rows]


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean rounded to microseconds, None for no values."""
    return round(sum(values) / len(values), 6) if values else None


def metrics(db: ReadModels) -> Document:
    """The metrics document (plain JSON values, stable order) over the metrics tables in `db`.

    Response times run from a notification's request (wall clock) to its first delivery; p50/p90 interpolate
    linearly between the nearest ranks. A delivered notification breaches its SLA when that time exceeds its
    subject's SLA (`SLA_SECONDS`; EMERGENCY is counted as RED).
    """
    hours = table_rows(db, "events_per_hour", "SELECT hour, events FROM events_per_hour ORDER BY hour")
    timings = response_seconds(db)
    ordered = sorted(seconds for _, seconds in timings)
    late = Counter("RED" if stage == "EMERGENCY" else stage for stage, seconds in timings
                   if seconds > SLA_SECONDS.get(stage, float("inf")))
    statuses = notification_statuses(db)
    requested = sum(statuses.values())
    escalations = table_rows(db, "escalation_counts", "SELECT kind, rule, level, emergency, count FROM"
                             " escalation_counts ORDER BY kind, rule, level, emergency")
    agents = table_rows(db, "agent_activity", "SELECT agent_id, flagged, seen FROM agent_activity ORDER BY agent_id")
    return {
        "events_processed": sum(int(events) for _, events in hours),
        "events_per_hour": [{"hour": hour, "events": int(events)} for hour, events in hours],
        "response_time": {"count": len(ordered), "mean_seconds": mean(ordered),
                          "p50_seconds": _quantile(ordered, 0.5), "p90_seconds": _quantile(ordered, 0.9)},
        "escalations": [
            {"kind": kind, "rule": rule, "level": level, "emergency": bool(emergency), "count": int(count)}
            for kind, rule, level, emergency, count in escalations
        ],
        "alerts": [{"alert_type": alert_type, "count": count} for alert_type, count in alert_counts(db).items()],
        "observations": observation_counts(db),
        "agent_responsiveness": [
            {"agent_id": agent_id, "flagged": int(flagged), "seen": int(seen),
             "rate": round(seen / (seen + flagged), 6) if seen + flagged else 1.0}
            for agent_id, flagged, seen in agents
        ],
        "notifications": {"requested": requested, **statuses,
                          "success_rate": round(statuses["delivered"] / requested, 6) if requested else None},
        "sla_breaches": {**{level: late[level] for level in SLA_LEVELS}, "total": sum(late.values())},
    }


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 6)
