"""The notes tab: words shown only while the notes are unlocked.

While the notes are locked the list shows kind, date and length only. Once they are
open, each note's first line is read in a worker and shown; it is gone from the list the
moment the notes lock. A note's words are read when it is opened (`note_view`).
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
from textual.widgets import DataTable, Static

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.notes import NoteBody, NoteError, NoteSummary, note_first_lines, read_note
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows import notes as note_flows
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import NOTE_KIND_LABELS
from trustdesk.tui.screens.base import Loads
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.screens.note_search import search_notes_screen
from trustdesk.tui.screens.note_view import NoteScreen
from trustdesk.tui.widgets.workspace_table import Col
from trustdesk.vault import SealError, VaultError, VaultLocked

LOCKED_TEXT = "Notes are locked — press u to unlock."


class NotesTable(ClientTable):
    COLUMNS = (
        Col("date", "Written", 9),
        Col("kind", "Kind", 15),
        Col("note", "Note", 0),
    )
    FLEX_MIN = 11
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Read", id="note_read"),
        Binding("a", "write", "Write note", id="note_add"),
        Binding("e", "edit", "Edit note", id="note_edit"),
        Binding("slash", "search", "Search", id="note_search"),
        Binding("u", "unlock", "Unlock", id="unlock"),
    ]

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        # Each note's first line, while the notes are open; emptied the moment they lock.
        self.first_lines: dict[uuid.UUID, str] = {}
        self._today = config.today()

    def current(self) -> NoteSummary | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.notes, lambda n: n.id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> None:
        # Kind, date and length; a note's first line only while the notes are open.
        self.client = ws
        self._today = today
        lines = self.first_lines if self.td.vault.unlocked else {}
        self.show_rows(
            [
                (
                    str(n.id),
                    {
                        "date": Text(day(n.written_on, today, short_year=True)),
                        "kind": Text(NOTE_KIND_LABELS.get(n.kind, n.kind)),
                        "note": _note_cell(n, lines.get(n.id)),
                    },
                )
                for n in ws.notes
            ]
        )

    def show_first_lines(self, lines: dict[uuid.UUID, str]) -> None:
        """The first lines, read in a worker: shown if the notes are still open."""
        if not self.td.vault.unlocked or self.client is None:
            return
        self.first_lines = lines
        self.draw(self.client, self._today)

    def forget_first_lines(self) -> None:
        self.first_lines = {}
        if self.client is not None:
            self.draw(self.client, self._today)

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

    def action_search(self) -> None:
        """Search this client's notes (the palette's "Search notes" searches them all)."""
        if self.client is not None:
            search_notes_screen(
                self.td, client_id=self.client.client_id, client_name=self.client.name
            )


def _note_cell(note: NoteSummary, line: str | None) -> Text:
    if line is None:
        return Text(f"{note.length} chars")
    return Text(visible(line), no_wrap=True, overflow="ellipsis")


class NotesTab(Loads, ClientTab):
    def __init__(self) -> None:
        super().__init__("5 Notes", id="tab-notes")

    def compose(self) -> ComposeResult:
        yield Static("", id="notes-lock", classes="hint")
        yield NotesTable(id="notes")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        self.query_one(NotesTable).draw(ws, today)
        self.load_first_lines(ws)

    def load_first_lines(self, ws: ClientWorkspace | None) -> None:
        """Open this client's notes in a worker for their first lines (never on the UI
        thread); locked, the list stays as it is."""
        if ws is None or not ws.notes or not self.td.vault.unlocked:
            return
        table = self.query_one(NotesTable)
        self.load(
            partial(note_first_lines, self.td.vault, client_id=ws.client_id),
            then=table.show_first_lines,
            failed=lambda exc: None,  # the list without first lines is still the list
            group="note-lines",
        )

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
        table = self.query_one(NotesTable)
        if self.td.vault.unlocked:
            if table.client is not None:
                self.load_first_lines(ws)
        else:
            table.forget_first_lines()
        table.refresh_bindings()

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
