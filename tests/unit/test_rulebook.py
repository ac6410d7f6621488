"""The rulebook: which moves on the escalation ladder are legal, kept in one shared model-less machine."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from transitions import Machine

from domain import escalation, rulebook, rules, task
from domain.agent import Agent
from domain.alerts import Alert, AlertType
from domain.rulebook import RULEBOOK, IllegalTransition, check, trigger_for
from domain.rules import Demand
from domain.stages import Stage
from domain.task import Task

LADDER = [Stage.GREEN, Stage.YELLOW, Stage.ORANGE, Stage.RED, Stage.EMERGENCY]
UPWARD = [(low, high) for low, high in itertools.combinations(LADDER, 2)]
DOWNWARD = [(high, low) for low, high in UPWARD]


def ids(pairs: list[tuple[Stage, Stage]]) -> list[str]:
    return [f"{source.value}-{dest.value}" for source, dest in pairs]


# Legal moves ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "dest"), UPWARD, ids=ids(UPWARD))
def test_escalating_to_any_higher_stage_is_legal(source: Stage, dest: Stage) -> None:
    check(rulebook.ESCALATE, source.value, dest.value)


@pytest.mark.parametrize(("source", "dest"), DOWNWARD, ids=ids(DOWNWARD))
def test_de_escalating_to_any_lower_stage_is_legal(source: Stage, dest: Stage) -> None:
    check(rulebook.DE_ESCALATE, source.value, dest.value)


@pytest.mark.parametrize("stage", LADDER, ids=[stage.value for stage in LADDER])
def test_resolving_from_any_stage_is_legal(stage: Stage) -> None:
    check(rulebook.RESOLVE, stage.value, rulebook.RESOLVED)


def test_reopening_a_resolved_task_to_green_is_legal() -> None:
    check(rulebook.REOPEN, rulebook.RESOLVED, Stage.GREEN.value)


@pytest.mark.parametrize("stage", LADDER[1:], ids=[stage.value for stage in LADDER[1:]])
def test_reopening_a_resolved_task_straight_to_a_higher_stage_is_illegal(stage: Stage) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot reopen from RESOLVED to {stage.value}"):
        check(rulebook.REOPEN, rulebook.RESOLVED, stage.value)


@pytest.mark.parametrize(("source", "dest"), DOWNWARD, ids=ids(DOWNWARD))
def test_de_escalating_below_an_open_crisis_is_illegal_and_down_to_it_is_legal(source: Stage, dest: Stage) -> None:
    above = LADDER[LADDER.index(dest) + 1]
    with pytest.raises(IllegalTransition, match=f"below the open crisis at {above.value}"):
        check(rulebook.DE_ESCALATE, source.value, dest.value, floor=above.value)
    check(rulebook.DE_ESCALATE, source.value, dest.value, floor=dest.value)


def test_a_resolved_task_asked_to_move_is_refused_by_the_rulebook() -> None:
    now = datetime(2025, 3, 1, 10, tzinfo=UTC)
    work = Task.register("closed-task")
    work.receive(Alert(AlertType.TASK_ASSIGNED, now, "fp1", {}, task_id="closed-task", agent_id="ada"), None, None)
    work.resolve(now, "done")
    with pytest.raises(IllegalTransition, match="cannot escalate from RESOLVED to RED"):
        work.move_to(Demand(Stage.RED, "asked", rules.CRISIS), now)


def test_a_task_in_an_open_crisis_asked_to_drop_below_it_is_refused_by_the_rulebook() -> None:
    now = datetime(2025, 3, 1, 10, tzinfo=UTC)
    work = Task.register("crisis-task")
    work.receive(Alert(AlertType.COORDINATION_CRISIS, now, "fp", {}, task_id="crisis-task", crisis_stage=Stage.RED),
                 None, None)
    with pytest.raises(IllegalTransition, match="cannot de-escalate from RED to YELLOW below the open crisis at RED"):
        work.move_to(Demand(Stage.YELLOW, "asked", rules.DEADLINE), now)
    assert work.stage is Stage.RED


# Illegal moves --------------------------------------------------------------------------------


def test_escalating_from_red_to_yellow_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        check("escalate", "RED", "YELLOW")


@pytest.mark.parametrize(("source", "dest"), DOWNWARD, ids=ids(DOWNWARD))
def test_escalating_to_a_lower_stage_is_illegal(source: Stage, dest: Stage) -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.ESCALATE, source.value, dest.value)


@pytest.mark.parametrize(("source", "dest"), UPWARD, ids=ids(UPWARD))
def test_de_escalating_to_a_higher_stage_is_illegal(source: Stage, dest: Stage) -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.DE_ESCALATE, source.value, dest.value)


@pytest.mark.parametrize("stage", LADDER, ids=[stage.value for stage in LADDER])
def test_moving_a_stage_onto_itself_is_illegal_either_way(stage: Stage) -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.ESCALATE, stage.value, stage.value)
    with pytest.raises(IllegalTransition):
        check(rulebook.DE_ESCALATE, stage.value, stage.value)


@pytest.mark.parametrize(
    ("source", "dest"), list(itertools.product(LADDER, LADDER)), ids=ids(list(itertools.product(LADDER, LADDER)))
)
def test_reopening_a_state_that_is_not_resolved_is_illegal(source: Stage, dest: Stage) -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.REOPEN, source.value, dest.value)


def test_resolving_what_is_already_resolved_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.RESOLVE, rulebook.RESOLVED, rulebook.RESOLVED)


@pytest.mark.parametrize("stage", LADDER, ids=[stage.value for stage in LADDER])
def test_a_resolved_task_cannot_be_escalated_or_de_escalated(stage: Stage) -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.ESCALATE, rulebook.RESOLVED, stage.value)
    with pytest.raises(IllegalTransition):
        check(rulebook.DE_ESCALATE, rulebook.RESOLVED, stage.value)


def test_resolving_to_a_stage_instead_of_resolved_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        check(rulebook.RESOLVE, "RED", "GREEN")


def test_an_unknown_trigger_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        check("panic", "GREEN", "RED")


def test_an_illegal_move_says_which_states_it_was_between() -> None:
    with pytest.raises(IllegalTransition) as raised:
        check("escalate", "RED", "YELLOW")
    assert "RED" in str(raised.value)
    assert "YELLOW" in str(raised.value)


def test_an_illegal_move_is_an_ordinary_exception() -> None:
    assert issubclass(IllegalTransition, Exception)


# trigger_for ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", LADDER, ids=[stage.value for stage in LADDER])
def test_there_is_no_trigger_between_a_stage_and_itself(stage: Stage) -> None:
    assert trigger_for(stage, stage) is None


@pytest.mark.parametrize(("source", "dest"), UPWARD, ids=ids(UPWARD))
def test_going_up_the_ladder_is_an_escalation(source: Stage, dest: Stage) -> None:
    assert trigger_for(source, dest) == rulebook.ESCALATE == "escalate"


@pytest.mark.parametrize(("source", "dest"), DOWNWARD, ids=ids(DOWNWARD))
def test_going_down_the_ladder_is_a_de_escalation(source: Stage, dest: Stage) -> None:
    assert trigger_for(source, dest) == rulebook.DE_ESCALATE == "de_escalate"


def test_red_to_emergency_is_an_escalation() -> None:
    assert trigger_for(Stage.RED, Stage.EMERGENCY) == "escalate"
    assert trigger_for(Stage.EMERGENCY, Stage.RED) == "de_escalate"


# One shared, model-less machine ---------------------------------------------------------------


def test_the_rulebook_is_a_single_module_level_machine() -> None:
    assert isinstance(RULEBOOK, Machine)
    assert rulebook.RULEBOOK is RULEBOOK


def test_the_rulebook_holds_no_model() -> None:
    assert list(RULEBOOK.models) == []


def test_the_rulebook_knows_every_stage_and_the_resolved_state() -> None:
    assert set(RULEBOOK.states) == {stage.value for stage in Stage} | {rulebook.RESOLVED}
    assert RULEBOOK.initial == Stage.GREEN.value


def test_the_rulebook_offers_only_the_four_named_triggers() -> None:
    assert set(RULEBOOK.get_triggers("GREEN")) == {"escalate", "resolve"}
    assert set(RULEBOOK.get_triggers("YELLOW")) == {"escalate", "de_escalate", "resolve"}
    assert set(RULEBOOK.get_triggers("EMERGENCY")) == {"de_escalate", "resolve"}
    assert set(RULEBOOK.get_triggers(rulebook.RESOLVED)) == {"reopen"}


def test_aggregates_share_the_rulebook_instead_of_owning_one() -> None:
    assert escalation.rulebook.RULEBOOK is RULEBOOK
    assert task.rulebook.RULEBOOK is RULEBOOK


def test_driving_aggregates_never_attaches_them_to_the_rulebook() -> None:
    now = datetime(2025, 3, 1, 10, tzinfo=UTC)
    work = Task.register("rulebook-task")
    work.receive(
        Alert(AlertType.COORDINATION_CRISIS, now, "fp", {}, task_id="rulebook-task", crisis_stage=Stage.RED),
        None,
        None,
    )
    agent = Agent.register("rulebook-agent")
    agent.mark_unresponsive(now, now - timedelta(hours=3), "fp", {})
    assert work.stage is Stage.RED
    assert agent.stage is Stage.EMERGENCY
    assert list(RULEBOOK.models) == []


def test_checks_consult_the_shared_machine() -> None:
    rulebook.allows.cache_clear()
    try:
        with (
            mock.patch.object(RULEBOOK, "get_transitions", return_value=[]) as consulted,
            pytest.raises(IllegalTransition),
        ):
            check(rulebook.ESCALATE, "GREEN", "RED")
        consulted.assert_called_once()
    finally:
        rulebook.allows.cache_clear()


def test_checking_a_move_leaves_the_machine_unchanged() -> None:
    before = {name: len(RULEBOOK.get_transitions(trigger=name)) for name in RULEBOOK.get_triggers(*RULEBOOK.states)}
    check(rulebook.ESCALATE, "GREEN", "RED")
    trigger_for(Stage.RED, Stage.GREEN)
    with pytest.raises(IllegalTransition):
        check(rulebook.ESCALATE, "RED", "GREEN")
    after = {name: len(RULEBOOK.get_transitions(trigger=name)) for name in RULEBOOK.get_triggers(*RULEBOOK.states)}
    assert after == before
    assert list(RULEBOOK.models) == []
