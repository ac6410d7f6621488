"""A unit of work over tasks and agents: loads each aggregate once, tracks what changed."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.agent import Agent
from domain.escalation import Escalating
from domain.ledger import Ledger, LedgerBatch, TaskIndexEntry
from domain.rules import AgentView
from domain.task import Task

A = TypeVar("A", bound=Escalating)


class Workspace:
    """Aggregates in play, kept across batches by the single writer (bounded LRU)."""

    def __init__(self, repository: Repository[UUID], ledger: Ledger, max_cached: int = 50_000) -> None:
        self.repository = repository
        self.ledger = ledger
        self.max_cached = max_cached
        self._cache: OrderedDict[UUID, Escalating] = OrderedDict()
        self._dirty: dict[UUID, Escalating] = {}
        self.batch = LedgerBatch()
        # Which tasks each agent's status can move; loaded per agent on first use, then kept in step.
        self._swayed: dict[str, set[str]] = {}
        self._swaying_agent: dict[str, str] = {}

    def task(self, task_id: str) -> Task:
        """The task named `task_id`, registered if new."""
        task = self._get(Task.id_for(task_id), Task)
        return task if task is not None else self._add(Task.register(task_id))

    def agent(self, agent_id: str) -> Agent:
        """The agent named `agent_id`, registered if new."""
        agent = self._get(Agent.id_for(agent_id), Agent)
        return agent if agent is not None else self._add(Agent.register(agent_id))

    def view(self, agent_id: str | None) -> AgentView | None:
        """What tasks need to know about `agent_id` (None when no agent)."""
        return None if agent_id is None else self.agent(agent_id).view()

    def tasks_swayed_by(self, agent_id: str) -> list[str]:
        """Open, unpinned tasks held by `agent_id`, counting changes not yet saved."""
        swayed = self._swayed.get(agent_id)
        if swayed is None:
            pending = self.batch.tasks
            swayed = {task_id for task_id in self.ledger.tasks_swayed_by(agent_id) if task_id not in pending}
            swayed.update(
                task_id for task_id, entry in pending.items()
                if entry.agent_id == agent_id and entry.open and not entry.pinned
            )
            self._swayed[agent_id] = swayed
            self._swaying_agent.update(dict.fromkeys(swayed, agent_id))
        return sorted(swayed)

    def note_task(self, task: Task, now: datetime, agent: AgentView | None = None) -> None:
        """Remember the task changed, and when it is next due (`agent`: its agent's view, if at hand)."""
        self._dirty[task.id] = task
        if agent is None or agent.agent_id != task.agent_id:
            agent = self.view(task.agent_id)
        due = task.next_crossing(now, agent)
        entry = TaskIndexEntry(task.task_id, task.agent_id, not task.resolved, due, task.pinned)
        self.batch.tasks[task.task_id] = entry
        previous = self._swaying_agent.pop(task.task_id, None)
        if previous is not None:
            self._swayed[previous].discard(task.task_id)
        if entry.open and not entry.pinned and entry.agent_id is not None:
            swayed = self._swayed.get(entry.agent_id)
            if swayed is not None:
                swayed.add(task.task_id)
                self._swaying_agent[task.task_id] = entry.agent_id

    def note_agent(self, agent: Agent, now: datetime) -> None:
        """Remember the agent changed, and when it is next due."""
        self._dirty[agent.id] = agent
        self.batch.agents[agent.agent_id] = agent.next_crossing(now)

    def take(self) -> tuple[list[Escalating], LedgerBatch]:
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
        self._dirty = {}
        self.batch = LedgerBatch()
        self._swayed = {}
        self._swaying_agent = {}

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        cached = self._cache.get(aggregate_id)
        if cached is None:
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
        self._cache[aggregate.id] = aggregate
        self._dirty[aggregate.id] = aggregate
        return aggregate
