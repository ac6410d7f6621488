"""Hives partition the work: coordinators on one PostgreSQL store share the hives out, each writing up to
`max_hives_per_writer`, and the hives of one that dies are taken over by the others."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_crash_safety import coordinator, environment
from tests.integration.test_failover import Process, explained
from tests.waiting import wait_for


def configure(home: Path, url: str, alerts: Path) -> None:
    """A home on the store at `url` with the hives north and south besides the default one, two at most written
    by one coordinator."""
    home.mkdir()
    (home / "coordinator.toml").write_text(
        f'store = "{url}"\nmax_hives_per_writer = 2\n'
        f'[hives.north]\nalerts_file = "{alerts / "north.jsonl"}"\n'
        f'[hives.south]\nalerts_file = "{alerts / "south.jsonl"}"\n', encoding="utf-8")


def taken(process: Process) -> list[str]:
    """The hives `process` has said it writes, in order (a hive taken twice counts twice)."""
    return [line["hive"] for _, line in process.lines if line.get("event") == "hive_taken"]


def status(home: Path, env: dict[str, str]) -> dict[str, Any]:
    found = subprocess.run(coordinator("status", "--json", home=home), env=env, capture_output=True, text=True,
                           check=True)
    return dict(json.loads(found.stdout))


def writers(home: Path, env: dict[str, str], *processes: Process) -> dict[str, str | None]:
    """Which of `processes` writes each hive, by name ("a", "b"; None: nobody), as `coordinator status` says."""
    hives = status(home, env)["hives"]
    named = {}
    for hive, writer in hives.items():
        named[hive] = next((p.name for p in processes if writer and f"pid {p.process.pid} " in writer), writer)
    return named


def tasks(home: Path, env: dict[str, str], hive: str) -> set[str]:
    command = coordinator("task", "list", "--json", home=home)
    command[3:3] = ["--hive", hive]
    found = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return {task["task_id"] for task in json.loads(found.stdout)}


def assigned(task: str) -> str:
    return json.dumps({"type": "TASK_ASSIGNED", "task_id": task, "agent_id": "ada",
                       "timestamp": "2030-01-01T09:00:00Z", "deadline": "2030-01-02T09:00:00Z"})


def crisis(task: str) -> str:
    return json.dumps({"type": "COORDINATION_CRISIS", "task_id": task, "agent_id": "ada", "escalation_level": "red",
                       "description": "stuck", "timestamp": "2030-01-01T09:00:00Z"})


def sent(sink: Path) -> list[tuple[str | None, str]]:
    """(hive, key) of each notification in the shared file sink."""
    if not sink.exists():
        return []
    return [(line.get("hive"), line["key"]) for line in map(json.loads, sink.read_text(encoding="utf-8").splitlines())]


def test_coordinators_share_the_hives_up_to_their_limit_and_the_living_take_over_a_dead_ones(
    tmp_path: Path, postgres_url: str
) -> None:
    sink = tmp_path / "shared-sink.jsonl"
    env = {**environment(), "COORDINATOR_CHANNELS__FILE__PATH": str(sink)}
    alerts = tmp_path / "alerts"
    alerts.mkdir()
    homes = {name: tmp_path / name for name in ("a", "b")}
    for home in homes.values():
        configure(home, postgres_url, alerts)
    default_file = alerts / "default.jsonl"
    default_file.touch()

    a = Process("a", homes["a"], default_file, env, http=True)
    wait_for(lambda: len(taken(a)) == 2, "the first coordinator to take two hives")
    b = Process("b", homes["b"], default_file, env, http=True)
    with explained(a, b):
        wait_for(lambda: taken(b) == ["south"], "the second coordinator to take the hive left")
        assert taken(a) == ["default", "north"]
        wait_for(lambda: writers(homes["b"], env, a, b) == {"default": "a", "north": "a", "south": "b"},
                 "status to say who writes each hive")

        with (alerts / "north.jsonl").open("a", encoding="utf-8") as out:
            out.write(assigned("task-north") + "\n")
        wait_for(lambda: "task-north" in tasks(homes["b"], env, "north"), "the north hive to record its alert")
        assert tasks(homes["b"], env, "south") == set() and tasks(homes["b"], env, "default") == set()

        api = status(homes["b"], env)["http"]
        posted = httpx.post(f"{api}/api/v1/hives/south/alerts", content=assigned("task-south"),
                            headers={"content-type": "application/json"})
        assert posted.status_code == 202 and posted.json()["processed"] == 1, posted.text
        refused = httpx.post(f"{api}/api/v1/hives/north/alerts", content=assigned("task-elsewhere"),
                             headers={"content-type": "application/json"})
        assert refused.status_code == 503 and f"pid {a.process.pid} " in refused.json()["detail"]
        assert httpx.get(f"{api}/api/v1/hives/east/tasks").status_code == 404
        listed = httpx.get(f"{api}/api/v1/hives/north/tasks")
        assert [task["task_id"] for task in listed.json()] == ["task-north"]
        assert "task-south" in tasks(homes["a"], env, "south")
        north_of_b = status(homes["b"] / "hives" / "north", env)  # b serves north, a writes it
        assert (north_of_b["coordinator_status"], north_of_b["http"]) == ("standby", api)
        assert f"pid {a.process.pid} " in north_of_b["writer"]
        assert status(homes["b"] / "hives" / "south", env)["coordinator_status"] == "running"

        for hive in ("north", "south"):  # one task id in two hives: two tasks, each notified
            with (alerts / f"{hive}.jsonl").open("a", encoding="utf-8") as out:
                out.write(crisis("task-same") + "\n")
        wait_for(lambda: {hive for hive, key in sent(sink) if key.startswith("task:task-same#")} == {"north", "south"},
                 "both hives' notifications of the same task id to reach the shared sink")

        refused = subprocess.run(coordinator("stop", home=homes["a"] / "hives" / "north"), env=env,
                                 capture_output=True, text=True, check=False)
        assert refused.returncode == 2 and "shares every hive" in refused.stderr, refused.stderr
        assert a.process.poll() is None

        a.kill()
        wait_for(lambda: taken(b) == ["south", "default"], "the living coordinator to take one more hive")
        wait_for(lambda: writers(homes["b"], env, b) == {"default": "b", "north": None, "south": "b"},
                 "status to say the third hive waits for a writer")

        a = Process("a", homes["a"], default_file, env, http=True)
        wait_for(lambda: taken(a) == ["north"], "the restarted coordinator to take the hive nobody writes")
        wait_for(lambda: writers(homes["a"], env, a, b) == {"default": "b", "north": "a", "south": "b"},
                 "status to say who writes each hive after the restart")
        with (alerts / "north.jsonl").open("a", encoding="utf-8") as out:
            out.write(assigned("task-north-2") + "\n")
        wait_for(lambda: tasks(homes["a"], env, "north") == {"task-north", "task-same", "task-north-2"},
                 "the new writer of north to resume its file where the dead one stopped")
        a.stop()
        b.stop()


def test_a_coordinator_told_one_hive_writes_that_hive_alone_and_serves_it_on_every_path(
    tmp_path: Path, postgres_url: str
) -> None:
    alerts = tmp_path / "alerts"
    alerts.mkdir()
    home = tmp_path / "a"
    configure(home, postgres_url, alerts)
    north_file = alerts / "north.jsonl"
    north_file.write_text(assigned("task-north") + "\n", encoding="utf-8")
    env = {**environment(), "COORDINATOR_HIVE": "north"}
    north = Process("north", home, north_file, env, http=True)
    with explained(north):
        wait_for(lambda: north.said("following"), "the coordinator to write hive north")
        plain = environment()
        assert writers(home, plain, north) == {"default": None, "north": "north", "south": None}
        api = status(home / "hives" / "north", plain)["http"]
        assert [task["task_id"] for task in httpx.get(f"{api}/api/v1/hives/north/tasks").json()] == ["task-north"]
        posted = httpx.post(f"{api}/api/v1/alerts", content=assigned("task-posted"),
                            headers={"content-type": "application/json"})
        assert posted.status_code == 202, posted.text
        assert tasks(home, plain, "north") == {"task-north", "task-posted"}
        assert httpx.get(f"{api}/api/v1/hives/south/tasks").status_code == 404
        stopped = subprocess.run(coordinator("stop", home=home / "hives" / "north"), env=plain, capture_output=True,
                                 text=True, check=False)
        assert stopped.returncode == 0, stopped.stderr
        north.process.wait(timeout=60)
        assert north.process.returncode == 0
