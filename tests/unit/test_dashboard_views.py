"""The dashboard's views as pure functions: the board's data, the rules diagram, the timeline, the charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from transitions import Machine

from adapters.http.dashboard import board, charts, rules, timeline
from adapters.http.dashboard.render import countdown, span

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def card(task: str, level: str = "RED", status: str = "open", agent: str = "agent-1", **fields: object) -> dict:
    return {"task_id": task, "agent_id": agent, "level": level, "emergency": False, "status": status,
            "deadline": None, "acknowledged_by": None, "acknowledged_at": None, "updated_at": "2026-03-01T11:00:00Z",
            "level_since": None, **fields}


def test_the_board_json_cannot_close_its_script_element_or_start_markup() -> None:
    hostile = ["</script><script>alert(1)</script>", "<!--", "a & b", "line\u2028separator"]
    text = str(board.script_json(hostile))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile


def test_the_board_lays_open_tasks_by_level_keeps_today_s_done_ones_and_filters() -> None:
    cards = [card("t-1"), card("t-2", "YELLOW", agent="agent-2"), card("t-3", "GREEN", "completed"),
             card("t-4", "GREEN", "completed", updated_at="2026-02-27T10:00:00Z")]
    laid = board.board(cards, board.Filters(), NOW)
    assert [c["task_id"] for c in laid.columns["RED"]] == ["t-1"]
    assert [c["task_id"] for c in laid.done] == ["t-3"]
    assert laid.total == 2 and laid.agents == ["agent-1", "agent-2"]
    assert [c["task_id"] for c in board.board(cards, board.Filters.of("agent-2", None, None), NOW).kept] == ["t-2"]
    assert [c["task_id"] for c in board.board(cards, board.Filters.of(None, "red", "T-"), NOW).kept] == [
        "t-1", "t-3"], "the level filter is for open tasks; the search ignores case"
    rows = board.rows(cards, NOW)
    assert [row[-1] for row in rows] == [False, False, False, True], "a task done before today is gone"


def test_the_rules_diagram_draws_whatever_machine_it_is_given() -> None:
    machine = Machine(model=None, states=["A", "B", "C"], initial="B", auto_transitions=False,
                      transitions=[{"trigger": "go", "source": "A", "dest": "C"},
                                   {"trigger": "back", "source": "C", "dest": "B"}])
    drawn = rules.diagram(machine)
    assert [node.name for node in drawn.nodes] == ["A", "B", "C"]
    assert [node.initial for node in drawn.nodes] == [False, True, False]
    assert [(arc.trigger, arc.source, arc.dest) for arc in drawn.arcs] == [("go", "A", "C"), ("back", "C", "B")]
    assert rules.moves(machine) == [("go", "A", "C", ""), ("back", "C", "B", "")]


def test_the_rules_page_names_the_condition_a_move_is_only_allowed_under() -> None:
    def calm_enough() -> bool:
        return True

    machine = Machine(model=None, states=["A", "B"], initial="A", auto_transitions=False,
                      transitions=[{"trigger": "go", "source": "A", "dest": "B", "conditions": [calm_enough]}])
    assert rules.moves(machine) == [("go", "A", "B", "calm enough")]
    assert ("de_escalate", "RED", "YELLOW", "keeps the crisis") in rules.moves()


def test_the_rulebook_s_thresholds_are_those_of_the_rules() -> None:
    found = rules.thresholds()
    assert ("deadline reached", "EMERGENCY") in found["deadline (share of the time window left)"]
    assert ("silent for more than 2 h", "EMERGENCY") in found["agent silence (an agent flagged unresponsive)"]
    assert ("delivered within 10 s", "RED") in found["notification response time (SLA)"]


def test_the_timeline_steps_through_the_history_and_colours_notifications_by_their_delivery() -> None:
    start = NOW - timedelta(hours=1)
    history = [{"at": "2026-03-01T11:30:00Z", "from": "GREEN", "to": "RED", "emergency": False, "reason": "crisis"},
               {"at": "2026-03-01T11:45:00Z", "from": "RED", "to": "RED", "emergency": True, "reason": "late"}]
    events = [
        {"event": "AlertReceived", "at": start.isoformat(), "alert_type": "COORDINATION_CRISIS",
         "alert": {"description": "<b>stuck</b>"}},
        {"event": "NotificationRequested", "at": "2026-03-01T11:30:00Z", "key": "k1", "kind": "crisis",
         "recipient": "pm"},
        {"event": "NotificationRequested", "at": "2026-03-01T11:30:00Z", "key": "k2", "kind": "ping",
         "recipient": "agent-1"},
        {"event": "NotificationDelivered", "at": "2026-03-01T11:30:01Z", "key": "k1", "channel": "file", "attempt": 1},
        {"event": "DeliveryFailed", "at": "2026-03-01T11:30:01Z", "key": "k2", "channel": "tmux", "error": "gone",
         "dead": True},
        {"event": "Acknowledged", "at": "2026-03-01T11:50:00Z", "by": "alice"},
    ]
    laid = timeline.timeline(history, events, NOW, open_=True)
    assert [(s.stage, s.at) for s in laid.segments] == [("GREEN", None), ("RED", "2026-03-01T11:30:00Z"),
                                                        ("EMERGENCY", "2026-03-01T11:45:00Z")]
    assert laid.segments[-1].x2 == timeline.WIDTH - timeline.RIGHT, "an open task's line runs on to now"
    assert [(m.kind, m.outcome) for m in laid.marks] == [("alert", ""), ("notification", "delivered"),
                                                         ("notification", "dead"), ("acknowledged", "")]
    assert "COORDINATION_CRISIS: <b>stuck</b>" in laid.marks[0].title
    assert [row[1] for row in timeline.rows(events)] == ["alert", "notification", "notification", "acknowledged"]


def test_durations_and_countdowns_are_said_in_words() -> None:
    assert [span(s) for s in (5, 750, 7_500, 270_000)] == ["5s", "12m 30s", "2h 05m", "3d 03h"]
    assert countdown("2026-03-01T12:12:00Z", NOW) == "due in 12m 00s"
    assert countdown("2026-03-01T11:55:00Z", NOW) == "overdue by 5m 00s"
    assert countdown(None, NOW) == "no deadline"


def test_escalations_are_shared_by_rule_and_level_and_response_times_meet_the_sla_lines() -> None:
    rows = [{"kind": "task", "rule": "deadline", "level": "RED", "emergency": True, "count": 2},
            {"kind": "task", "rule": "deadline", "level": "YELLOW", "emergency": False, "count": 2},
            {"kind": "agent", "rule": "silence", "level": "ORANGE", "emergency": False, "count": 1}]
    shares = {row["rule"]: [(p["level"], p["count"], p["width"]) for p in row["parts"]]
              for row in charts.escalations(rows)}
    assert shares == {"deadline": [("YELLOW", 2, 50.0), ("EMERGENCY", 2, 50.0)], "silence": [("ORANGE", 1, 25.0)]}
    chart = charts.response_times([{"requested_at": "2026-03-01T11:00:00Z", "level": "EMERGENCY", "seconds": 0.05},
                                   {"requested_at": "2026-03-01T11:10:00Z", "level": "YELLOW", "seconds": 90.0}])
    assert [point.tone for point in chart.points] == ["RED", "YELLOW"]
    lines = dict((level, y) for y, level in chart.lines)
    assert lines["RED"] > lines["ORANGE"] > lines["YELLOW"], "a longer SLA is drawn higher"
    assert chart.points[1].y < lines["YELLOW"] < chart.points[0].y, "a breach sits above its line"
