"""Crisis log read model: one row per crisis episode of a task, with its audit timeline and responses.

An episode starts when a task enters RED (or EMERGENCY) from below RED and ends when the task drops below
RED (`de-escalated`) or is resolved. Notifications requested for instants within it are its responses (a
command records them after the changes that caused them, so some follow the episode's end); deliveries,
even much later, are matched to it by the request number in their key. Each event an episode gathers is
appended to `crisis_steps` as a small row keyed by its position in the event log (the step's `seq`) and episode; its
details, and the responses read from them, come from the event store when asked for, so a rebuild writes
little. Only events whose content decides something are decoded (stage changes, reassignments,
acknowledgements, a task's latest alert, observations); of a request or delivery just its instant or key
number is read from the stored JSON.

An observation of the hive (`Hive.Observed`) is a step of the open episode of the task it names, or, naming only
an agent, of every open episode that started while that agent held the task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.records import (
    DELIVERIES_KIND,
    REQUEST_NUMBER_IN_JSON,
    Record,
    aggregate_key,
    attempts_of,
    event_kind,
    instant,
    state_of,
    subject_key,
    utc_text,
)
from domain.notifications import NotificationKey
from projections import versions
from projections.base import Projection
from projections.sliced import sliced_task_requests
from projections.sql import select_in, upsert

if TYPE_CHECKING:
    import sqlite_utils

Row = dict[str, Any]
LOG, STEPS, TASKS, RANGES = "crisis_log", "crisis_steps", "crisis_tasks", "crisis_ranges"
SILENCES = "crisis_silences"
"""Per agent, the latest alert that said it went silent: the cause of a crisis its silence brought about."""
LOG_COLUMNS = ("id", "task_id", "agent_id", "started_at", "severity", "reason", "original_event",
               "acknowledged_by", "acknowledged_at", "ended_at", "end", "resolution_seconds")
TASK_COLUMNS = ("id", "task_id", "agent_id", "alert", "episode", "closed")
CRISIS = frozenset({"RED", "EMERGENCY"})
_LOG_SQL = ", ".join(f'"{column}"' for column in LOG_COLUMNS)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Stored JSON escapes quotes inside strings, so these match the fields themselves (else the event is decoded).
_AT = re.compile(rb'"at":"([^"\\]+)"')
_SCHEMA = f"""
    CREATE TABLE IF NOT EXISTS {LOG} (id INTEGER PRIMARY KEY, task_id TEXT, agent_id TEXT, started_at TEXT,
        severity TEXT, reason TEXT, original_event TEXT, acknowledged_by TEXT, acknowledged_at TEXT, ended_at TEXT,
        "end" TEXT, resolution_seconds REAL);
    CREATE INDEX IF NOT EXISTS idx_{LOG}_task ON {LOG} (task_id, started_at);
    CREATE INDEX IF NOT EXISTS idx_{LOG}_agent ON {LOG} (agent_id, started_at);
    CREATE TABLE IF NOT EXISTS {STEPS} (seq INTEGER, episode_id INTEGER, step TEXT, PRIMARY KEY (seq, episode_id))
        WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS {TASKS} (id TEXT PRIMARY KEY, task_id TEXT, agent_id TEXT, alert TEXT,
        episode INTEGER, closed INTEGER);
    CREATE INDEX IF NOT EXISTS idx_{TASKS}_name ON {TASKS} (task_id);
    CREATE TABLE IF NOT EXISTS {RANGES} (episode_id INTEGER PRIMARY KEY, task TEXT, first INTEGER, last INTEGER);
    CREATE TABLE IF NOT EXISTS {SILENCES} (agent_id TEXT PRIMARY KEY, alert TEXT);
    CREATE INDEX IF NOT EXISTS idx_{RANGES}_task ON {RANGES} (task)
