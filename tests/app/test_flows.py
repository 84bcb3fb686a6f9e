"""The shape every station flow shares: a step table that checks itself when built, and a
flow whose step changes only by a move the table declares."""

from __future__ import annotations

import enum

import pytest

from app.flows import Flow, FlowState, IllegalMove, StepSpec, StepTable, StepTableError


class Door(enum.StrEnum):
    SHUT = "shut"
    OPEN = "open"
    LOCKED = "locked"


def spec(step: Door, *after: Door, keys: tuple[str, ...] = ()) -> StepSpec[Door]:
    return StepSpec(step, f"the door is {step}", (), frozenset(after), keys)


DOOR = StepTable(
    [
        spec(Door.SHUT, Door.OPEN, Door.LOCKED, keys=("door.open", "door.lock")),
        spec(Door.OPEN, Door.SHUT, keys=("door.shut",)),
        spec(Door.LOCKED, Door.SHUT, keys=("door.unlock",)),
    ]
)


class DoorFlow(Flow[Door]):
    def __init__(self) -> None:
        super().__init__(DOOR)


def test_the_first_step_is_where_a_flow_starts() -> None:
    assert DOOR.start is Door.SHUT
    assert DoorFlow().step is Door.SHUT
    assert [s.step for s in DOOR] == [Door.SHUT, Door.OPEN, Door.LOCKED]
    assert len(DOOR) == 3
    assert DOOR[Door.OPEN].keys == ("door.shut",)


def test_a_declared_move_is_made_and_staying_is_not_a_move() -> None:
    flow = DoorFlow()
    flow.move_to(Door.SHUT)
    flow.move_to(Door.LOCKED)
    assert flow.step is Door.LOCKED
    assert flow.now() is Door.LOCKED
    assert flow.spec is DOOR[Door.LOCKED]
    assert flow.keys() == frozenset({"door.unlock"})


def test_an_undeclared_move_raises_and_the_step_stays() -> None:
    flow = DoorFlow()
    flow.move_to(Door.LOCKED)
    with pytest.raises(
        IllegalMove, match=r"DoorFlow: LOCKED may not move to OPEN \(it may move to SHUT\)"
    ):
        flow.move_to(Door.OPEN)
    assert flow.step is Door.LOCKED


def test_allows_every_pair_as_declared() -> None:
    declared = {(s.step, n) for s in DOOR for n in s.next_steps}
    for start in Door:
        for end in Door:
            assert DOOR.allows(start, end) == (start == end or (start, end) in declared)


def test_reachable_and_binding_ids() -> None:
    assert DOOR.reachable() == frozenset(Door)
    assert DOOR.binding_ids() == {"door.open", "door.lock", "door.shut", "door.unlock"}


def test_a_prompt_fills_in_its_fields() -> None:
    one = StepSpec(Door.SHUT, "Scan a tote for slot $slot ($order)", (), frozenset(), ())
    assert one.say(slot=2, order="web/1") == "Scan a tote for slot 2 (web/1)"
    assert StepSpec(Door.SHUT, "{key:door.open}: open", (), frozenset(), ()).say() == (
        "{key:door.open}: open"
    )


def test_a_state_says_nothing_by_default() -> None:
    state = FlowState(Door.SHUT)
    assert (state.message, state.level, state.alert, state.keys) == ("", "info", False, frozenset())


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "at least one step"),
        (
            [spec(Door.SHUT, Door.OPEN), spec(Door.SHUT), spec(Door.OPEN), spec(Door.LOCKED)],
            "step SHUT is declared twice",
        ),
        ([spec(Door.SHUT, Door.OPEN), spec(Door.OPEN)], "step(s) without a spec: LOCKED"),
        (
            [spec(Door.SHUT, Door.OPEN), spec(Door.OPEN, Door.SHUT), spec(Door.LOCKED, Door.SHUT)],
            "step(s) never reached: LOCKED",
        ),
    ],
)
def test_a_table_that_contradicts_itself_is_refused(
    specs: list[StepSpec[Door]], message: str
) -> None:
    with pytest.raises(StepTableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        StepTable(specs)


def test_a_next_step_of_another_kind_is_refused() -> None:
    class Other(enum.Enum):
        ELSEWHERE = "elsewhere"

    bad = StepSpec(Door.SHUT, "", (), frozenset({Other.ELSEWHERE}), ())
    with pytest.raises(StepTableError, match="SHUT may move to .*ELSEWHERE.*not a step"):
        StepTable([bad, spec(Door.OPEN), spec(Door.LOCKED)])  # type: ignore[arg-type]
