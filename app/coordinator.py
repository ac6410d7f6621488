"""The coordinator application: turns alerts and the passing of time into recorded escalations."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import JSONTranscoder, PersistenceError

from app.failures import SetAside, UnknownAgent, UnknownTask
from app.intake import IngestReport, accepted_row, chunked
from app.ledger import DeliveryUpdate, Ledger, LedgerBatch, Store
from app.replay import task_as_of
from app.responder import Responder
from app.transcodings import StageAsName
from app.workspace import Workspace
from domain.agent import Agent
from domain.alert_types.registry import kind_of, names_agent_active
from domain.alerts import (
    Alert,
    Item,
    Observation,
    Quarantined,
    failed_alert,
    failure_reason,
    quarantine_digest,
)
from domain.deliveries import Deliveries
from domain.hive import DEFAULT_HIVE, Hive
from domain.notifications import DeliveryOutcome
from domain.responses import Policy
from domain.rules import silence_changed
from domain.sources import SourceMark
from domain.task import Task

DEFAULT_BATCH_SIZE = 2_000
SNAPSHOT_INTERVAL = 200
_STOPPING = (PersistenceError, OSError, MemoryError)
"""Failures of the store or the machine, not of one alert: they stop the command instead of quarantining."""
log = logging.getLogger(__name__)


class Coordinator(Application[UUID]):
    """Event-sourced coordinator of tasks and agents.

    Alerts are applied in batches: each batch loads the aggregates it touches once,
    runs their commands, and saves all their events with the ledger rows in one transaction.
    """

    name = "coordinator"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Task: SNAPSHOT_INTERVAL, Agent: SNAPSHOT_INTERVAL, Hive: SNAPSHOT_INTERVAL,
    }

    def __init__(self, env: dict[str, str] | None = None, policy: Policy | None = None) -> None:
        super().__init__(env)
        if not isinstance(self.recorder, Store):
            raise TypeError(f"the event store recorder {type(self.recorder).__name__} is not a Store (app.ledger)")
        self.store: Store = self.recorder
        self.ledger: Ledger = self.recorder
        self.policy = policy or Policy()
        self.workspace = Workspace(self.repository, self.ledger)
        self.responder = Responder(self.workspace, self.policy)
        self.workspace.extra_due = self.responder.repeat_due

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(StageAsName())

    # Commands -------------------------------------------------------------------------------

    def ingest(
        self, items: Iterable[Item], batch_size: int = DEFAULT_BATCH_SIZE, mark: SourceMark | None = None
    ) -> IngestReport:
        """Apply alerts and record observations in order, quarantine the rejects; duplicates (by fingerprint, alerts
        and observations alike, and lines of a file quarantined before) change nothing.

        `mark`: where the input stands once these items are applied; it is recorded in the same
        transaction as the last batch, so a restart resumes exactly after what was recorded.
        """
        report = IngestReport()
        chunks = chunked(items, batch_size)
        chunk = next(chunks, None)
        if chunk is None and mark is not None:
            self.workspace.batch.source = mark
            self._commit()
        while chunk is not None:
            following = next(chunks, None)
            if following is None and mark is not None:
                self.workspace.batch.source = mark
            known = self.ledger.known_fingerprints(
                {item.fingerprint for item in chunk if not isinstance(item, Quarantined)})
            # A line of a file refused before and read again counts as read again (a posted item, with no line, is
            # refused again: its sender is told each time).
            refused = {id(item): quarantine_digest(item) for item in chunk
                       if isinstance(item, Quarantined) and item.line is not None}
            kept = self.ledger.known_quarantine(set(refused.values())) if refused else set()
            fresh: list[Alert | Observation] = []
            for item in chunk:
                if isinstance(item, Quarantined):
                    digest = refused.get(id(item))
                    if digest in kept:
                        report.duplicates += 1
                        continue
                    if digest is not None:
                        kept.add(digest)
                    self.workspace.batch.quarantined.append(item)
                    report.quarantined += 1
                elif item.fingerprint in known:
                    report.duplicates += 1
                else:
                    known.add(item.fingerprint)
                    fresh.append(item)
            self.workspace.look_up(*_named(fresh))
            set_aside = {id(item) for item in self._apply_all(fresh)}
            for item in fresh:
                if id(item) in set_aside:
                    report.quarantined += 1
                elif isinstance(item, Observation) and item.alert is None:
                    report.observed += 1
                else:
                    report.processed += 1
            self._commit()
            chunk = following
        return report

    def tick(self, now: datetime) -> int:
        """Record every crossing that time alone has caused up to `now`; returns how many aggregates moved.

        Backstop: a task or agent whose advance raises an unexpected exception is logged and set aside (what the
        pass applied in memory is dropped and the others are advanced again); it is not due again until its next
        alert re-judges it, so one broken aggregate never stops time for the rest. Failures of the event store
        itself still stop the command.
        """
        task_ids, agent_ids = self.ledger.due(now)
        set_aside: set[tuple[str, str]] = set()
        while True:
            try:
                moved = self._advance_all(now, agent_ids, task_ids, set_aside)
                break
            except SetAside as failed:
                log.error("could not advance %s %s to %s (%s); it is judged again at its next alert", failed.kind,
                          failed.name, now.isoformat(), failure_reason(failed.error), exc_info=failed.error)
                self._drop_applied()
                set_aside.add((failed.kind, failed.name))
        for kind, name in sorted(set_aside):
            self.workspace.not_due(kind, name)
        self._commit()
        return moved

    def _advance_all(self, now: datetime, agent_ids: list[str], task_ids: list[str],
                     set_aside: set[tuple[str, str]]) -> int:
        """Advance every due agent, then every due task, but those set aside; how many moved."""
        moved = 0
        for kind, names, advance in (("agent", agent_ids, self._advance_agent), ("task", task_ids, self._advance_task)):
            for name in names:
                if (kind, name) in set_aside:
                    continue
                try:
                    moved += advance(name, now)
                except _STOPPING:
                    raise
                except Exception as error:
                    raise SetAside(kind, name, error) from error
        return moved

    def _advance_agent(self, agent_id: str, now: datetime) -> bool:
        agent = self.workspace.agent(agent_id)
        seen = len(agent.pending_events)
        agent.advance(agent.clamp(now))
        self.responder.after_agent(agent, seen)
        self.workspace.note_agent(agent, now)
        return len(agent.pending_events) > seen

    def _advance_task(self, task_id: str, now: datetime) -> bool:
        task = self.workspace.task(task_id)
        seen = len(task.pending_events)
        task.tick(now, self.workspace.view(task.agent_id))
        self.responder.after_task(task, seen)
        self.responder.repeat(task, now)
        self.workspace.note_task(task, now)
        return len(task.pending_events) > seen

    def acknowledge(self, task_id: str, by: str, at: datetime) -> Task:
        """Someone takes charge of the task's crisis: the PM is no longer reminded of it."""
        task = self._existing_task(task_id)
        task.acknowledge(by, at)
        self.workspace.note_task(task, task.clamp(at))
        self._commit()
        return task

    def resolve(self, task_id: str, by: str, at: datetime, note: str | None = None) -> Task:
        """Close the task by hand."""
        task = self._existing_task(task_id)
        task.resolve(at, f"resolved by {by}" + (f": {note}" if note else ""), by=by, note=note)
        self.workspace.note_task(task, task.clamp(at))
        self._commit()
        return task

    def record_deliveries(self, outcomes: Iterable[DeliveryOutcome]) -> None:
        """Record delivery attempts as one event of the delivery stream (`domain.deliveries`), with the outbox, in one
        transaction. No task or agent is loaded: an attempt changes nothing they decide by."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        self.workspace.note_changed(Deliveries.record(outcomes))
        self.workspace.batch.deliveries += [
            DeliveryUpdate(outcome.key, outcome.status, outcome.attempt, outcome.channel, outcome.at, outcome.retry_at,
                           outcome.error)
            for outcome in outcomes
        ]
        self._commit()

    # Queries --------------------------------------------------------------------------------

    def get_task(self, task_id: str, at: int | None = None) -> Task:
        """The task as recorded (optionally at aggregate version `at`)."""
        try:
            task: Task = self.repository.get(Task.id_for(task_id), version=at)
        except AggregateNotFoundError:
            raise UnknownTask(task_id) from None
        assert isinstance(task, Task)
        return task

    def task_as_of(self, task_id: str, moment: datetime) -> tuple[Task, list[dict[str, Any]]]:
        """The task as it was at `moment` and its whole history of stage changes up to then, replayed from its
        events (UnknownTask if not yet known then)."""
        return task_as_of(self.repository.event_store.get(Task.id_for(task_id)), task_id, moment)

    def _existing_task(self, task_id: str) -> Task:
        self.get_task(task_id)
        return self.workspace.task(task_id)

    def get_agent(self, agent_id: str) -> Agent:
        """The agent as recorded."""
        try:
            agent: Agent = self.repository.get(Agent.id_for(agent_id))
        except AggregateNotFoundError:
            raise UnknownAgent(agent_id) from None
        assert isinstance(agent, Agent)
        return agent

    def get_hive(self, name: str = DEFAULT_HIVE) -> Hive:
        """The hive as recorded (a hive that observed nothing yet has no observations)."""
        try:
            hive: Hive = self.repository.get(Hive.id_for(name))
        except AggregateNotFoundError:
            return Hive.register(name)
        assert isinstance(hive, Hive)
        return hive

    # Internals ------------------------------------------------------------------------------

    def _apply_all(self, items: list[Alert | Observation]) -> list[Alert | Observation]:
        """Apply alerts and record observations in order into the current batch; returns those set aside.

        Backstop: an item whose application raises an unexpected exception is quarantined with the exception
        as its reason. What the batch applied in memory may be half done, so it is dropped; the items before
        the failed one are applied again and saved (the input mark waits for the batch's last save), and the
        rest go on. Failures of the event store itself still stop the command.
        """
        set_aside: list[Alert | Observation] = []
        start = 0
        while (failure := self._apply_from(items, start)) is not None:
            index, error = failure
            entry = failed_alert(items[index], error)
            log.warning("quarantined %s line %s: %s", entry.source, entry.line, entry.reason, exc_info=error)
            self._drop_applied()
            self.workspace.batch.quarantined.append(entry)
            set_aside += [items[index], *self._apply_all(items[start:index])]
            mark, self.workspace.batch.source = self.workspace.batch.source, None
            self._commit()
            self.workspace.batch.source = mark
            start = index + 1
        return set_aside

    def _apply_from(self, items: list[Alert | Observation], start: int) -> tuple[int, Exception] | None:
        """Apply `items[start:]` until one raises: its index and exception, or None when all were applied."""
        accepted = self.workspace.batch.accepted
        for index in range(start, len(items)):
            item = items[index]
            try:
                if isinstance(item, Observation):
                    if item.alert is not None:
                        self._apply(item.alert)
                    self.workspace.hive().observe(item)
                else:
                    self._apply(item)
            except _STOPPING:
                raise
            except Exception as error:
                return index, error
            accepted.append(accepted_row(item))
        return None

    def _drop_applied(self) -> None:
        """Forget what the batch applied in memory since the last save, keeping its quarantine and input mark."""
        batch = self.workspace.batch
        self.workspace.forget()
        self.workspace.batch.quarantined = batch.quarantined
        self.workspace.batch.source = batch.source

    def _apply(self, alert: Alert) -> None:
        if kind_of(alert).on_task:
            self._apply_to_task(alert)
        else:
            self._apply_to_agent(alert)

    def _apply_to_task(self, alert: Alert) -> None:
        assert alert.task_id is not None
        workspace = self.workspace
        task = workspace.task(alert.task_id)
        for agent_id in dict.fromkeys((task.agent_id, alert.old_agent, alert.agent_id)):
            self._settle_agent(agent_id, alert.timestamp)
        before = workspace.view(task.agent_id)
        if alert.agent_id is not None and names_agent_active(alert):
            agent = workspace.agent(alert.agent_id)
            if agent.unresponsive:
                self._change_agent(agent, alert, skip=task.task_id)
        after = workspace.view(task.agent_after(alert))
        seen = len(task.pending_events)
        task.receive(alert, before, after)
        self.responder.after_task(task, seen)
        workspace.note_task(task, alert.timestamp, after)

    def _settle_agent(self, agent_id: str | None, at: datetime) -> None:
        """Record a silent agent's crossings up to `at` while it still holds the tasks it held then."""
        if agent_id is None:
            return
        agent = self.workspace.agent(agent_id)
        if not agent.unresponsive:
            return
        seen = len(agent.pending_events)
        agent.advance(agent.clamp(at))
        if len(agent.pending_events) > seen:
            self.responder.after_agent(agent, seen)
            self.workspace.note_agent(agent, at)

    def _apply_to_agent(self, alert: Alert) -> None:
        assert alert.agent_id is not None
        self._change_agent(self.workspace.agent(alert.agent_id), alert)

    def _change_agent(self, agent: Agent, alert: Alert, skip: str | None = None) -> None:
        before = agent.view()
        seen = len(agent.pending_events)
        if kind_of(alert).shows_activity:
            agent.see_activity(alert.timestamp, alert.fingerprint, alert.raw if alert.fingerprint_of_raw else None)
        else:
            agent.mark_unresponsive(alert.timestamp, alert.last_activity, alert.kept_fingerprint, alert.raw)
        self.responder.after_agent(agent, seen)
        self.workspace.note_agent(agent, alert.timestamp)
        after = agent.view()
        if not silence_changed(before, after):  # e.g. a heartbeat of an agent at work: no task of its can move
            return
        for task_id in self.workspace.tasks_swayed_by(agent.agent_id):
            if task_id == skip:
                continue
            task = self.workspace.task(task_id)
            seen = len(task.pending_events)
            if task.reconsider(alert.timestamp, before, after):
                self.responder.after_task(task, seen)
                self.workspace.note_task(task, alert.timestamp, after)

    def _commit(self) -> None:
        changed, batch = self.workspace.take()
        if not changed and not batch:
            return
        try:
            self._save(changed, batch)
        except BaseException:
            self.workspace.forget()
            raise
        self.workspace.trim()

    def _save(self, changed: list[Any], batch: LedgerBatch) -> None:
        """`Application.save` for aggregates known to be ours: their events, the ledger batch and the
        snapshots now due, in one transaction. Snapshots are taken from the aggregates in hand (which have
        applied every event being saved) rather than replayed from the store."""
        streams: list[Sequence[Any]] = []
        due: list[Any] = []
        for aggregate in changed:
            pending = aggregate.collect_events()
            streams.append(pending)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval and aggregate.version // interval > (aggregate.version - len(pending)) // interval:
                due.append(aggregate)
        if self.snapshots is not None and due:
            batch.snapshots = [self.snapshots.mapper.to_stored_event(Snapshot.take(aggregate)) for aggregate in due]
        # Events are recorded in the order they were decided (an agent's silence before the escalations it caused),
        # each aggregate's own in the order of its versions.
        events = heapq.merge(*streams, key=_created)
        self.store.save([self.mapper.to_stored_event(event) for event in events], batch)


def _named(items: Sequence[Alert | Observation]) -> tuple[set[str], set[str]]:
    """The tasks and agents `items` name (for `Workspace.look_up`)."""
    tasks: set[str] = set()
    agents: set[str] = set()
    for item in items:
        alert = item.alert if isinstance(item, Observation) else item
        if alert is None:
            continue
        if alert.task_id is not None:
            tasks.add(alert.task_id)
        agents.update(agent for agent in (alert.agent_id, alert.old_agent) if agent is not None)
    return tasks, agents


def _created(event: Any) -> Any:
    """When an event was decided (its timestamp)."""
    return event.timestamp
