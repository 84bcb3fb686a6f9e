"""The supervisor station's flow: the node's pick lists on the floor, taking one back, and
unlocking a badge locked by wrong PINs.

:data:`SUPERVISOR_STEPS` declares the steps (watching the queue, confirming a take-back);
:class:`SupervisorFlow` moves between them on the UI thread. Its store work (reading the
queue, taking a list back) is in :meth:`SupervisorFlow.read` and
:meth:`SupervisorFlow.take_back`, which the station runs on its terminal worker and which
change nothing in the flow; their answers come back to :meth:`SupervisorFlow.queue_read`
and :meth:`SupervisorFlow.taken_back`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from app.barcodes import show
from app.flows import Flow, FlowState, Level, StepSpec, StepTable
from app.picking.station import StationError
from app.scanning import ScanEvent
from app.supervisor import FloorQueue, ListOnFloor
from app.users import badge_of


class SupervisorStep(enum.StrEnum):
    """What the supervisor is doing."""

    QUEUE = "queue"
    """Watching the queue, a list highlighted."""
    CONFIRM = "confirm"
    """Asked to confirm taking the highlighted list back (typed Y and Enter)."""
    UNLOCK = "unlock"
    """Asked for the badge to unlock (scanned, or typed and Enter)."""


SUPERVISOR_STEPS: StepTable[SupervisorStep] = StepTable(
    [
        StepSpec(
            SupervisorStep.QUEUE,
            prompt="Choose a list with ↑ ↓; {key:supervisor.take_back} takes it back",
            expects=(),
            next_steps=frozenset({SupervisorStep.CONFIRM, SupervisorStep.UNLOCK}),
            keys=(
                "supervisor.refresh",
                "supervisor.take_back",
                "supervisor.attention",
                "supervisor.unlock",
            ),
        ),
        StepSpec(
            SupervisorStep.CONFIRM,
            prompt="Type Y and Enter to take it back · Esc to leave it",
            # A scan never answers the question: it leaves it, and is refused.
            expects=(),
            next_steps=frozenset({SupervisorStep.QUEUE}),
            keys=("take_back.cancel",),
        ),
        StepSpec(
            SupervisorStep.UNLOCK,
            prompt="Scan the badge to unlock, or type it and Enter · Esc to leave it",
            expects=("badge",),
            next_steps=frozenset({SupervisorStep.QUEUE}),
            keys=("unlock.cancel",),
        ),
    ]
)
"""The supervisor station's steps, as data."""


class SupervisorTerminal(Protocol):
    """What the supervisor flow uses of :class:`app.terminal.Terminal`."""

    def pick_queue(self) -> FloorQueue: ...

    def take_back(self, list_id: int) -> None: ...

    def unlock(self, badge: str) -> str: ...


@dataclass(frozen=True)
class SupervisorState(FlowState[SupervisorStep]):
    """What the supervisor screen shows. The message stays until another replaces it."""

    queue: FloorQueue | None = None
    """The queue as last read (None before the first read)."""
    attention_only: bool = False
    asking: ListOnFloor | None = None
    """The list the take-back question is about (step CONFIRM)."""

    @property
    def lists(self) -> list[ListOnFloor]:
        """The lists shown: all, or only those needing attention."""
        if self.queue is None:
            return []
        lists = self.queue.lists
        return [x for x in lists if x.needs_attention] if self.attention_only else list(lists)

    @property
    def summary(self) -> str:
        queue = self.queue
        if queue is None:
            return "Reading the floor…"
        which = "Needing attention" if self.attention_only else "On the floor"
        return (
            f"{which}: {queue.count('claimed')} claimed ({queue.stale} quiet) · "
            f"{queue.count('paused')} paused · {queue.count('released')} released · "
            f"{queue.at:%H:%M:%S}"
        )


