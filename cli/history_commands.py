"""`coordinator events` and `coordinator replay`: the raw history, and proof the read models match it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.options import EXIT_NOT_FOUND, EXIT_USAGE, MOST_ROWS, HomeOption, JsonOption, fail, settings_for
from cli.render import say

if TYPE_CHECKING:
    from cli.bootstrap import Services
    from cli.reading import ReadSide


def events(
    count: Annotated[int, typer.Argument(metavar="N", min=1, max=MOST_ROWS, help="How many events to show.")] = 20,
    event_type: Annotated[
        str | None,
        typer.Option("--type", help="Only events of this kind (e.g. Escalated, Task.Escalated, AlertReceived) or "
                     "alerts of this type (e.g. COORDINATION_CRISIS).", show_default=False),
    ] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The most recent events, newest first: what was recorded, about which task or agent, and when.

    Example: `coordinator events 50 --type Escalated`
    """
    from cli.reading import STATUS, reading
    from cli.render import print_json, show, table

    with reading(home, (STATUS,)) as views:
        records, wanted = _recent(views, count, event_type)
        names = _names(views)
        documents = [document for record in records for document in _documents(record, names)
                     if wanted is None or document["event"] in wanted][:count]
    if json_output:
        print_json(documents)
        return
    if not documents:
        say("no events match")
        return
    show(table(f"{len(documents)} most recent event(s) (clock: alert = the alerts' business time, wall = when it "
               "happened here)", ["#", "event", "subject", "at", "clock", "summary"],
               [(d["position"], d["event"], d["subject"], d["at"], d["clock"], d["summary"]) for d in documents]))


