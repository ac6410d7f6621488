"""The coordinator's health indicators, from the read models and a few numbers the caller knows.

Plain SQL over any connection with `execute` (sqlite3 or sqlite-utils), importing nothing heavy, so that
`coordinator status` can answer in a few milliseconds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol


class Executes(Protocol):
    """A database connection: sqlite3's or sqlite-utils'."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any:
        """Run one statement."""
        ...


RESPONSE_TOTALS = "SELECT delivered, micros FROM response_totals WHERE id = 1"


def health(
    views_db: Executes,
    *,
    events_recorded: int,
    projection_lag: int,
    quarantined: int,
    crises: int,
    service: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The health document, in the seed's shape plus `quarantined` and `projection_lag`.

    `views_db` holds the metrics tables (missing tables count as empty). `crises`: open tasks in crisis (RED or
    EMERGENCY). `service` describes a running coordinator service (`{"pid": ..., "started_at": ISO 8601}`),
    None when none runs (`standby` true in it: one waiting to take over writing to a PostgreSQL store); uptime is
    counted to `now` (default: the current time). `avg_response_time` is the mean seconds from a notification's
    request to its delivery, to the millisecond.
    """
    warnings = _scalar(views_db, "SELECT count FROM alert_counts WHERE alert_type = 'DEADLINE_WARNING'")
    delivered, micros = _row(views_db, RESPONSE_TOTALS) or (0, 0)
    average = micros / 1e6 / delivered if delivered else None
    return {
        "coordinator_status": "stopped" if service is None else "standby" if service.get("standby") else "running",
        "pid": None if service is None else service.get("pid"),
        "uptime": _uptime(service, now),
        "events_processed": events_recorded,
        "coordination_crises": crises,
        "deadline_warnings": int(warnings or 0),
        "responses_sent": int(delivered or 0),
        "avg_response_time": None if average is None else round(float(average), 3),
        "quarantined": quarantined,
        "projection_lag": projection_lag,
    }


def open_crises(views_db: Executes) -> int:
    """Open tasks at RED (or EMERGENCY), from the status read model."""
    return int(_scalar(views_db, "SELECT COUNT(*) FROM task_status WHERE status = 'open' AND level = 'RED'") or 0)


def _row(db: Executes, sql: str) -> tuple[Any, ...] | None:
    try:
        row = db.execute(sql).fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return None
        raise
    return None if row is None else tuple(row)


def _scalar(db: Executes, sql: str) -> Any:
    row = _row(db, sql)
    return None if row is None else row[0]


def _uptime(service: Mapping[str, Any] | None, now: datetime | None) -> float | None:
    """Seconds since the service started (never negative), or None when unknown."""
    if service is None or not service.get("started_at"):
        return None
    started = datetime.fromisoformat(str(service["started_at"]))
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    moment = now or datetime.now(UTC)
    return round(max((moment - started).total_seconds(), 0.0), 3)
