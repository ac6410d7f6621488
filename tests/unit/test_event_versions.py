"""Readers know which stored events to upcast, and find a task's or agent's row, without loading the aggregates."""

from __future__ import annotations

import importlib
import json
import pkgutil

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic

import domain
from app.records import Record, state_of, subject_key
from domain.agent import Agent
from domain.deliveries import Deliveries
from domain.escalation import UNKNOWN_RULE
from domain.hive import Hive
from domain.task import Task
from domain.versions import CURRENT, current_version


def aggregates() -> list[type[Aggregate]]:
    """Every aggregate the domain records (each of its modules imported): the leaf classes, since a base such as
    `Escalating` only lends its events to the aggregates built on it."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: list[type[Aggregate]] = []
    waiting = list(Aggregate.__subclasses__())
    while waiting:
        cls = waiting.pop()
        waiting += cls.__subclasses__()
        if cls.__module__.startswith("domain.") and not cls.__subclasses__():
            found.append(cls)
    return found


def event_classes() -> list[type[DomainEvent]]:
    return [member for aggregate in aggregates() for name in dir(aggregate)
            if isinstance(member := getattr(aggregate, name), type) and issubclass(member, DomainEvent)]


def test_the_version_table_lists_every_versioned_event_class_at_its_class_version() -> None:
    assert {Task, Agent, Hive, Deliveries} <= set(aggregates())
    versioned = {get_topic(cls): cls.class_version for cls in event_classes()
                 if getattr(cls, "class_version", 1) > 1}

    assert versioned == CURRENT
    assert all(current_version(get_topic(cls)) == getattr(cls, "class_version", 1) for cls in event_classes())


def test_an_event_stored_at_an_older_version_is_upcast_by_its_class_and_a_current_one_read_as_stored() -> None:
    fields = {"from_stage": "GREEN", "to_stage": "YELLOW", "at": "2026-12-01T00:00:00+00:00", "reason": "late"}
    old = Record(1, "a" * 32, 1, "domain.task:Task.Escalated", json.dumps(fields).encode())
    current = Record(2, "a" * 32, 2, "domain.task:Task.Escalated",
                     json.dumps({**fields, "rule": "deadline", "class_version": 2}).encode())

    assert state_of(old) == {**fields, "rule": UNKNOWN_RULE}
    assert state_of(current) == {**fields, "rule": "deadline"}


def test_a_task_s_and_an_agent_s_row_keys_are_the_ids_their_streams_have_always_had() -> None:
    assert subject_key("task", "task-101") == Task.id_for("task-101").hex == "f5d2c1f5f372548aa14e382605b2cc49"
    assert subject_key("agent", "frontend-agent") == Agent.id_for("frontend-agent").hex == (
        "334e5e06fe2a50449f96b5660c7ffd9c")
    assert len({Task.id_for("x"), Agent.id_for("x"), Hive.id_for("x")}) == 3
