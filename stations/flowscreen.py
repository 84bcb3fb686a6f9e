"""What every station screen that renders a flow shares: jobs handed to the terminal worker
and their answers shown, a store that does not answer said in a sentence, the refusal's
bell and flash, the message and entry lines, and keys enabled by the flow's step table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from app.barcodes import show
from app.flows import FlowState
from stations.capture import EntryChanged, ScannerStatus
from stations.messages import Level, show_message

if TYPE_CHECKING:
    from stations.app import StationApp

St = TypeVar("St", bound=FlowState[Any])


class FlowScreen(Screen[None], Generic[St]):
    """A station screen showing the states its flow answers. Subclasses set
    ``ACTION_IDS`` (action name → binding id), keep ``shown`` and implement
    :meth:`render_state`, calling :meth:`show_common` in it."""

    ACTION_IDS: ClassVar[dict[str, str]] = {}
    shown: St

    def __init__(self) -> None:
        super().__init__()
        self.generation = self.station.generation
        self._flash_timer: Any = None

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

    def _submit(self, work: Callable[[], St | None]) -> None:
        self.station.submit(work, self._result, generation=self.generation)

    def _result(self, result: St | None | Exception) -> None:
        if not self.is_attached:
            return
        if isinstance(result, Exception):
            first = str(result).strip().splitlines()[0][:120] if str(result).strip() else ""
            why = f" ({first})" if first else ""
            self.render_state(
                replace(
                    self.shown,
                    message=f"the store did not answer{why}; nothing was recorded: try again, "
                    "and tell a supervisor if it keeps happening",
                    level="error",
                    alert=True,
                )
            )
            return
        if result is not None:
            self.render_state(result)

    def render_state(self, state: St) -> None:
        raise NotImplementedError

    def show_common(self, state: St) -> None:
        """The message line, and the bell and flash of a refusal."""
        self.render_message(state.message, state.level)
        if state.alert:
            self.station.bell()
            self.add_class("refused")
            if self._flash_timer is not None:
                self._flash_timer.stop()
            self._flash_timer = self.set_timer(
                self.station.flash_seconds, lambda: self.remove_class("refused")
            )

    def render_message(self, text: str, level: Level) -> None:
        show_message(self, text, level)

    def on_entry_changed(self, message: EntryChanged) -> None:
        pending = show(message.pending)[1:-1] if message.pending else ""
        self.query_one("#entry", Static).update(Content(f"> {pending}"))

    def on_scanner_status(self, message: ScannerStatus) -> None:
        self.query_one("#message", Static).update(
            Content(f"scanner {message.name}: {message.status}")
        )

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """Only the keys the step table enables in this step, as the flow last said."""
        binding_id = self.ACTION_IDS.get(action)
        if binding_id is None:
            return True
        return binding_id in self.shown.keys
