"""What every trustdesk screen shares: the app, typed, and one way to load off the UI thread.

`load` runs a `trust` call on a worker thread, on a connection borrowed for that work
(`TrustdeskApp.fetch`), and hands its answer, or what went wrong, back on the UI thread.
Its workers never end the app: Textual's error screen would print a traceback with every
local variable in it, and a database that is busy is something to say, not to crash on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from trustdesk.store import StoreError
from trustdesk.tui.failures import failure_line
from trustdesk.tui.messages import PracticeChanged

if TYPE_CHECKING:
    from textual.app import App

    from trustdesk.tui.app import TrustdeskApp

T = TypeVar("T")
R = TypeVar("R")


def trustdesk_app(app: App) -> TrustdeskApp:
    """The running app as what it is: for widgets, which are not screens."""
    return cast("TrustdeskApp", app)


class Tells:
    """The typed app, and telling the screen that something it shows was saved.

    For screens and the widgets on them: a widget's `PracticeChanged` bubbles to its
    screen, a screen's reaches itself, and either way the screen loads again.
    """

    if TYPE_CHECKING:
        app: App
        post_message: Callable[..., bool]

    @property
    def td(self) -> TrustdeskApp:
        return trustdesk_app(self.app)

    def practice_changed(self) -> None:
        """After a save: the screen holding this loads again, if it is still shown."""
        self.post_message(PracticeChanged())


class Loads(Tells):
    """`load`, for screens and for a widget that loads on its own."""

    if TYPE_CHECKING:
        is_attached: bool
        run_worker: Callable[..., Worker]

    def load(
        self,
        work: Callable[..., T],
        *args: Any,
        then: Callable[[T], None],
        failed: Callable[[Exception], None] | None = None,
        group: str = "load",
        exclusive: bool = True,
    ) -> Worker[None]:
        """Run `work(*args)` off the UI thread; `then(answer)` or `failed(error)` on it.

        Without `failed`, whatever goes wrong is one line for the coach (`load_failed`).
        The answer is handed on, never kept by the worker: a note's words must be gone
        once the screen that showed them has let go.
        """
        app = self.td

        def run() -> None:
            try:
                answer = app.fetch(work, *args)
            except Exception as exc:  # noqa: BLE001 - said in one line, never a traceback
                app.call_from_thread(failed or self.load_failed, exc)
                return
            app.call_from_thread(then, answer)

        return self.run_worker(
            run, thread=True, group=group, exclusive=exclusive, exit_on_error=False
        )

    def load_failed(self, exc: Exception) -> None:
        """One line, as an error: the driver's own words, or what `failure_line` makes."""
        line = str(exc) if isinstance(exc, StoreError) else failure_line(exc, doing="load it")
        self.td.notify(f"Could not load: {line}", severity="error", markup=False)


class Reloads(Loads):
    """A screen: `reload` is the one name for "load what you show again", and it is what
    the screen does when `PracticeChanged` reaches it (from its widgets or the app)."""

    def reload(self) -> None:
        """Load what this screen shows again; a screen that shows nothing saved does nothing."""

    def action_reload(self) -> None:
        """F5, wherever a screen offers it."""
        self.reload()

    def on_practice_changed(self, message: PracticeChanged) -> None:
        message.stop()
        if self.is_attached:
            self.reload()


class TrustdeskScreen(Reloads, Screen[R], Generic[R]):
    """A full screen of the app."""


class TrustdeskModal(Reloads, ModalScreen[R], Generic[R]):
    """A dialog over another screen, with the same typed app and `load`."""
