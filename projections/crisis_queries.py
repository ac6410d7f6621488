"""Queries over the crisis log read model (`projections.crisis`): episodes with their steps and responses, the
upstream crisis log's lines, and how long crises took to resolve.

Steps are rows of `crisis_steps`; their details are their events as stored, read from the event store the read
models were built from, by position.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from app.records import (
    DELIVERIES_KIND,
    Attempt,
    Record,
    attempts_of,
    clock_of,
    event_kind,
    instant,
    records_by_id,
    with_fingerprint,
    zulu,
)
from app.stored_json import decode
from projections.base import ReadModels, event_source
from projections.crisis import LOG, LOG_COLUMNS, RANGES, STEPS

Row = dict[str, Any]
_LOG_SQL = ", ".join(f'"{column}"' for column in LOG_COLUMNS)
_CHUNK = 500
_BATCH = 5_000
_DECODE = json.JSONDecoder().decode

_PHRASES = {
    "crisis": "PM notified ({priority})", "emergency": "PM told of the emergency", "repeat": "PM reminded",
    "ping": "agent pinged", "assignment": "handed over to {recipient}", "status_check": "{recipient} asked for status",
    "reminder": "agent reminded", "deadline_warning": "PM warned of the deadline",
}


def episodes(
    db: ReadModels, task: str | None = None, agent: str | None = None,
    since: str | datetime | None = None, until: str | datetime | None = None,
) -> list[Row]:
    """Crisis episodes in recording order, each with its `responses` and its `steps` in time order.

    `task` / `agent`: only that task's episodes, or those that started while `agent` held the task.
    `since` / `until` (ISO 8601 text or datetime): only episodes that started within those bounds (inclusive).
    A step is {seq, at, step, detail}, `detail` being its event's fields as recorded (an alert's raw alert is
    `detail["alert"]`). A response is {at, recipient, priority, kind, key, message, delivered_at, status,
    channel, attempts, error}, `status` being pending, delivered, failed (to be retried) or dead.
    """
    where = [f"{column} = ?" for column, value in (("task_id", task), ("agent_id", agent)) if value is not None]
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    params = [value for value in (task, agent) if value is not None]
    rows = db.conn.execute(f"SELECT {_LOG_SQL} FROM {LOG} {clause}ORDER BY id", params)
    low, high = instant(since) if since else None, instant(until) if until else None
    found = [_episode(row) for row in rows
             if (low is None or instant(row[3]) >= low) and (high is None or instant(row[3]) <= high)]
    steps = _steps(db, {row["id"] for row in found})
    for row in found:
        row["steps"] = sorted(steps.get(row["id"], []), key=lambda step: (instant(step["at"]), step["seq"]))
        row["responses"] = _responses(steps.get(row["id"], []))
    return found


def crisis_log_lines(db: ReadModels) -> Iterator[Row]:
    """Every episode as a line of the upstream `coordination_crisis_log.json`, plus its task, agent and responses.

    `severity` is RED or EMERGENCY; `coordinator_response` sums up the responses and their delivery.
    """
    rows = [_episode(row) for row in db.conn.execute(f"SELECT {_LOG_SQL} FROM {LOG} ORDER BY id")]
    told: dict[int, dict[str, Row]] = {row["id"]: {} for row in rows}
    for episode_id, step in _step_stream(db, set(told), ("notification", "delivery")):
        _respond(told[episode_id], step)
    for row in rows:
        responses = list(told[row["id"]].values())
        yield {
            "timestamp": row["started_at"], "severity": row["severity"], "original_event": row["original_event"],
            "coordinator_response": coordinator_response(responses), "resolution_time": row["ended_at"],
            "task_id": row["task_id"], "agent_id": row["agent_id"], "responses": responses,
        }


def coordinator_response(responses: Sequence[Row]) -> str:
    """A short account of the responses: `PM notified (urgent), agent pinged; 2 of 2 delivered`."""
    if not responses:
        return "no notifications sent"
    phrases: dict[str, int] = {}
    for response in responses:
        phrase = _PHRASES.get(response["kind"], "{recipient} notified ({kind})").format(**response)
        phrases[phrase] = phrases.get(phrase, 0) + 1
    told = ", ".join(f"{phrase} {count} times" if count > 1 and "reminded" in phrase else phrase
                     for phrase, count in phrases.items())
    delivered = sum(response["status"] == "delivered" for response in responses)
    dead = sum(response["status"] == "dead" for response in responses)
    return f"{told}; {delivered} of {len(responses)} delivered" + (f", {dead} dead" if dead else "")


def resolution_stats(db: ReadModels) -> dict[str, Any]:
    """Count, mean, p50 and p90 (nearest rank) of ended episodes' `resolution_seconds`; None when none ended."""
    values = [row[0] for row in db.conn.execute(
        f"SELECT resolution_seconds FROM {LOG} WHERE resolution_seconds IS NOT NULL ORDER BY resolution_seconds")]
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p90": None}
    return {"count": len(values), "mean": sum(values) / len(values), "p50": _rank(values, 50), "p90": _rank(values, 90)}


