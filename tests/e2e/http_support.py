"""Helpers for the HTTP API tests: where a running service serves, alerts to post, Server-Sent Events to read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.service_support import Service, Services, stamp
from tests.waiting import wait_for


def api(services: Services) -> str:
    """The base URL the running service announced in its home (once it is ready)."""

    def announced() -> str | None:
        try:
            holder = json.loads((services.home / "coordinator.lock").read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return None
        return holder.get("http") if holder.get("ready") else None

    url: str = wait_for(announced, "the service to announce its HTTP API")
    return url


def serve(services: Services, alerts: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Service, str]:
    """Start a service on `alerts` (HTTP on a free port unless `args` say otherwise) and its API's URL."""
    service = services.run("--alerts-file", str(alerts), *args, env=env)
    return service, api(services)


def crisis(task: str, at: datetime, level: str = "red", agent: str = "agent-1") -> dict[str, Any]:
    return {"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": agent, "escalation_level": level,
            "description": "stuck", "timestamp": stamp(at)}


def post(url: str, body: Any, token: str | None = None, **options: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url, json=body, headers=headers, timeout=60, **options)


def sse_events(url: str, count: int, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The first `count` Server-Sent Events of the stream at `url` (each its fields: id, event, data)."""
    found: list[dict[str, str]] = []
    with httpx.stream("GET", url, headers=headers or {}, timeout=60) as response:
        assert response.status_code == 200, response.read()
        for event in _events(response.iter_lines()):
            found.append(event)
            if len(found) == count:
                break
    return found


def _events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in event:
                yield event
            event = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        event[name] = value.removeprefix(" ")
