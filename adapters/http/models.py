"""The documents the HTTP API answers with: the same as the command line's `--json`, described for OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HistoryEntry(_Document):
    """One level change: when, from and to which level, and why."""

    at: str
    from_level: str = Field(alias="from")
    to: str
    emergency: bool
    reason: str


class TaskSummary(_Document):
    """A task as `task list` shows it (`acknowledged_*`: who took charge of its open crisis, and when)."""

    task_id: str
    agent_id: str | None
    level: str
    emergency: bool
    status: str
    deadline: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None


class TaskDocument(TaskSummary):
    """A task as `task show` shows it, with its whole history."""

    history: list[HistoryEntry]


class AcknowledgedTask(TaskDocument):
    """A task whose crisis someone took charge of (`changed` false, with the `reason`, when nothing was recorded:
    no open crisis, or one already acknowledged)."""

    changed: bool
    reason: str | None = None


class ResolvedTask(TaskDocument):
    """A task closed by hand (`changed` is false when it was already completed)."""

    resolved_by: str | None = None
    note: str | None = None
    changed: bool = True


class AgentSummary(_Document):
    """An agent as `agent list` shows it."""

    agent_id: str
    level: str
    emergency: bool
    responsive: bool
    last_activity: str | None
    tasks: list[str]


class AgentDocument(AgentSummary):
    """An agent as `agent show` shows it, with its history."""

    history: list[HistoryEntry]


class NotificationDocument(_Document):
    """A notification and where its delivery stands."""

    id: int
    key: str
    subject: str
    recipient: str
    priority: str
    kind: str
    status: str
    attempts: int
    channel: str | None
    requested_at: str | None
    delivered_at: str | None
    next_attempt_at: str | None
    last_error: str | None
    message: str


class QuarantinedItem(_Document):
    """Input that was refused: where it came from, why, and its raw text."""

    source: str
    line: int | None
    reason: str
    raw: str


class Health(_Document):
    """The health indicators of `coordinator status --json`."""

    coordinator_status: str
    pid: int | None
    uptime: float | None
    events_processed: int
    coordination_crises: int
    deadline_warnings: int
    responses_sent: int
    avg_response_time: float | None
    quarantined: int
    projection_lag: int
    http: str | None
    writer: str | None = None
    """Who writes to the event store now: the home's service, or the coordinator holding a PostgreSQL store's
    writer lease (`run (pid 42 on host-a, since ...)`)."""
    hives: dict[str, str | None] | None = None
    """On a PostgreSQL store with hives: each hive by name, with who writes it now (None: nobody)."""


class Reject(_Document):
    """An item of a request that was quarantined: its place in the request and why."""

    index: int | None
    reason: str


class IngestResult(_Document):
    """What became of the alerts of a request (all of it is recorded before this answer): alerts applied (mapped
    records included), records kept as observations only, duplicates and quarantined items."""

    processed: int
    observed: int
    duplicates: int
    quarantined: int
    rejects: list[Reject]


class RetryResult(_Document):
    """Notifications made deliverable again, and what their delivery did."""

    requeued: int
    delivered: int
    failed: int
    dead: int


class Episode(BaseModel):
    """A crisis episode with its steps and responses (see `coordinator audit --json`)."""

    model_config = ConfigDict(extra="allow")

    id: int
    task_id: str
    agent_id: str | None
    severity: str
    started_at: str
    steps: list[dict[str, Any]]
    responses: list[dict[str, Any]]


class Problem(_Document):
    """Why a request was refused."""

    detail: str


Who = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
"""A person's name: surrounding blanks dropped, and never blank."""


class AckRequest(_Document):
    """Who takes charge."""

    by: Who


class ResolveRequest(_Document):
    """Who closes the task, and why."""

    by: Who
    note: str | None = Field(default=None, max_length=65_536)


class RetryRequest(_Document):
    """One notification (by id or key), or every dead one."""

    id: int | str | None = None
    dead: bool = False
