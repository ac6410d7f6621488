"""The commands people give the coordinator, carried out by the home's writer: the one implementation behind
`coordinator ack`/`resolve`/`notifications retry` run directly and behind the running service's HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.ports import Document, NotFound
from cli.render import timestamp

if TYPE_CHECKING:
    from cli.bootstrap import Services
    from domain.notifications import DeliveryReport

Deliver = Callable[[], "DeliveryReport"]


def acknowledge(built: Services, task_id: str, by: str) -> Document:
    """Someone takes charge of the task's crisis; the task document with who and when.

    Nothing is recorded (`changed` false, `reason` saying why) when the task has no open crisis or its crisis is
    already acknowledged: acknowledging twice changes nothing."""
    from app.failures import UnknownTask

    try:
        task = built.coordinator.get_task(task_id)
        if not task.in_crisis:
            level = "completed" if task.resolved else f"at {task.stage.level}"
            return {**_document(built, task_id), "changed": False,
                    "reason": f"{task_id} has no open crisis (it is {level}): nothing to acknowledge"}
        if task.acknowledged_by is not None:
            return {**_document(built, task_id), "changed": False,
                    "reason": f"{task_id} is already acknowledged by {task.acknowledged_by} at "
                              f"{timestamp(task.acknowledged_at)}"}
        task = built.coordinator.acknowledge(task_id, by, built.clock.now())
    except UnknownTask:
        raise NotFound.named("task", task_id) from None
    return {**_document(built, task_id), "changed": True}


def resolve(built: Services, task_id: str, by: str, note: str | None) -> Document:
    """Close the task by hand; the task document with who and why (`changed` false when it was already done)."""
    from app.failures import UnknownTask

    try:
        if built.coordinator.get_task(task_id).resolved:
            return {**_document(built, task_id), "changed": False}
        task = built.coordinator.resolve(task_id, by, built.clock.now(), note)
    except UnknownTask:
        raise NotFound.named("task", task_id) from None
    return {**_document(built, task_id), "resolved_by": task.resolved_by, "note": task.resolution_note}


def retry(built: Services, deliver: Deliver, notification: str | None) -> Document:
    """Make one dead (or failed) notification, or every dead one, deliverable again, and deliver what is due."""
    requeued = requeue(built, notification)
    return retried(requeued, deliver())


def requeue(built: Services, notification: str | None) -> int:
    """Make one dead (or failed) notification, or every dead one, deliverable again; how many."""
    requeued = built.ledger.requeue_notifications(built.clock.now(), notification)
    if notification is not None and requeued == 0:
        raise NotFound(f"no dead or failed notification {notification!r}")
    return requeued


def retried(requeued: int, report: DeliveryReport) -> Document:
    """The answer to a retry: how many were requeued, and what delivering what was due came to."""
    return {"requeued": requeued, "delivered": report.delivered, "failed": report.failed, "dead": report.dead}


def _document(built: Services, task_id: str) -> dict[str, Any]:
    from cli.views import catch_up
    from projections.queries import task_document

    catch_up(built.views)
    document = task_document(built.views.db, task_id)
    assert document is not None, "a task just changed is in the read models once they caught up"
    return document