"""
_WRITES = {
    TASKS: upsert(TASKS, TASK_COLUMNS, ("id",)),
    LOG: upsert(LOG, LOG_COLUMNS, ("id",)),
    RANGES: upsert(RANGES, ("episode_id", "first", "last", "task"), ("episode_id",)),
    SILENCES: upsert(SILENCES, ("agent_id", "alert"), ("agent_id",)),
}


@dataclass(slots=True)
class _Task:
    """Per task: name, agent, last raw alert, open episode, and the episode its last event closed.

    `pending`: the latest alert event, decoded only when needed; `saved`: the row as read.
    """

    key: str
    task_id: str | None = None
    agent_id: str | None = None
    alert: str | None = None
    episode: int | None = None
    closed: int | None = None
    pending: Record | None = None
    saved: tuple[Any, ...] | None = None

    def row(self) -> tuple[Any, ...]:
        return self.key, self.task_id, self.agent_id, self.alert, self.episode, self.closed


@dataclass(slots=True)
class _Page:
    """One page's working set: the rows it read and what it will write."""

    db: sqlite_utils.Database
    tasks: dict[str, _Task] = field(default_factory=dict)
    episodes: dict[int, Row] = field(default_factory=dict)
    ranges: dict[int, list[Any]] = field(default_factory=dict)
    """Per episode: [episode id, first and last number in its requests' keys (they grow per task), task key]."""
    by_task: dict[str, list[list[Any]]] = field(default_factory=dict)
    steps: list[tuple[int, int, str]] = field(default_factory=list)
    dirty: set[int] = field(default_factory=set)
    moved: set[int] = field(default_factory=set)
    silences: dict[str, str | None] = field(default_factory=dict)
    """Per agent: the raw alert that last said it went silent (as stored, or as this page has followed it)."""
    silenced: set[str] = field(default_factory=set)
    """Agents this page said went silent (their latest silence is stored)."""
    named: dict[str, _Task] = field(default_factory=dict)
    """The page's tasks by name, for the observations that name one."""
    attempted: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    """Per (position of a batch of the delivery stream, task key): the request numbers of its attempts for the task."""

    def silence_of(self, agent_id: str | None) -> str | None:
        """The latest alert recorded so far that said `agent_id` went silent (events are recorded in the order they
        were decided, so it is the one behind an escalation by the silence rule)."""
        if agent_id is None:
            return None
        if agent_id not in self.silences:
            row = self.db.conn.execute(f"SELECT alert FROM {SILENCES} WHERE agent_id = ?", (agent_id,)).fetchone()
            self.silences[agent_id] = None if row is None else row[0]
        return self.silences[agent_id]

    def step(self, episode_id: int, record: Record, step: str) -> None:
        """Append the event as a step of the episode (its `seq` is the event's position, its detail's key)."""
        self.steps.append((record.position, episode_id, step))


class CrisisProjection(Projection):
    """`crisis_log` (one row per episode) and `crisis_steps` (its timeline), with small state tables."""

    name = "crisis"
    version = versions.CRISIS
    tables = (LOG, STEPS, TASKS, RANGES, SILENCES)
    weight = 2.0

    def create_tables(self, db: sqlite_utils.Database) -> None:
        """Create the tables (idempotent)."""
        for statement in _SCHEMA.split(";"):
            db.conn.execute(statement)

    def apply(self, db: sqlite_utils.Database, records: Sequence[Record]) -> None:
        """Apply a page: load the state of the tasks it touches, follow their events, write what changed."""
        relevant: list[tuple[str, str, Record]] = []
        attempted: dict[tuple[int, str], list[int]] = {}
        for record in records:
            kind = event_kind(record.topic)
            if kind == DELIVERIES_KIND:  # many attempts: a delivery step of each task they were for
                numbers = _task_requests(record, kind)
                attempted.update(((record.position, key), found) for key, found in numbers.items())
                relevant += [(_DELIVERED, key, record) for key in numbers]
            elif kind in _HANDLERS:
                relevant.append((kind, aggregate_key(record), record))
        if not relevant:
            return
        page = _load(db, relevant)
        page.attempted = attempted
        for kind, key, record in relevant:
            if kind in _NOT_TASKS:  # an agent's or the hive's event: no task of its own
                _NOT_TASKS[kind](page, _Task(key), record)
                continue
            task = page.tasks.get(key)
            if task is None:
                task = page.tasks[key] = _Task(key)
            if kind != "Task.NotificationsRequested":
                task.closed = None
            _HANDLERS[kind](page, task, record)
        _save(db, page)


def _task_requests(record: Record, kind: str) -> dict[str, list[int]]:
    """Per task (by its key), the request numbers of a batch's attempts for it: sliced from the stored JSON when it is
    plain (`projections.sliced`), else read from the decoded attempts."""
    sliced = sliced_task_requests(record.state)
    if sliced is not None:
        return {subject_key("task", name): found for name, found in sliced.items()}
    numbers: dict[str, list[int]] = {}
    for attempt in attempts_of(record, kind):
        if attempt.subject_kind == "task":
            numbers.setdefault(subject_key("task", attempt.subject), []).append(attempt.key.request)
    return numbers


