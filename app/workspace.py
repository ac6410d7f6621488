"""A unit of work over tasks, agents and the hive: loads each aggregate once, tracks what changed."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate

from app.ledger import Ledger, LedgerBatch, TaskIndexEntry
from domain.agent import Agent
from domain.escalation import Escalating
from domain.hive import DEFAULT_HIVE, Hive
from domain.rules import AgentView
from domain.task import Task

A = TypeVar("A", bound=Aggregate)
ExtraDue = Callable[[Escalating], datetime | None]


class OpenTasks:
    """Which agent holds each open task (and which of those tasks are pinned), kept in step with every change."""

    def __init__(self, rows: list[tuple[str, str | None, bool]], agents: list[str]) -> None:
        self.holder: dict[str, str | None] = {}
        self.held: dict[str, set[str]] = {agent_id: set() for agent_id in agents}
        self.pinned: set[str] = set()
        for task_id, agent_id, pinned in rows:
            self.note(TaskIndexEntry(task_id, agent_id, True, None, pinned))

    def note(self, entry: TaskIndexEntry) -> None:
        """Record where a task now stands."""
        task_id = entry.task_id
        previous = self.holder.pop(task_id, None)
        if previous is not None:
            self.held[previous].discard(task_id)
        self.pinned.discard(task_id)
        if entry.open:
            self.holder[task_id] = entry.agent_id
            if entry.agent_id is not None:
                self.held.setdefault(entry.agent_id, set()).add(task_id)
            if entry.pinned:
                self.pinned.add(task_id)

    def know_agent(self, agent_id: str) -> None:
        """Count an agent with no open task yet."""
        self.held.setdefault(agent_id, set())


class Workspace:
    """Aggregates in play, kept across batches by the single writer (bounded LRU)."""

    def __init__(
        self, repository: Repository[UUID], ledger: Ledger, max_cached: int = 50_000, extra_due: ExtraDue | None = None
    ) -> None:
        self.repository = repository
        self.ledger = ledger
        self.max_cached = max_cached
        self.extra_due = extra_due
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._absent: set[UUID] = set()
        """Aggregates known to have no events yet (see `look_up`): they are registered without asking the store."""
        self._dirty: dict[UUID, Aggregate] = {}
        self.batch = LedgerBatch()
        self._open: OpenTasks | None = None

    def look_up(self, task_ids: Collection[str], agent_ids: Collection[str]) -> None:
        """Find out in one query which of these tasks and agents the store has never recorded, so a batch naming
        many new ones registers them without one lookup each (a round trip each on a server). Only a speed-up:
        an aggregate not looked up is read from the store as before, and one found absent stops being so the
        moment it is registered here (this workspace's store has one writer: this one)."""
        wanted = {Task.id_for(task_id) for task_id in task_ids} | {Agent.id_for(agent_id) for agent_id in agent_ids}
        unknown = {aggregate_id for aggregate_id in wanted if aggregate_id not in self._cache}
        self._absent = unknown - self.ledger.existing(unknown) if unknown else set()

    def task(self, task_id: str) -> Task:
        """The task named `task_id`, registered if new."""
        task = self._get(Task.id_for(task_id), Task)
        return task if task is not None else self._add(Task.register(task_id))

    def agent(self, agent_id: str) -> Agent:
        """The agent named `agent_id`, registered if new."""
        agent = self._get(Agent.id_for(agent_id), Agent)
        if agent is None:
            agent = self._add(Agent.register(agent_id))
            self.batch.agents.setdefault(agent_id, None)  # the ledger knows every agent, even one never judged
            if self._open is not None:
                self._open.know_agent(agent_id)
        return agent

    def hive(self, name: str = DEFAULT_HIVE) -> Hive:
        """The hive named `name`, registered if new, remembered as changed (it is only asked for to observe)."""
        hive = self._get(Hive.id_for(name), Hive)
        if hive is None:
            return self._add(Hive.register(name))
        self._dirty[hive.id] = hive
        return hive

    def known_agent(self, agent_id: str) -> Agent | None:
        """The agent named `agent_id` if the coordinator has heard of it (never registers it)."""
        return self._get(Agent.id_for(agent_id), Agent)

    def view(self, agent_id: str | None) -> AgentView | None:
        """What tasks need to know about `agent_id` (None when no agent)."""
        return None if agent_id is None else self.agent(agent_id).view()

    def tasks_swayed_by(self, agent_id: str) -> list[str]:
        """Open, unpinned tasks held by `agent_id`: those its status can move."""
        index = self._open_tasks()
        return sorted(task_id for task_id in index.held.get(agent_id, ()) if task_id not in index.pinned)

    def open_tasks_of(self, agent_id: str) -> list[str]:
        """Every open task `agent_id` holds."""
        return sorted(self._open_tasks().held.get(agent_id, ()))

    def open_load(self) -> dict[str, int]:
        """Every known agent with the number of open tasks it holds."""
        return {agent_id: len(tasks) for agent_id, tasks in self._open_tasks().held.items()}

    def note_task(self, task: Task, now: datetime, agent: AgentView | None = None) -> None:
        """Remember the task changed, and when it is next due (`agent`: its agent's view, if at hand)."""
        self._dirty[task.id] = task
        if agent is None or agent.agent_id != task.agent_id:
            agent = self.view(task.agent_id)
        due = task.next_crossing(now, agent)
        if self.extra_due is not None:
            extra = self.extra_due(task)
            if extra is not None and (due is None or extra < due):
                due = extra
        entry = TaskIndexEntry(task.task_id, task.agent_id, not task.resolved, due, task.pinned)
        self.batch.tasks[task.task_id] = entry
        if self._open is not None:
            self._open.note(entry)

    def note_agent(self, agent: Agent, now: datetime) -> None:
        """Remember the agent changed, and when it is next due."""
        self._dirty[agent.id] = agent
        self.batch.agents[agent.agent_id] = agent.next_crossing(now)

    def not_due(self, kind: str, name: str) -> None:
        """Remember that the task or agent (`kind`) named `name` is not due again by time alone."""
        if kind == "agent":
            self.batch.agents[name] = None
            return
        task = self.task(name)
        entry = TaskIndexEntry(name, task.agent_id, not task.resolved, None, task.pinned)
        self.batch.tasks[name] = entry
        if self._open is not None:
            self._open.note(entry)

    def note_changed(self, aggregate: Aggregate) -> None:
        """Remember an aggregate changed in a way that moves no index (e.g. a delivery recorded)."""
        self._dirty[aggregate.id] = aggregate

    def take(self) -> tuple[list[Aggregate], LedgerBatch]:
        """Hand over what changed since the last take, and start afresh."""
        changed = [aggregate for aggregate in self._dirty.values() if aggregate.pending_events]
        batch = self.batch
        self._dirty = {}
        self.batch = LedgerBatch()
        return changed, batch

    def trim(self) -> None:
        """Forget the least recently used aggregates beyond the cache size."""
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    def forget(self) -> None:
        """Drop everything (after a failed save, cached state may be ahead of the store)."""
        self._cache.clear()
        self._absent = set()
        self._dirty = {}
        self.batch = LedgerBatch()
        self._open = None

    def _open_tasks(self) -> OpenTasks:
        if self._open is None:
            index = OpenTasks(self.ledger.open_tasks(), self.ledger.agent_ids())
            for entry in self.batch.tasks.values():
                index.note(entry)
            for agent_id in self.batch.agents:
                index.know_agent(agent_id)
            self._open = index
        return self._open

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        cached = self._cache.get(aggregate_id)
        if cached is None:
            if aggregate_id in self._absent:
                return None
            try:
                cached = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            self._cache[aggregate_id] = cached
        else:
            self._cache.move_to_end(aggregate_id)
        assert isinstance(cached, kind)
        return cached

    def _add(self, aggregate: A) -> A:
        self._absent.discard(aggregate.id)
        self._cache[aggregate.id] = aggregate
        self._dirty[aggregate.id] = aggregate
        return aggregate
