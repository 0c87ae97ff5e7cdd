"""The full-screen trustdesk app: the dashboard, a workspace per client, and the notes lock.

Screens never run SQL themselves: they ask `trust` for frozen dataclasses through
`TrustdeskScreen.load` (a thread worker calling `TrustdeskApp.fetch`, on a connection
borrowed for that work) and update widgets back on the UI thread. The app tells the
screens what changed with messages (`tui.messages`). Nothing ticks while the coach is idle,
apart from the one idle-lock timer, which repaints nothing until it fires.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable
from typing import Any, TypeVar

import textual.constants
from textual.app import App
from textual.timer import Timer

from trustdesk import config
from trustdesk.store import Coach, Database, borrowed
from trustdesk.trust.promises import Closing
from trustdesk.tui.commands import TrustdeskCommands
from trustdesk.tui.failures import failure_line
from trustdesk.tui.keys import ANYWHERE
from trustdesk.tui.messages import NotesLockChanged, PracticeChanged
from trustdesk.tui.paths import stylesheet
from trustdesk.vault import Vault, VaultStatus
from trustdesk.vault.throttle import UnlockThrottle

T = TypeVar("T")


def keep_textual_quiet() -> None:
    """Turn off what Textual reads from its environment at import and would write to disk.

    TEXTUAL_LOG appends every log line (keys typed into the unlock screen among them) to a
    file, and TEXTUAL_SCREENSHOT saves the screen, perhaps with a note open, after a delay.
    Both are off for as long as this process runs trustdesk's app.
    """
    textual.constants.LOG_FILE = None  # type: ignore[misc]
    textual.constants.SCREENSHOT_DELAY = -1  # type: ignore[misc]


class TrustdeskApp(App):
    """One coach's practice, opened on an already-migrated database."""

    TITLE = "trustdesk"
    CSS_PATH = stylesheet()
    COMMANDS = App.COMMANDS | {TrustdeskCommands}
    BINDINGS = ANYWHERE

    def __init__(
        self,
        database: Database,
        coach: Coach,
        *,
        settings: config.Settings | None = None,
        vault: Vault | None = None,
        demo_passphrase: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.database = database
        self.coach = coach
        self.settings = settings or config.Settings()
        self.vault = vault or Vault(coach, self.settings)
        self.demo_passphrase = demo_passphrase
        self._clock = clock
        self._last_activity = clock()
        self._idle_timer: Timer | None = None
        self.idle_wakeup: float | None = None  # on `clock`, when the idle check runs next
        self._keyring_tried = False
        self._sync_started = False
        # Promises closed (done, dropped, renegotiated) in this run, for `u`: newest last.
        self.closings: list[Closing] = []
        # Failed unlocks in this process: each makes the next try wait longer.
        self.unlock_throttle = UnlockThrottle(clock)
        keep_textual_quiet()
        # Devtools would receive every log line (typed keys, screen contents) too.
        self.features = frozenset(self.features - {"devtools", "debug"})

    # --- nothing private reaches the disk ----------------------------------------------

    def save_screenshot(self, filename=None, path=None, time_format=None) -> str:
        """Refused: a screenshot could hold a decrypted note. Nothing is written."""
        self.action_screenshot()
        return ""

    def get_system_commands(self, screen):
        """Textual's own palette commands, without the screenshot: it could save a note."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def action_screenshot(self, filename=None, path=None) -> None:
        self.notify(
            "Screenshots are off in trustdesk: they could write private notes to disk.",
            severity="warning",
        )

    def deliver_screenshot(self, *args, **kwargs) -> None:
        self.action_screenshot()

    # --- the one clock -----------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        return config.today()

    # --- data, off the UI thread -----------------------------------------------------------

    def fetch(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work` (a trust call) on this thread with its own database connection.

        Called from thread workers; the UI thread never waits on SQL. The driver's errors
        arrive as the store's own: `StoreBusy`, or `StoreError` with the driver's words.
        """
        with borrowed():
            return work(*args, **kwargs)

    # --- screens --------------------------------------------------------------------------

    def on_mount(self) -> None:
        from trustdesk.tui.screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen())
        # What startup built (Textual, the stylesheet, the screens) lives as long as the app:
        # freezing it keeps full collections to what was made since (pauses of 50-150 ms at L).
        self.call_after_refresh(gc.freeze)

    def action_help(self) -> None:
        from trustdesk.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`u` is offered only when there is a close to undo, Ctrl+L only while notes are open."""
        if action == "undo":
            return bool(self.closings)
        if action == "lock":
            return self.vault.unlocked
        return True

    def action_undo(self) -> None:
        """Undo the last close of a promise made in this run of the app."""
        from trustdesk.tui.flows.promises import undo_last

        undo_last(self, self.practice_changed)

    def action_search_notes(self) -> None:
        """Ctrl+F: search every note of the coach (unlocking first)."""
        from trustdesk.tui.screens.note_search import NoteSearchScreen, search_notes_screen

        if not isinstance(self.screen, NoteSearchScreen):
            search_notes_screen(self)

    # --- the notes lock ---------------------------------------------------------------------

    def vault_unlock_quietly(self) -> None:
        """Try the keyring once, when the dashboard has its numbers; if it cannot open the
        notes, they stay locked until asked. Not at start: looking up the keyring backend
        is Python work that would slow the first screen, which needs no key.
        """
        if self._keyring_tried:
            return
        self._keyring_tried = True
        self.run_worker(self._try_keyring, thread=True, group="vault", exit_on_error=False)

    def _try_keyring(self) -> None:
        if self.vault.unlocked:  # opened with a passphrase before the dashboard was ready
            return
        try:
            status = self.fetch(self.vault.unlock)
        except Exception as exc:  # noqa: BLE001 - a keyring secret must not reach a traceback
            line = failure_line(exc, doing="ask the keyring")
            self.call_from_thread(
                self.notify, line, title="Notes", severity="warning", markup=False
            )
            return
        if status.unlocked or not self.vault.unlocked:
            self.call_from_thread(self.vault_changed, status)

    # --- mail and calendar, once at start ---------------------------------------------------

    def sync_on_start(self) -> None:
        """Sync mail and calendar once, when the dashboard has its numbers (never before the
        first paint), if settings.sync_on_start asks; the dashboard reloads if anything
        was logged, and one notification says what happened."""
        if self._sync_started or not self.settings.sync_on_start:
            return
        self._sync_started = True
        self.run_worker(self._sync, thread=True, group="sync", exit_on_error=False)

    def _sync(self) -> None:
        from trustdesk.sync import sync_everything

        try:
            summary = self.fetch(
                sync_everything, self.coach, self.settings, config.today(), config.now()
            )
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            line = failure_line(exc, doing="sync mail and calendar")
            self.call_from_thread(self.notify, line, title="Sync", severity="warning", markup=False)
            return
        self.call_from_thread(self.synced, summary)

    def synced(self, summary) -> None:
        if summary.changed:
            self.practice_changed()
        words = summary.words()
        if words:
            severity = "warning" if summary.failed else "information"
            self.notify(words, title="Sync", severity=severity, markup=False)

    def check_practice(self) -> None:
        """K on the dashboard, or the palette: check what the dashboard keeps of each
        client's history against the records, rebuild it if they differ, and say so."""
        self.run_worker(self._check_practice, thread=True, group="check", exit_on_error=False)

    def _check_practice(self) -> None:
        from trustdesk.trust.doctor import check_rollups, check_words

        try:
            check = self.fetch(check_rollups, self.coach, repair=True)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            line = failure_line(exc, doing="check the practice")
            self.call_from_thread(self.notify, line, title="Check", severity="error", markup=False)
            return
        if check.repaired:
            self.call_from_thread(self.practice_changed)
        severity = "information" if check.ok else "warning"
        self.call_from_thread(
            self.notify, check_words(check), title="Check", severity=severity, markup=False
        )

    def vault_changed(self, status: VaultStatus) -> None:
        """The notes locked or opened: every screen open is told (`NotesLockChanged`)."""
        if status.unlocked:
            self.restart_idle_timer()
        self.refresh_bindings()
        for screen in self.screen_stack:
            screen.post_message(NotesLockChanged(status))

    def practice_changed(self) -> None:
        """Something was saved from outside a screen (the palette): every screen reloads."""
        for screen in self.screen_stack:
            screen.post_message(PracticeChanged())

    def request_unlock(self, then: Callable[[], None] | None = None) -> None:
        """Show the unlock screen; `then` runs once the notes are open."""
        from trustdesk.tui.screens.unlock import UnlockScreen

        if self.vault.unlocked:
            if then:
                then()
            return

        def done(status: VaultStatus | None) -> None:
            if status is not None and status.unlocked:
                self.vault_changed(status)
                if then:
                    then()

        self.push_screen(UnlockScreen(self.vault, demo_passphrase=self.demo_passphrase), done)

    def action_lock(self) -> None:
        self.lock_notes("Notes locked.")

    def lock_notes(self, message: str) -> None:
        was_unlocked = self.vault.unlocked
        self.vault.lock()
        self._stop_idle_timer()
        self.vault_changed(self.vault.status())
        if was_unlocked:
            self.notify(message, title="Notes", markup=False)

    # --- the idle lock: at the setting after the last key or click, not up to twice that ---

    def _stop_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        self.idle_wakeup = None

    def restart_idle_timer(self) -> None:
        """The notes just opened: count idle time from now."""
        self.note_activity()
        self.idle_tick()

    def note_activity(self) -> None:
        """A key or a click. Only a number changes; the timer wakes when it would have fired."""
        self._last_activity = self._clock()

    def idle_tick(self) -> None:
        """Lock if the coach has been idle for the setting; else wake again when they would be.

        A timer that is reset on every key waits out its current interval first, so
        notes stayed open up to twice the setting. Here the timer only ever sleeps for
        what is left since the last activity, measured on `clock`.
        """
        self._stop_idle_timer()
        limit = self.settings.idle_lock_minutes * 60
        if not self.vault.unlocked or limit <= 0:
            return
        left = self._last_activity + limit - self._clock()
        if left <= 0:
            minutes = self.settings.idle_lock_minutes
            self.lock_notes(f"Notes locked after {minutes} idle minutes.")
            return
        self.idle_wakeup = self._clock() + left
        self._idle_timer = self.set_timer(left, self.idle_tick, name="idle-lock")

    def on_key(self) -> None:
        self.note_activity()

    def on_click(self) -> None:
        self.note_activity()