class SupervisorFlow(Flow[SupervisorStep]):
    """The supervisor's queue and take-backs; every change on the UI thread."""

    def __init__(self, terminal: SupervisorTerminal) -> None:
        super().__init__(SUPERVISOR_STEPS)
        self.terminal = terminal
        self.queue: FloorQueue | None = None
        self.attention_only = False
        self.asking: ListOnFloor | None = None
        self.message = ""
        self.level: Level = "info"

    def state(self, *, alert: bool = False) -> SupervisorState:
        return SupervisorState(
            step=self.step,
            message=self.message,
            level=self.level,
            alert=alert,
            keys=self.keys(),
            queue=self.queue,
            attention_only=self.attention_only,
            asking=self.asking,
        )

    def say(self, message: str, level: Level = "info") -> SupervisorState:
        self.message, self.level = message, level
        return self.state()

    def refuse(self, message: str) -> SupervisorState:
        """Nothing was done; the bell rings."""
        self.message, self.level = message, "error"
        return self.state(alert=True)

    # --- the queue --------------------------------------------------------------------

    def read(self) -> FloorQueue:
        """The queue from the store (on the terminal worker)."""
        return self.terminal.pick_queue()

    def refresh(self) -> SupervisorState:
        """Read now (the station then runs :meth:`read`)."""
        return self.say("Reading the queue…")

    def queue_read(self, result: FloorQueue | Exception) -> SupervisorState:
        if isinstance(result, Exception):
            return self.say(
                f"the store did not answer ({result}); the queue is as last read", "error"
            )
        self.queue = result
        return self.state()

    def toggle_attention(self) -> SupervisorState:
        self.attention_only = not self.attention_only
        return self.state()

    # --- taking a list back -----------------------------------------------------------

    def ask(self, item: ListOnFloor | None) -> SupervisorState:
        """Take the highlighted list back? The question (step CONFIRM), or a refusal."""
        if item is None:
            return self.refuse("there is no list to take back: choose one with ↑ ↓")
        if item.status == "released":
            return self.refuse(
                f"pick list {item.id} is released, nobody holds it: nothing to take back"
            )
        self.move_to(SupervisorStep.CONFIRM)
        self.asking = item
        return self.state()

    def answered(self, sure: bool | None) -> ListOnFloor | None:
        """The question's answer: the list to take back, or None (left as it is)."""
        item = self.asking
        self.move_to(SupervisorStep.QUEUE)
        self.asking = None
        return item if sure else None

    def take_back(self, item: ListOnFloor) -> FloorQueue:
        """Take the list back and read the queue again (on the terminal worker)."""
        self.terminal.take_back(item.id)
        return self.terminal.pick_queue()

    def taken_back(self, item: ListOnFloor, result: FloorQueue | Exception) -> SupervisorState:
        if isinstance(result, StationError):
            return self.refuse(str(result))
        if isinstance(result, Exception):
            return self.refuse(f"the store did not answer ({result}); nothing was taken back")
        self.queue = result
        holder = f" from {item.picker}" if item.picker else ""
        return self.say(f"Pick list {item.id} taken back{holder}: anyone can claim it", "ok")

    # --- unlocking a badge ------------------------------------------------------------

    def ask_unlock(self) -> SupervisorState:
        """Which badge? (step UNLOCK)"""
        self.move_to(SupervisorStep.UNLOCK)
        return self.say(SUPERVISOR_STEPS[SupervisorStep.UNLOCK].prompt)

    def unlock_answered(self, text: str | None) -> str | None:
        """The badge to unlock as scanned or typed (``BADGE-U1001`` or ``U1001``), or None
        when the question was left."""
        self.move_to(SupervisorStep.QUEUE)
        if text is None or not text.strip():
            self.say("")
            return None
        return badge_of(text)

    def unlock(self, badge: str) -> str:
        """Unlock it (on the terminal worker); the person's name."""
        return self.terminal.unlock(badge)

    def unlocked(self, badge: str, result: str | Exception) -> SupervisorState:
        if isinstance(result, StationError):
            return self.refuse(str(result))
        if isinstance(result, Exception):
            return self.refuse(f"the store did not answer ({result}); badge {badge} is as it was")
        return self.say(f"Badge {badge} ({result}) is unlocked: they can log in again", "ok")

    def scan(self, event: ScanEvent) -> SupervisorState:
        """Nothing is scanned at the queue: a badge is scanned after {key:supervisor.unlock}."""
        return self.refuse(
            f"nothing is scanned here, scanned {show(event.text)}: choose a list with "
            "↑ ↓; {key:supervisor.take_back} takes it back, {key:supervisor.unlock} unlocks "
            "a badge"
        )
