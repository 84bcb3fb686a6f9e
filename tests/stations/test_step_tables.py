"""The flows' step tables and the screens' bindings name the same keys: every binding a
screen has is enabled in some step, every key a table enables is bound, and every key a
prompt names exists."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.binding import Binding, BindingType

from app.flows import StepTable
from app.login_flow import LOGIN_STEPS
from app.packing.flow import PACK_STEPS
from app.picking.flow import PICK_STEPS
from app.supervisor_flow import SUPERVISOR_STEPS
from stations.app import StationApp
from stations.login import LoginScreen
from stations.pack import ACTION_IDS as PACK_ACTIONS
from stations.pack import PACK_BINDINGS
from stations.pick import ACTION_IDS as PICK_ACTIONS
from stations.pick import PICK_BINDINGS
from stations.supervisor import ACTION_IDS as SUPERVISOR_ACTIONS
from stations.supervisor import SUPERVISOR_BINDINGS, TakeBackModal, UnlockModal

KEY = re.compile(r"\{key:([a-z_.]+)\}")


def ids(bindings: list[BindingType]) -> set[str]:
    return {b.id for b in bindings if isinstance(b, Binding) and b.id}


TABLES: list[tuple[str, StepTable[Any], set[str]]] = [
    ("pick", PICK_STEPS, ids(PICK_BINDINGS)),
    ("login", LOGIN_STEPS, ids(LoginScreen.BINDINGS)),
    ("pack", PACK_STEPS, ids(PACK_BINDINGS)),
    (
        "supervisor",
        SUPERVISOR_STEPS,
        ids(SUPERVISOR_BINDINGS) | ids(TakeBackModal.BINDINGS) | ids(UnlockModal.BINDINGS),
    ),
]


@pytest.mark.parametrize(("name", "table", "bound"), TABLES, ids=[t[0] for t in TABLES])
def test_the_table_enables_exactly_the_screens_keys(
    name: str,
    table: StepTable[Any],
    bound: set[str],
) -> None:
    assert table.binding_ids() == bound, name


@pytest.mark.parametrize(("name", "table", "bound"), TABLES, ids=[t[0] for t in TABLES])
def test_every_key_a_prompt_names_is_bound(
    name: str,
    table: StepTable[Any],
    bound: set[str],
) -> None:
    everywhere = bound | ids(StationApp.BINDINGS)
    for spec in table:
        assert set(KEY.findall(spec.prompt)) <= everywhere, (name, spec.step)


def test_each_screen_action_has_its_binding_id() -> None:
    assert set(PICK_ACTIONS.values()) == ids(PICK_BINDINGS)
    assert set(SUPERVISOR_ACTIONS.values()) == ids(SUPERVISOR_BINDINGS)
    assert set(PACK_ACTIONS.values()) == ids(PACK_BINDINGS)
