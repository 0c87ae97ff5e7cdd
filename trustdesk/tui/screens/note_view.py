"""One open note: its words, literal and scrollable, gone the moment the notes lock.

Opened from a client's notes tab and from a search over the notes.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.trust.notes import NoteBody
from trustdesk.tui.formatting import day, paragraphs
from trustdesk.tui.labels import NOTE_KIND_LABELS
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.screens.base import TrustdeskModal


class NoteScreen(TrustdeskModal[None]):
    """One note's words, literal and scrollable; gone the moment the notes lock."""

    DEFAULT_CSS = """
    NoteScreen {
        align: center middle;
    }
    NoteScreen > #note {
        width: 90%;
        max-width: 100;
        height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    NoteScreen #note-title {
        text-style: bold;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    NoteScreen #note-body {
        height: 1fr;
    }
    NoteScreen #note-hint {
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="note_close"),
        # A modal screen hides the app's keys, so locking is offered here too.
        Binding("ctrl+l", "app.lock", "Lock notes", id="note_lock"),
    ]

    def __init__(self, note: NoteBody, client_name: str) -> None:
        super().__init__()
        self._heading = Text.assemble(
            (visible(client_name), "bold"),
            f" · {NOTE_KIND_LABELS.get(note.kind, note.kind)} note",
            f" · {day(note.written_on, config.today(), weekday=True)}",
        )
        self._words = paragraphs(note.body)

    def compose(self) -> ComposeResult:
        with Vertical(id="note"):
            yield Label(self._heading, id="note-title")
            with VerticalScroll(id="note-body"):
                yield Static(self._words, id="note-text")
            yield Label("Esc closes. Notes lock again when you are idle.", id="note-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#note-body").focus()

    def on_notes_lock_changed(self, message: NotesLockChanged) -> None:
        if message.status.unlocked:
            return
        self._words = Text("")
        if self.is_attached:
            self.query_one("#note-text", Static).update("")
        if self.is_current:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
