"""Unlocking the notes with a passphrase (or the recovery code), typed into the app itself.

Over SSH there is usually no keyring, so this is how a coach opens their notes. Cancel
leaves them locked and everything else works as before.
"""

from __future__ import annotations

import math

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from trustdesk.tui.failures import failure_line
from trustdesk.tui.screens.base import TrustdeskModal
from trustdesk.tui.widgets import steady
from trustdesk.vault import LockReason, Vault, VaultStatus
from trustdesk.vault.throttle import UnlockThrottle


class UnlockScreen(TrustdeskModal[VaultStatus | None]):
    """Ask for the passphrase; dismiss with the vault's new status, or None if cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="unlock_cancel"),
        Binding("ctrl+r", "use_recovery", "Use recovery code", id="unlock_recovery"),
    ]

    def __init__(self, vault: Vault, *, demo_passphrase: str | None = None) -> None:
        super().__init__()
        self.vault = vault
        self.demo_passphrase = demo_passphrase
        self.recovery = False

    def compose(self) -> ComposeResult:
        with Vertical(id="unlock", classes="dialog"):
            yield Label("Unlock your notes", classes="dialog-title")
            yield Static(self._why(), id="unlock-why", classes="dialog-intro", markup=False)
            yield Label("Passphrase", id="unlock-label", classes="field-label")
            yield steady(Input(password=True, id="passphrase"))
            yield Static("", id="unlock-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Unlock", variant="primary", id="unlock-button")
                yield Button("Cancel", id="cancel")

    def _why(self) -> str:
        status = self.vault.last_status
        lines = []
        if status is not None and status.reason in (
            LockReason.NO_KEYRING, LockReason.KEYRING_LOCKED, LockReason.NOTHING_STORED
        ):  # fmt: skip
            lines.append(f"The keyring cannot open them: {status.detail}.")
        lines.append("Notes stay sealed on disk; they open only in this session's memory.")
        if self.demo_passphrase:
            lines.append(f"This is the demo practice: the passphrase is “{self.demo_passphrase}”.")
        return "\n".join(lines)

    @property
    def throttle(self) -> UnlockThrottle:
        """The app's count of failed unlocks, shared by every unlock screen it shows."""
        return self.td.unlock_throttle

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def action_use_recovery(self) -> None:
        self.recovery = not self.recovery
        label = "Recovery code" if self.recovery else "Passphrase"
        self.query_one("#unlock-label", Label).update(label)
        box = self.query_one("#passphrase", Input)
        box.password = True  # a recovery code opens the notes too: never shown as typed
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock-button")
    def submit(self) -> None:
        secret = self.query_one("#passphrase", Input).value
        if not secret:
            self.query_one("#unlock-error", Static).update("Type your passphrase first.")
            return
        left = self.throttle.wait_left()
        if left > 0:  # nothing is tried; what was typed stays (masked) for when it is time
            self.query_one("#unlock-error", Static).update(
                f"Wait {math.ceil(left)} s before the next try "
                f"({self.throttle.failures} failed so far)."
            )
            return
        # The box lets go of the secret at once: only the worker holds it, until it is done.
        self.query_one("#passphrase", Input).value = ""
        self.query_one("#unlock-error", Static).update("Checking…")
        self.query_one("#unlock-button", Button).disabled = True
        self.try_unlock(secret, self.recovery)

    def try_unlock(self, secret: str, recovery: bool) -> None:
        """Argon2id takes a moment by design, so it runs off the UI thread. Whatever goes
        wrong is one line on this screen, with the secret cut out of it (a MemoryError in
        its own words): never Textual's traceback, which shows locals."""
        vault = self.vault
        unlock = vault.unlock_with_recovery_code if recovery else vault.unlock_with_passphrase
        self.load(
            unlock,
            secret,
            then=self._result,
            failed=lambda exc: self._try_again(failure_line(exc, secret, doing="check it")),
            group="unlock",
        )

    def _try_again(self, line: str) -> None:
        """An empty box, ready for another try, under the line that says why; nothing if
        the coach has left this screen meanwhile."""
        if not (self.is_attached and self.app.screen is self):
            return
        self.query_one("#unlock-button", Button).disabled = False
        box = self.query_one("#passphrase", Input)
        box.value = ""
        box.focus()
        self.query_one("#unlock-error", Static).update(line)

    def _result(self, status: VaultStatus) -> None:
        if status.unlocked:
            self.throttle.succeeded()
            # Told to the app even if this screen was cancelled meanwhile: open notes must
            # always be known to the screens and to the idle lock.
            self.td.vault_changed(status)
            if self.is_attached and self.app.screen is self:
                self.dismiss(status)
            return
        delay = self.throttle.failed() if status.reason is LockReason.WRONG_KEY else 0
        what = "recovery code" if self.recovery else "passphrase"
        then = f"Next try in {math.ceil(delay)} s" if delay else "Try again"
        self._try_again(
            f"That {what} does not open the notes. {then}, or Ctrl+R for the recovery code."
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
