"""The notes tab and one open note: words shown only while the notes are unlocked.

A list never holds a note's words (kind, date and length only). The words are read when a
note is opened, never kept by the worker that read them, and gone from the screen the
moment the notes lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.notes import NoteBody, NoteError, NoteSummary, read_note
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows import notes as note_flows
from trustdesk.tui.formatting import day, paragraphs
from trustdesk.tui.labels import NOTE_KIND_LABELS
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.screens.base import Loads, TrustdeskModal
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.widgets.workspace_table import Col
from trustdesk.vault import SealError, VaultError, VaultLocked

LOCKED_TEXT = "Notes are locked — press u to unlock."


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
            f" · {note.written_on:%a %d %b %Y}",
        )
        self._words = paragraphs(note.body)

    def compose(self) -> ComposeResult:
        with Vertical(id="note"):
            yield Label(self._heading, id="note-title")
            with VerticalScroll(id="note-body"):
                yield Static(self._words, id="note-text")
            yield Label("Esc closes. Notes lock again when you are idle.", id="note-hint")
        yield Footer()

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


class NotesTable(ClientTable):
    COLUMNS = (
        Col("date", "Written", 9),
        Col("kind", "Kind", 15),
        Col("length", "Length", 0),
    )
    FLEX_MIN = 11
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Read", id="note_read"),
        Binding("a", "write", "Write note", id="note_add"),
        Binding("e", "edit", "Edit note", id="note_edit"),
        Binding("u", "unlock", "Unlock", id="unlock"),
    ]

    def current(self) -> NoteSummary | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.notes, lambda n: n.id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> None:
        # Kind, date and length only: a list never holds a note's words.
        self.client = ws
        self.show_rows(
            [
                (
                    str(n.id),
                    {
                        "date": Text(day(n.written_on, today, short_year=True)),
                        "kind": Text(NOTE_KIND_LABELS.get(n.kind, n.kind)),
                        "length": Text(f"{n.length} chars"),
                    },
                )
                for n in ws.notes
            ]
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unlock":
            return not self.td.vault.unlocked
        if action in ("select_cursor", "edit"):
            return True if self.row_count else None
        return True

    def action_write(self) -> None:
        if self.client is not None:
            note_flows.write_note(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )

    def action_edit(self) -> None:
        """Rewrite the highlighted note's words, asking for the passphrase first if need be."""
        note = self.current()
        if note is None:
            self.warn("Highlight a note first.")
        else:
            note_flows.edit_note(self.td, note.id, note.kind, None, self.practice_changed)

    def action_unlock(self) -> None:
        self.td.request_unlock()


class NotesTab(Loads, ClientTab):
    def __init__(self) -> None:
        super().__init__("Notes", id="tab-notes")

    def compose(self) -> ComposeResult:
        yield Static("", id="notes-lock", classes="hint")
        yield NotesTable(id="notes")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        self.query_one(NotesTable).draw(ws, today)

    def draw_lock(self, ws: ClientWorkspace | None) -> None:
        """The line above the list: locked, or open and how to read one."""
        line = self.query_one("#notes-lock", Static)
        none_yet = ws is not None and not ws.notes
        if not self.td.vault.unlocked:
            line.add_class("-locked")
            line.update(LOCKED_TEXT)
            return
        line.remove_class("-locked")
        if none_yet:
            line.update("No notes yet. Press a to write one; it is sealed as it is saved.")
            return
        minutes = self.td.settings.idle_lock_minutes
        idle = f" They lock after {minutes} idle minutes." if minutes > 0 else ""
        line.update(f"Notes are open: Enter reads one.{idle}")

    def lock_changed(self, ws: ClientWorkspace | None) -> None:
        self.draw_lock(ws)
        self.query_one(NotesTable).refresh_bindings()

    @on(DataTable.RowSelected, "#notes")
    def _note_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_note(uuid.UUID(event.row_key.value))

    def open_note(self, note_id: uuid.UUID) -> None:
        """Show a note's words, asking for the passphrase first if the notes are locked."""
        if not self.td.vault.unlocked:
            self.td.request_unlock(then=partial(self.open_note, note_id))
            return
        self.load(
            read_note,
            self.td.vault,
            note_id,
            then=self._show_note,
            failed=partial(self._not_opened, note_id),
            group="note",
        )

    def _not_opened(self, note_id: uuid.UUID, exc: Exception) -> None:
        app = self.td
        if isinstance(exc, VaultLocked):
            app.request_unlock(partial(self.open_note, note_id))
        elif isinstance(exc, (NoteError, SealError, VaultError)):
            app.notify(f"Cannot open that note: {exc}", severity="warning", markup=False)
        elif isinstance(exc, StoreError):
            app.notify(f"Cannot open that note: {exc}", severity="error", markup=False)
        else:  # the words must not reach a traceback
            message = f"Cannot open that note: {failure_line(exc, doing='open it')}"
            app.notify(message, severity="error", markup=False)

    def _show_note(self, note: NoteBody) -> None:
        # The notes may have locked, or the coach moved on, while the words were on their way.
        if not self.td.vault.unlocked or not self.screen.is_current:
            return
        ws = self.query_one(NotesTable).client
        self.app.push_screen(NoteScreen(note, ws.name if ws else ""))
