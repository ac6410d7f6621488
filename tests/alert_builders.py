"""Raw alerts as the accountability system writes them, for tests that feed a real coordinator."""

from __future__ import annotations

from typing import Any


def assigned(task: str, agent: str, when: str, deadline: str | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {"type": "TASK_ASSIGNED", "task_id": task, "agent_id": agent, "timestamp": when}
    if deadline is not None:
        alert["deadline"] = deadline
    return alert


def crisis(task: str, agent: str, level: str, when: str, description: str = "stuck") -> dict[str, Any]:
    return {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent, "escalation_level": level,
            "description": description, "timestamp": when}


def warning(task: str, agent: str, remaining: str, when: str) -> dict[str, Any]:
    return {"type": "DEADLINE_WARNING", "task_id": task, "agent_id": agent, "time_remaining": remaining,
            "timestamp": when}


def unresponsive(agent: str, last_activity: str, when: str) -> dict[str, Any]:
    return {"type": "AGENT_UNRESPONSIVE", "agent_id": agent, "last_activity": last_activity,
            "unresponsive_duration": "1 hour", "timestamp": when}


def reassignment(task: str, old: str, new: str, reason: str, when: str) -> dict[str, Any]:
    return {"type": "TASK_REASSIGNMENT", "task_id": task, "old_agent": old, "new_agent": new, "reason": reason,
            "timestamp": when}


def milestone(name: str, status: str, issues: list[str], agent: str, when: str) -> dict[str, Any]:
    return {"type": "PHASE1_MILESTONE", "milestone": name, "status": status, "blocking_issues": issues,
            "assigned_agent": agent, "timestamp": when}


def heartbeat(agent: str, when: str) -> dict[str, Any]:
    return {"type": "AGENT_HEARTBEAT", "agent_id": agent, "timestamp": when}