def _rank(ordered: Sequence[float], percent: int) -> float:
    return ordered[max(math.ceil(percent / 100 * len(ordered)), 1) - 1]


def _episode(values: Sequence[Any]) -> Row:
    row = dict(zip(LOG_COLUMNS, values, strict=True))
    row["original_event"] = None if row["original_event"] is None else _DECODE(row["original_event"])
    return row


def _steps(db: ReadModels, wanted: set[int]) -> dict[int, list[Row]]:
    """The steps of the `wanted` episodes by episode, in recording order."""
    found: dict[int, list[Row]] = {}
    for episode_id, step in _step_stream(db, wanted):
        found.setdefault(episode_id, []).append(step)
    return found


def _step_stream(db: ReadModels, wanted: set[int], kinds: Sequence[str] = ()) -> Iterator[tuple[int, Row]]:
    """(episode id, step) of each step of the `wanted` episodes (only `kinds` if given), in recording order.

    Steps are appended in notification order, so an episode's steps all come at or after its id. Their details
    are their events as stored, read from the event store the read models were built from.
    """
    if not wanted:
        return
    sql = f"SELECT seq, episode_id, step FROM {STEPS} WHERE seq >= ?"
    params: list[Any] = [min(wanted)]
    for column, values in (("step", kinds), ("episode_id", sorted(wanted) if len(wanted) <= _CHUNK else ())):
        if values:
            sql += f" AND {column} IN ({','.join('?' * len(values))})"
            params.extend(values)
    source, rows = event_source(db), db.conn.execute(sql + " ORDER BY seq", params)
    attempts = _EpisodeAttempts(db)
    while batch := rows.fetchmany(_BATCH):
        batch = [row for row in batch if row[1] in wanted]
        stored = records_by_id(source, [row[0] for row in batch])
        for seq, episode_id, step in batch:
            record = stored[seq]
            kind = event_kind(record.topic)
            if kind == DELIVERIES_KIND:
                for attempt in attempts.of(episode_id, record):
                    detail = zulu(attempt.state)
                    yield episode_id, {"seq": seq, "at": detail["at"], "step": step,
                                       "clock": clock_of(attempt.kind, detail), "detail": detail}
                continue
            detail = zulu(with_fingerprint(kind, decode(record.state)))
            at = detail.get("at")  # an observation without a time of its own: when it was recorded
            clock = clock_of(kind, detail) if at is not None else "wall"
            yield episode_id, {"seq": seq, "at": at or detail.get("timestamp"), "step": step, "clock": clock,
                               "detail": detail}


class _EpisodeAttempts:
    """Which of a delivery batch's attempts belong to an episode: those for its task's requests in its range."""

    def __init__(self, db: ReadModels) -> None:
        self.db = db
        self.episodes: dict[int, tuple[str | None, int, int]] = {}

    def of(self, episode_id: int, record: Record) -> list[Attempt]:
        """The attempts `record` (a delivery batch) records for the episode's notifications, in order."""
        if episode_id not in self.episodes:
            row = self.db.conn.execute(
                f"SELECT l.task_id, r.first, r.last FROM {LOG} l JOIN {RANGES} r ON r.episode_id = l.id"
                " WHERE l.id = ?", [episode_id]).fetchone()
            self.episodes[episode_id] = (row[0], row[1], row[2]) if row is not None else (None, 0, -1)
        task_id, first, last = self.episodes[episode_id]
        return [attempt for attempt in attempts_of(record)
                if attempt.subject_kind == "task" and attempt.subject == task_id
                and first <= attempt.key.request <= last]


def _responses(steps: Sequence[Row]) -> list[Row]:
    """The notifications requested in `steps` (in recording order), each with its latest delivery outcome."""
    responses: dict[str, Row] = {}
    for step in steps:
        _respond(responses, step)
    return list(responses.values())


def _respond(responses: dict[str, Row], step: Row) -> None:
    """Add the notifications a step requested to `responses` (by key), or the outcome of a delivery it made."""
    detail = step["detail"]
    if step["step"] == "notification":
        for told in detail["notifications"]:
            responses[told["key"]] = {
                "at": step["at"], **{name: told[name] for name in ("recipient", "priority", "kind", "key")},
                "message": told["message"], "delivered_at": None, "status": "pending", "channel": None,
                "attempts": 0, "error": None,
            }
    elif step["step"] == "delivery" and detail["key"] in responses:
        error = detail.get("error")
        responses[detail["key"]].update(
            status="delivered" if error is None else "dead" if detail.get("dead") else "failed",
            channel=detail["channel"], attempts=detail["attempt"], error=error,
            delivered_at=step["at"] if error is None else None,
        )