def _load(db: sqlite_utils.Database, relevant: list[tuple[str, str, Record]]) -> _Page:
    """The page's tasks, their open (or just closed) episodes, and the request ranges its events may need."""
    page = _Page(db)
    sql = f"SELECT {', '.join(TASK_COLUMNS)} FROM {TASKS} WHERE id IN"
    observed = [state_of(record) for kind, _, record in relevant if kind == _OBSERVED]
    names = {state["task_id"] for state in observed if state.get("task_id")}
    for row in [*select_in(db, sql, {key for _, key, _ in relevant}),
                *select_in(db, sql.replace("WHERE id IN", "WHERE task_id IN"), names)]:
        page.tasks[row[0]] = task = _Task(*row)
        task.saved = row
    page.named = {task.task_id: task for task in page.tasks.values() if task.task_id is not None}
    wanted = {ep for task in page.tasks.values() for ep in (task.episode, task.closed) if ep is not None}
    agents = {state["agent_id"] for state in observed if state.get("agent_id") and not state.get("task_id")}
    for row in [*select_in(db, f"SELECT {_LOG_SQL} FROM {LOG} WHERE id IN", wanted),
                *select_in(db, f'SELECT {_LOG_SQL} FROM {LOG} WHERE "end" IS NULL AND agent_id IN', agents)]:
        page.episodes[row[0]] = dict(zip(LOG_COLUMNS, row, strict=True))
    delivered = {key for kind, key, _ in relevant if kind in _DELIVERIES}
    for column, values in (("episode_id", wanted), ("task", delivered)):
        for episode_id, first, last, owner in select_in(
            db, f"SELECT episode_id, first, last, task FROM {RANGES} WHERE {column} IN", values
        ):
            page.ranges[episode_id] = [episode_id, first, last, owner]
    for entry in sorted(page.ranges.values()):
        page.by_task.setdefault(entry[3], []).append(entry)
    return page


def _save(db: sqlite_utils.Database, page: _Page) -> None:
    for task in page.tasks.values():
        _settle(task)
    conn = db.conn
    conn.executemany(_WRITES[TASKS], [row for task in page.tasks.values() if (row := task.row()) != task.saved])
    conn.executemany(_WRITES[LOG], [tuple(page.episodes[episode_id].values()) for episode_id in page.dirty])
    conn.executemany(f"INSERT INTO {STEPS} (seq, episode_id, step) VALUES (?, ?, ?)", page.steps)
    conn.executemany(_WRITES[RANGES], [page.ranges[episode_id] for episode_id in page.moved])
    conn.executemany(_WRITES[SILENCES], [(agent_id, page.silences[agent_id]) for agent_id in page.silenced])


def _settle(task: _Task) -> None:
    """Decode the task's latest alert event, kept undecoded until now: its raw alert and the agent it leaves."""
    record, task.pending = task.pending, None
    if record is not None:
        state = state_of(record)
        task.alert, task.agent_id = _ENCODE(state["alert"]), state["agent_id"]


# Handlers: (page, task, record) for each kind of task event that can matter to an episode.


def _registered(page: _Page, task: _Task, record: Record) -> None:
    task.task_id = state_of(record)["task_id"]
    page.named[str(task.task_id)] = task


def _alert(page: _Page, task: _Task, record: Record) -> None:
    task.pending = record
    if task.episode is not None:
        page.step(task.episode, record, "alert")


def _escalated(page: _Page, task: _Task, record: Record) -> None:
    state = state_of(record)
    to_stage = state["to_stage"]
    if to_stage not in CRISIS or (task.episode is None and state["from_stage"] in CRISIS):
        return
    if task.episode is None:
        _settle(task)
        task.episode = record.position
        started = utc_text(state["at"]) or ""
        cause = page.silence_of(task.agent_id) if state.get("rule") == SILENCE_RULE else None
        page.episodes[record.position] = dict(zip(LOG_COLUMNS, (
            record.position, task.task_id, task.agent_id, started, to_stage, state["reason"], cause or task.alert,
            None, None, None, None, None), strict=True))
    if to_stage == "EMERGENCY":
        page.episodes[task.episode]["severity"] = "EMERGENCY"
    page.dirty.add(task.episode)
    page.step(task.episode, record, "escalation")


def _de_escalated(page: _Page, task: _Task, record: Record) -> None:
    if task.episode is not None:
        state = state_of(record)
        if state["to_stage"] in CRISIS:
            page.step(task.episode, record, "escalation")
        else:
            _end(page, task, record, state, "de-escalated")


def _resolved(page: _Page, task: _Task, record: Record) -> None:
    if task.episode is not None:
        _end(page, task, record, state_of(record), "resolved")


