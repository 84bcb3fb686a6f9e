"""Station flows as state machines whose steps are declared as data.

Every station (pick, login, supervisor, and later pack, ship, returns) has the same shape:

:class:`StepSpec`
    One step: what the operator is told (``prompt``), which scans it expects
    (``expects``: barcode kinds such as ``location``, ``gtin``, ``tote``), the steps that may
    come next (``next_steps``) and the keys (binding ids) that do something in it.

:class:`StepTable`
    A station's steps, checked when it is built: every step of the station's enum has one
    spec, every next step is declared, and every step can be reached from the first. The
    station's screen reads it for its footer and help (which keys are enabled now), and
    the tests read it to walk every move.

:class:`Flow`
    The station's logic, with no UI and no store of its own (it calls a terminal). Its step
    changes only through :meth:`Flow.move_to`, which refuses a move the table does not
    declare with :class:`IllegalMove`: a bug, never an operator's mistake.

:class:`FlowState`
    What a screen shows after one scan or action: the step, a message in a level's colour,
    and whether to ring the bell and flash (``alert``). Each station extends it.

Messages may name keys by binding id (``{key:pick.claim}``); the screen shows the key the
site bound to it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from string import Template
from typing import Generic, Literal, TypeVar

Level = Literal["info", "ok", "warn", "error"]
"""How a message is shown: ``error`` is a refusal, ``warn`` news to act on."""

S = TypeVar("S", bound=enum.Enum)


class IllegalMove(RuntimeError):
    """A flow tried a move its step table does not declare (a bug in the flow)."""


class StepTableError(ValueError):
    """A step table that contradicts itself (a step twice, or not declared, or unreachable)."""


@dataclass(frozen=True)
class StepSpec(Generic[S]):
    """One step of a station flow, as data."""

    step: S
    prompt: str
    """What the operator is told to do; ``$name`` fields are filled in by :meth:`say`, and
    ``{key:binding.id}`` names a key."""
    expects: tuple[str, ...]
    """The barcode kinds a scan in this step is checked as (empty: no scan is wanted)."""
    next_steps: frozenset[S]
    """The steps a move from this one may go to (staying in it is not a move)."""
    keys: tuple[str, ...]
    """The binding ids enabled in this step; every other binding of the screen is not."""

    def say(self, **values: object) -> str:
        """The prompt with its ``$name`` fields filled in."""
        return Template(self.prompt).substitute({k: str(v) for k, v in values.items()})


class StepTable(Generic[S]):
    """A station's steps, the first one first."""

    def __init__(self, specs: Iterable[StepSpec[S]]) -> None:
        self.specs: tuple[StepSpec[S], ...] = tuple(specs)
        if not self.specs:
            raise StepTableError("a step table needs at least one step")
        self.start: S = self.specs[0].step
        self._by_step: dict[S, StepSpec[S]] = {}
        for spec in self.specs:
            if spec.step in self._by_step:
                raise StepTableError(f"step {spec.step.name} is declared twice")
            self._by_step[spec.step] = spec
        steps = type(self.start)
        missing = [s.name for s in steps if s not in self._by_step]
        if missing:
            raise StepTableError(f"step(s) without a spec: {', '.join(missing)}")
        for spec in self.specs:
            for target in spec.next_steps:
                if target not in self._by_step:
                    raise StepTableError(
                        f"{spec.step.name} may move to {target!r}, which is not a step"
                    )
        unreachable = [s.step.name for s in self.specs if s.step not in self.reachable()]
        if unreachable:
            raise StepTableError(f"step(s) never reached: {', '.join(unreachable)}")

    def __iter__(self) -> Iterator[StepSpec[S]]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, step: S) -> StepSpec[S]:
        return self._by_step[step]

    def allows(self, start: S, end: S) -> bool:
        """May a flow go from ``start`` to ``end``? Staying where it is always may."""
        return start == end or end in self._by_step[start].next_steps

    def reachable(self) -> frozenset[S]:
        """The steps a flow can get to from the first one."""
        seen = {self.start}
        todo = [self.start]
        while todo:
            for target in self._by_step[todo.pop()].next_steps:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)

    def binding_ids(self) -> frozenset[str]:
        """Every binding id some step enables."""
        return frozenset(key for spec in self.specs for key in spec.keys)


@dataclass(frozen=True)
class FlowState(Generic[S]):
    """What a station screen shows after one scan or action."""

    step: S
    message: str = ""
    level: Level = "info"
    alert: bool = False
    """Ring the bell and flash: a refusal, or news the operator must act on."""
    keys: frozenset[str] = frozenset()
    """The binding ids enabled now (the step's keys, less any the situation rules out)."""


class Flow(Generic[S]):
    """A station's logic: its step changes only by :meth:`move_to`, inside its table."""

    def __init__(self, table: StepTable[S]) -> None:
        self.table = table
        """The flow's steps; its first step is where the flow starts."""
        self._step: S = table.start

    @property
    def step(self) -> S:
        """Where the operator is (read only: :meth:`move_to` changes it)."""
        return self._step

    def now(self) -> S:
        """The step (a call, so type checkers do not keep an earlier narrowing)."""
        return self._step

    @property
    def spec(self) -> StepSpec[S]:
        return self.table[self._step]

    def move_to(self, step: S) -> None:
        """Go to ``step`` if the table allows the move from here; :class:`IllegalMove` if not."""
        if not self.table.allows(self._step, step):
            raise IllegalMove(
                f"{type(self).__name__}: {self._step.name} may not move to {step.name} "
                f"(it may move to {', '.join(sorted(s.name for s in self.spec.next_steps))})"
            )
        self._step = step

    def keys(self) -> frozenset[str]:
        """The binding ids the table enables in this step."""
        return frozenset(self.spec.keys)
