"""Sending one prompt: the composed message, shown literally, to email, copy, save or mark as sent.

Copying (OSC 52, so it works over SSH) and saving to a private file log nothing; only
"Mark as sent" does, so a message that was copied but never sent does not count as
contact. "Send by email" sends it through the server's mail and logs it once it left.
What the keys change is in `tui.flows.prompts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust.prompts import ComposedMessage, PromptError, PromptItem, compose
from trustdesk.tui.flows.base import Done
from trustdesk.tui.flows.prompts import mark_sent, save_message, send_by_email
from trustdesk.tui.formatting import paragraphs
from trustdesk.tui.screens.base import TrustdeskModal

if TYPE_CHECKING:
    pass


HINT = "Copying or saving logs nothing: once it is sent, press l to log it."


class SendPromptScreen(TrustdeskModal[bool]):
    """The composed message, literally; copy it, save it, and mark it as sent once it is."""

    DEFAULT_CSS = """
    SendPromptScreen > #send-prompt {
        width: 84;
        max-width: 95%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    SendPromptScreen #send-head {
        height: auto;
        padding: 0 0 1 0;
    }
    SendPromptScreen #send-message {
        height: 1fr;
        border: round $panel;
        padding: 0 1;
    }
    SendPromptScreen #send-hint {
        color: $text-muted;
        height: auto;
    }
    SendPromptScreen .dialog-buttons Button {
        min-width: 8;
        width: auto;
    }
    SendPromptScreen #send-sent {
        color: $success;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("e", "send_email", "Send by email", id="prompt_send_email"),
        Binding("c", "copy", "Copy", id="prompt_copy"),
        Binding("s", "save", "Save to file", id="prompt_save_file"),
        Binding("l", "mark_sent", "Mark as sent", id="prompt_mark_sent"),
        Binding("enter", "mark_sent", "Mark as sent", id="prompt_mark_sent_enter", show=False),
        Binding("escape", "close", "Close", id="prompt_send_close"),
    ]

    def __init__(
        self, client_id: int, client_name: str, prompt: PromptItem, done: Done | None = None
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.prompt = prompt
        self.done = done
        self.message: ComposedMessage | None = None
        self.marked = False
        self.sending = False

    def compose(self) -> ComposeResult:
        title = Text("Send “")
        title.append(visible(self.prompt.title))
        title.append("” to ")
        title.append(visible(self.client_name))
        with Vertical(id="send-prompt"):
            yield Label(title, classes="dialog-title")
            yield Static(Text("Composing…"), id="send-head")
            with VerticalScroll(id="send-message"):
                yield Static(Text(""), id="send-body")
            yield Static(Text(HINT), id="send-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send by email", id="send-email")
                yield Button("Copy", id="copy")
                yield Button("Save to file", id="save")
                yield Button("Mark as sent", variant="primary", id="mark-sent")
                yield Button("Close", id="close")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#send-message").focus()
        self.load(
            compose,
            self.td.coach,
            self.prompt.prompt_id,
            self.client_id,
            then=self._show,
            failed=self._not_composed,
            group="prompt-compose",
        )

    def _not_composed(self, exc: Exception) -> None:
        if isinstance(exc, PromptError):
            self._failed(str(exc))
        elif isinstance(exc, StoreError):
            self._failed(f"Could not compose the message: {exc}")
        else:
            self.load_failed(exc)
            self._failed("The message was not composed.")

    def _failed(self, why: str) -> None:
        self.app.notify(why, severity="warning", markup=False)
        if self.is_current:
            self.dismiss(False)

    def _show(self, message: ComposedMessage) -> None:
        if not self.is_attached:
            return
        self.message = message
        head = Text()
        head.append("To:      ", "bold")
        if message.to_email:
            head.append(visible(message.to_email))
        else:
            head.append("no email address on file", "dim italic")
        head.append("\nSubject: ", "bold")
        head.append(visible(message.subject))
        self.query_one("#send-head", Static).update(head)
        self.query_one("#send-body", Static).update(paragraphs(message.body))
        self.query_one("#send-email", Button).display = bool(message.to_email.strip())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy", "save", "mark_sent", "send_email"):
            if self.message is None:
                return None
            if action in ("mark_sent", "send_email") and (self.marked or self.sending):
                return None
        if action == "send_email" and not self.message.to_email.strip():
            return False  # no address to send to: the key is not offered at all
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "send-email": self.action_send_email,
            "copy": self.action_copy,
            "save": self.action_save,
            "mark-sent": self.action_mark_sent,
            "close": self.action_close,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    # --- actions -------------------------------------------------------------------

    def action_send_email(self) -> None:
        if self.message is None or self.marked or self.sending:
            return
        if not self.message.to_email.strip():
            return
        send_by_email(
            self.td,
            self.prompt.prompt_id,
            self.client_id,
            self.client_name,
            self.message.to_email,
            self.prompt.title,
            sending=self._sending,
            finished=self._sent,
            done=self.done,
        )

    def _sending(self) -> None:
        self.sending = True
        self._hint("Sending…")
        self.query_one("#send-email", Button).disabled = True
        self.refresh_bindings()

    def _sent(self, went: bool) -> None:
        self.sending = False
        if went:
            self.marked = True
            if self.is_attached and self.is_current:
                self.dismiss(True)
            return
        if self.is_attached:
            self._hint(HINT)
            self.query_one("#send-email", Button).disabled = False
            self.refresh_bindings()

    def _hint(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#send-hint", Static).update(Text(text))

    def action_copy(self) -> None:
        if self.message is None:
            return
        self.app.copy_to_clipboard(self.message.text)
        self.app.notify(
            "Copied to your clipboard (if your terminal allows it). Press l once you have sent it.",
            markup=False,
        )

    def action_save(self) -> None:
        if self.message is not None:
            save_message(self.td, self.client_name, self.message)

    def action_mark_sent(self) -> None:
        if self.message is None or self.marked:
            return
        self.marked = True
        mark_sent(self.td, self.prompt.prompt_id, self.client_id, self.client_name, self.done)
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(self.marked)