def replay(
    verify: Annotated[bool, typer.Option("--verify", help="Compare every aggregate with the read models; "
                                         "exit 1 on any difference.")] = False,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Rebuild every task and agent from its events (never sending anything) and, with --verify, check the
    read models agree with them.

    Example: `coordinator replay --verify`
    """
    from cli.bootstrap import services
    from cli.reading import existing_home
    from cli.render import print_json
    from cli.storage import guarded
    from cli.views import catch_up

    with guarded(existing_home(home)), services(settings_for(home)) as built:
        catch_up(built.views)
        started = time.perf_counter()
        differences, counted = _replay(built, verify)
        seconds = time.perf_counter() - started
    if json_output:
        print_json({"aggregates": counted, "seconds": round(seconds, 3), "differences": differences})
    else:
        say(f"replayed {counted:,} aggregate(s) in {seconds:.2f} s")
        for difference in differences:
            say(f"DIFFERENT {difference['subject']}: {difference['field']}: read model "
                       f"{difference['read_model']!r}, events {difference['events']!r}")
        if verify and not differences:
            typer.echo("read models agree with the events")
    if differences:
        raise typer.Exit(EXIT_NOT_FOUND)


def _recent(views: ReadSide, count: int, event_type: str | None) -> tuple[list[Any], set[str] | None]:
    """The newest stored events that may show what is asked for, newest first, and the kinds of event to show
    (None: all)."""
    from app.records import ATTEMPT_KINDS, DELIVERIES_TOPIC, event_kind, state_of

    if event_type is None:
        return views.store.recent_events(count), None
    known = views.store.topics()
    if event_type.isupper():
        alerts = [record for record in views.store.recent_events(
                      10 * count + 1_000, [t for t in known if t.endswith(".AlertReceived")])
                  if state_of(record).get("alert_type") == event_type]
        return alerts[:count], None
    wanted = event_type.lower()
    kinds = {kind for kind in {*map(event_kind, known), *ATTEMPT_KINDS}
             if kind.lower() == wanted or kind.split(".")[-1].lower() == wanted}
    if not kinds and wanted not in {kind.lower() for kind in _known_kinds()}:
        short = sorted({kind for kind in _known_kinds() if "." not in kind})
        raise fail(f"{event_type!r} is not an event kind or alert type (kinds: {', '.join(short)})", EXIT_USAGE)
    topics = [topic for topic in known if event_kind(topic) in kinds]
    if kinds & ATTEMPT_KINDS and DELIVERIES_TOPIC in known:
        topics.append(DELIVERIES_TOPIC)  # attempts recorded many to an event
    return views.store.recent_events(count, topics), kinds


_BASES = frozenset({"Event", "Created", "Snapshot"})


def _known_kinds() -> set[str]:
    """Every event kind the code records (`Escalated`, `Task.Escalated`, ...)."""
    from eventsourcing.domain import DomainEvent

    from domain.agent import Agent
    from domain.hive import Hive
    from domain.task import Task

    kinds: set[str] = set()
    for aggregate in (Task, Agent, Hive):
        for name in dir(aggregate):
            member = getattr(aggregate, name)
            if isinstance(member, type) and issubclass(member, DomainEvent) and name not in _BASES:
                kinds |= {name, f"{aggregate.__name__}.{name}"}
    return kinds


def _names(views: ReadSide) -> dict[str, str]:
    db = views.conn
    names = {row[0]: row[1] for row in db.execute("SELECT id, task_id FROM task_status").fetchall()}
    names.update({row[0]: f"agent {row[1]}" for row in db.execute("SELECT id, agent_id FROM agent_status")})
    return names


def _documents(record: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    """What one stored event shows, newest first: itself, or each attempt a batch of the delivery stream records."""
    from app.records import (
        DELIVERIES_KIND,
        aggregate_key,
        attempts_of,
        event_kind,
        state_of,
        subject_key,
        with_fingerprint,
    )

    kind = event_kind(record.topic)
    if kind != DELIVERIES_KIND:
        key = aggregate_key(record)
        subject = names.get(key, "")
        agent_id = subject[6:] if kind.startswith("Agent.") and subject.startswith("agent ") else None
        return [_document(record.position, kind, key, with_fingerprint(kind, state_of(record), agent_id), names)]
    recorded = state_of(record).get("timestamp")
    return [_document(record.position, attempt.kind, subject_key(attempt.subject_kind, attempt.subject),
                      {"timestamp": recorded, **attempt.state}, names)
            for attempt in reversed(attempts_of(record, kind))]


def _document(position: int, kind: str, key: str, state: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    from app.records import clock_of, utc_text, zulu

    return {
        "position": position,
        "event": kind,
        "subject": names.get(key, "hive" if kind.startswith("Hive.") else key),
        "at": utc_text(state.get("at") or state.get("timestamp")),
        "clock": clock_of(kind, state) if state.get("at") else "wall",
        "recorded_at": utc_text(state.get("timestamp")),
        "summary": _summary(kind, state),
        "data": zulu(state),
    }


def _summary(kind: str, state: dict[str, Any]) -> str:
    short = kind.split(".")[-1]
    if short in ("Escalated", "DeEscalated"):
        return f"{state['from_stage']} -> {state['to_stage']}: {state['reason']}"
    if short == "AlertReceived":
        return f"{state['alert_type']} (agent {state.get('agent_id') or '-'})"
    if short == "NotificationsRequested":
        return "; ".join(f"{n['recipient']} ({n['priority']})" for n in state["notifications"])
    if short == "Observed":
        return observed_summary(state)
    if short == "ActivitySeen" and state.get("first_at"):  # several sightings in a row, kept as one event
        from app.records import utc_text

        return f"seen {state.get('sightings')} times from {utc_text(state['first_at'])}"
    if short in ("NotificationDelivered", "DeliveryFailed"):
        return f"{state['key']} via {state['channel']} attempt {state['attempt']}" + (
            f": {state['error']}" if short == "DeliveryFailed" else "")
    for field in ("reason", "by", "to_agent", "task_id", "agent_id"):
        if state.get(field):
            return str(state[field])
    return ""


def observed_summary(state: dict[str, Any]) -> str:
    """`coordination_alert PM_AGENT_ALERT_HIGH (high) task crisis_1 -> COORDINATION_CRISIS by upstream-crisis@…`."""
    record = state.get("record") or {}
    words = [str(record[key]) for key in ("event_type", "alert_type") if isinstance(record.get(key), str | int)]
    if isinstance(record.get("severity"), str):
        words.append(f"({record['severity']})")
    words += [f"{kind} {state[f'{kind}_id']}" for kind in ("task", "agent") if state.get(f"{kind}_id")]
    if state.get("mapping"):
        words.append(f"-> {state.get('alert_type')} by {state['mapping']}")
    return " ".join(words) or "a record of the hive"


def _replay(built: Services, verify: bool) -> tuple[list[dict[str, Any]], int]:
    from cli.render import timestamp
    from domain.agent import Agent
    from domain.task import Task

    db = built.views.db
    coordinator = built.coordinator
    differences: list[dict[str, Any]] = []
    counted = 0
    for task_id, level, emergency, status, agent_id, deadline in db.execute(
        "SELECT task_id, level, emergency, status, agent_id, deadline FROM task_status ORDER BY task_id"
    ).fetchall():
        task: Task = coordinator.get_task(task_id)
        counted += 1
        if verify:
            expected = {"level": task.stage.level, "emergency": int(task.stage.emergency), "status": task.status,
                        "agent_id": task.agent_id, "deadline": timestamp(task.deadline)}
            actual = {"level": level, "emergency": emergency, "status": status, "agent_id": agent_id,
                      "deadline": deadline}
            differences += _compare(f"task {task_id}", actual, expected)
    for agent_id, level, emergency, responsive, last_activity in db.execute(
        "SELECT agent_id, level, emergency, responsive, last_activity FROM agent_status ORDER BY agent_id"
    ).fetchall():
        agent: Agent = coordinator.get_agent(agent_id)
        counted += 1
        if verify:
            expected = {"level": agent.stage.level, "emergency": int(agent.stage.emergency),
                        "responsive": int(not agent.unresponsive), "last_activity": timestamp(agent.last_activity)}
            actual = {"level": level, "emergency": emergency, "responsive": responsive,
                      "last_activity": last_activity}
            differences += _compare(f"agent {agent_id}", actual, expected)
    if verify:
        differences += _missing(built)
    return differences, counted


def _compare(subject: str, actual: dict[str, Any], expected: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"subject": subject, "field": field, "read_model": actual[field], "events": expected[field]}
            for field in expected if actual[field] != expected[field]]


def _missing(built: Services) -> list[dict[str, Any]]:
    """Tasks and agents the event store knows that the read models do not."""
    db = built.views.db
    shown_tasks = {row[0] for row in db.execute("SELECT task_id FROM task_status")}
    shown_agents = {row[0] for row in db.execute("SELECT agent_id FROM agent_status")}
    known_tasks = {task_id for task_id, _, _ in built.ledger.open_tasks()} | set(built.ledger.task_ids())
    missing = [{"subject": f"task {task_id}", "field": "row", "read_model": None, "events": "exists"}
               for task_id in sorted(known_tasks - shown_tasks)]
    missing += [{"subject": f"agent {agent_id}", "field": "row", "read_model": None, "events": "exists"}
                for agent_id in sorted(set(built.ledger.agent_ids()) - shown_agents)]
    return missing