def _end(page: _Page, task: _Task, record: Record, state: Row, end: str) -> None:
    assert task.episode is not None
    episode = page.episodes[task.episode]
    seconds = (instant(state["at"]) - instant(episode["started_at"])).total_seconds()
    episode.update(ended_at=utc_text(state["at"]), end=end, resolution_seconds=seconds)
    page.dirty.add(task.episode)
    page.step(task.episode, record, end)
    task.episode, task.closed = None, task.episode


def _reassigned(page: _Page, task: _Task, record: Record) -> None:
    _settle(task)
    task.agent_id = state_of(record)["to_agent"]
    if task.episode is not None:
        page.step(task.episode, record, "reassigned")


def _requested(page: _Page, task: _Task, record: Record) -> None:
    """Requests for instants within the open episode, or within the one that the command under way closed."""
    episode_id = task.episode if task.episode is not None else task.closed
    if episode_id is None:
        return
    found = _AT.search(record.state)
    episode, moment = page.episodes[episode_id], instant(found.group(1).decode() if found else state_of(record)["at"])
    if moment < instant(episode["started_at"]) or (task.episode is None and moment > instant(episode["ended_at"])):
        return
    number = _key_number(record, lambda state: state["notifications"][0]["key"])
    entry = page.ranges.get(episode_id)
    if entry is None:
        page.ranges[episode_id] = entry = [episode_id, number, 0, task.key]
        page.by_task.setdefault(task.key, []).append(entry)
    entry[2] = number
    page.moved.add(episode_id)
    page.step(episode_id, record, "notification")


def _acknowledged(page: _Page, task: _Task, record: Record) -> None:
    if task.episode is not None:
        state = state_of(record)
        page.episodes[task.episode].update(acknowledged_by=state["by"], acknowledged_at=utc_text(state["at"]))
        page.dirty.add(task.episode)
        page.step(task.episode, record, "acknowledged")


def _delivery(page: _Page, task: _Task, record: Record) -> None:
    """Delivery attempts for the task: a step of each episode whose requests they delivered."""
    ranges = page.by_task.get(task.key)
    if not ranges:
        return
    stepped: set[int] = set()
    numbers = page.attempted.get((record.position, task.key))
    for number in numbers if numbers is not None else [_key_number(record, lambda state: state["key"])]:
        for episode_id, first, last, _ in reversed(ranges):
            if first <= number <= last:
                if episode_id not in stepped:
                    stepped.add(episode_id)
                    page.step(episode_id, record, "delivery")
                break


def _key_number(record: Record, key: Callable[[Row], str]) -> int:
    """The request number in the (first) notification key of a stored request or delivery event."""
    found = REQUEST_NUMBER_IN_JSON.search(record.state)
    return int(found.group(1)) if found else NotificationKey.parse(key(state_of(record))).request


_DELIVERED = "Task.NotificationDelivered"
_DELIVERIES = frozenset({_DELIVERED, "Task.DeliveryFailed"})
def _silent(page: _Page, task: _Task, record: Record) -> None:
    """An agent was said to have gone silent: remember the alert that said so."""
    alert = state_of(record)["alert"]
    agent_id = str(alert.get("agent_id"))
    page.silences[agent_id] = _ENCODE(alert)
    page.silenced.add(agent_id)


def _observed(page: _Page, task: _Task, record: Record) -> None:
    """The hive observed a record: a step of the open episode of the task it names, else of every open episode of
    the agent it names."""
    state = state_of(record)
    if state.get("task_id"):
        named = page.named.get(state["task_id"])
        if named is not None and named.episode is not None:
            page.step(named.episode, record, "observation")
    elif state.get("agent_id"):
        for episode in page.episodes.values():
            if episode["end"] is None and episode["agent_id"] == state["agent_id"]:
                page.step(episode["id"], record, "observation")


_SILENT = "Agent.MarkedUnresponsive"
_OBSERVED = "Hive.Observed"
_NOT_TASKS = {_SILENT: _silent, _OBSERVED: _observed}
SILENCE_RULE = "silence"
"""The rule named by a level change that an agent's silence brought about (`domain.rules.SILENCE`)."""

_HANDLERS = {
    "Task.Registered": _registered, "Task.AlertReceived": _alert, "Task.Escalated": _escalated,
    "Task.DeEscalated": _de_escalated, "Task.Resolved": _resolved, "Task.Reassigned": _reassigned,
    "Task.NotificationsRequested": _requested, "Task.Acknowledged": _acknowledged,
    "Task.NotificationDelivered": _delivery, "Task.DeliveryFailed": _delivery, **_NOT_TASKS,
}
