"""Searching private notes: one client's (`/` in the notes tab) or every note of the coach.

The search opens notes one after another in a thread worker and hands the first hit to
the screen the moment it is found, so it is on screen long before a large practice has
been read; the hits after it follow in batches (BATCH_SECONDS). Escape stops a search
under way (and closes the screen when none runs). The words found are gone from the
screen the moment the notes lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import monotonic
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.worker import Worker, get_current_worker

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import notes
from trustdesk.trust.common import plural
from trustdesk.trust.notes import NoteBody, NoteError, NoteHit, SearchStep, read_note
from trustdesk.tui.failures import failure_line
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import NOTE_KIND_LABELS
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.screens.base import TrustdeskModal
from trustdesk.tui.screens.note_view import NoteScreen
from trustdesk.tui.widgets import SafeInput
from trustdesk.vault import SealError, VaultError, VaultLocked

MOST_SHOWN = 500  # hits on screen at most: past that, the coach narrows the words
BATCH_SECONDS = 0.05  # after the first hit, hits reach the screen at most this often


def search_notes_stream(vault, words: str, *, client_id: int | None = None) -> Iterator[SearchStep]:
    """The search as the screen runs it: the first hits before the notes are counted."""
    return notes.search_notes_stream(vault, words, client_id=client_id, count_first=False)


class NoteSearchScreen(TrustdeskModal[None]):
    """Words to look for, a progress line, and the hits as they are found."""

    DEFAULT_CSS = """
    NoteSearchScreen #note-search {
        width: 96%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    NoteSearchScreen .search-title {
        text-style: bold;
        width: 100%;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    NoteSearchScreen #search-progress {
        color: $text-muted;
        height: 1;
    }
    NoteSearchScreen #search-results {
        height: 1fr;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_close", "Stop / close", id="search_close"),
        Binding("ctrl+l", "app.lock", "Lock notes", id="search_lock"),
    ]

    def __init__(self, *, client_id: int | None = None, client_name: str = "") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.hits: dict[str, NoteHit] = {}
        self.searching: Worker | None = None
        self._query = ""
        self.line_width = 60

    def compose(self) -> ComposeResult:
        whose = f"{visible(self.client_name)}'s notes" if self.client_id else "every note"
        with Vertical(id="note-search"):
            yield Label(f"Search {whose}", classes="search-title", markup=False)
            yield SafeInput(placeholder="words to find, then Enter", id="search-words")
            yield Static("", id="search-progress", markup=False)
            table = DataTable(id="search-results", cursor_type="row", zebra_stripes=True)
            yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # The dialog is 96% of the screen, less its border, padding and the table's scrollbar.
        width = self.app.size.width * 96 // 100 - 6
        if self.client_id is None:
            table.add_column("Client", key="client", width=16)
            width -= 18
        table.add_column("Written", key="date", width=9)
        table.add_column("Kind", key="kind", width=10)
        self.line_width = max(20, width - 11 - 12 - 2)
        table.add_column("Found", key="line", width=self.line_width)
        self.query_one("#search-words", Input).focus()

    # --- searching ---------------------------------------------------------------------

    @on(Input.Submitted, "#search-words")
    def _start(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)

    def search(self, words: str) -> None:
        """Start a search for `words`, ending any search still under way."""
        if not self.td.vault.unlocked:
            self.td.request_unlock(then=lambda: self.search(words))
            return
        self.stop()
        self.hits.clear()
        self.query_one(DataTable).clear()
        self._query = words
        if not words.strip():
            self._progress("Type the words to find, then Enter.")
            return
        self._progress("Searching…")
        self.searching = self.run_worker(
            lambda: self._scan(words), thread=True, group="note-search", exit_on_error=False
        )

    def _scan(self, words: str) -> None:
        """On the worker thread: the first hit goes to the screen as soon as its note is
        open, the rest in batches at most every BATCH_SECONDS, so a practice with many hits
        does not wait on the screen once per hit."""
        app = self.td
        worker = get_current_worker()

        def run() -> None:
            steps = search_notes_stream(app.vault, words, client_id=self.client_id)
            found, pending, sent_at, shown_any = 0, [], None, False
            opened = total = 0
            try:
                for step in steps:
                    if worker.is_cancelled:
                        return
                    opened, total = step.opened, step.total
                    pending.extend(step.hits)
                    found += len(step.hits)
                    now = monotonic()
                    due = sent_at is None or now - sent_at >= BATCH_SECONDS
                    if due or (pending and not shown_any) or found >= MOST_SHOWN:
                        shown_any = shown_any or bool(pending)
                        app.call_from_thread(self._step, words, opened, total, tuple(pending))
                        pending, sent_at = [], now
                    if found >= MOST_SHOWN:
                        app.call_from_thread(self._ended, words, True)
                        return
            finally:
                steps.close()
            if pending:
                app.call_from_thread(self._step, words, opened, total, tuple(pending))
            app.call_from_thread(self._ended, words, False)

        try:
            app.fetch(run)
        except Exception as exc:  # noqa: BLE001 - said in one line; words never in a traceback
            if not worker.is_cancelled:
                app.call_from_thread(self._failed, words, exc)

    def _step(self, words: str, opened: int, total: int, hits: tuple[NoteHit, ...]) -> None:
        if words != self._query or not self.is_attached or not self.td.vault.unlocked:
            return
        table = self.query_one(DataTable)
        for hit in hits:
            if len(self.hits) >= MOST_SHOWN:
                break
            self.hits[str(hit.id)] = hit
            self._add_row(table, hit)
            if table.row_count == 1 and isinstance(self.focused, Input):
                table.focus()  # Enter now opens the first hit; Tab goes back to the words
        found = plural(len(self.hits), "note")
        if total:
            self._progress(f"Searching… {opened} of {plural(total, 'note')} read, {found} found.")
        else:  # not counted yet: the first hits come before the count
            self._progress(f"Searching… {opened} read, {found} found.")

    def _add_row(self, table: DataTable, hit: NoteHit) -> None:
        cells = [
            Text(day(hit.written_on, self.td.today, short_year=True)),
            Text(NOTE_KIND_LABELS.get(hit.kind, hit.kind)),
            found_line(hit, self.line_width),
        ]
        if self.client_id is None:
            cells.insert(0, Text(visible(hit.client_name), no_wrap=True, overflow="ellipsis"))
        table.add_row(*cells, key=str(hit.id))

    def _newest_first(self) -> None:
        """Once all are found, the hits newest first, the cursor on the hit it was on."""
        table = self.query_one(DataTable)
        at = None
        if table.row_count:
            at = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        ordered = sorted(self.hits.values(), key=lambda h: h.id.hex)
        ordered.sort(key=lambda h: h.written_on, reverse=True)
        table.clear()
        for hit in ordered:
            self._add_row(table, hit)
        if at is not None:
            table.move_cursor(row=table.get_row_index(at), animate=False)

    def _ended(self, words: str, capped: bool) -> None:
        if words != self._query or not self.is_attached:
            return
        self.searching = None
        count = len(self.hits)
        if count > 1:
            self._newest_first()
        if capped:
            line = f"The first {count} notes found are shown: add words to narrow the search."
        elif count:
            line = f"{plural(count, 'note')} found. Enter opens one; Esc closes."
        else:
            line = "No note holds those words."
        self._progress(line)
        self.refresh_bindings()

    def _failed(self, words: str, exc: Exception) -> None:
        if words != self._query or not self.is_attached:
            return
        self.searching = None
        if isinstance(exc, VaultLocked):
            self._progress("The notes locked: unlock to search.")
            return
        if isinstance(exc, (NoteError, SealError, VaultError, StoreError)):
            line = str(exc)
        else:
            line = failure_line(exc, doing="search")
        self._progress(f"The search stopped: {line}")

    def stop(self) -> bool:
        """End a search under way; True if there was one."""
        worker, self.searching = self.searching, None
        if worker is not None and worker.is_running:
            worker.cancel()
            return True
        return False

    def _progress(self, line: str) -> None:
        self.query_one("#search-progress", Static).update(line)

    # --- opening a hit -------------------------------------------------------------------

    @on(DataTable.RowSelected, "#search-results")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        hit = self.hits.get(str(event.row_key.value))
        if hit is not None:
            self.open_note(hit)

    def open_note(self, hit: NoteHit) -> None:
        if not self.td.vault.unlocked:
            self.td.request_unlock(then=lambda: self.open_note(hit))
            return
        self.load(
            read_note,
            self.td.vault,
            hit.id,
            then=lambda note: self._show_note(note, hit.client_name),
            failed=self._not_opened,
            group="note",
        )

    def _show_note(self, note: NoteBody, client_name: str) -> None:
        if self.td.vault.unlocked and self.is_current:
            self.app.push_screen(NoteScreen(note, client_name))

    def _not_opened(self, exc: Exception) -> None:
        if isinstance(exc, VaultLocked):
            self.td.request_unlock()
            return
        severity = "warning" if isinstance(exc, (NoteError, SealError, VaultError)) else "error"
        line = str(exc) if severity == "warning" else failure_line(exc, doing="open it")
        self.td.notify(f"Cannot open that note: {line}", severity=severity, markup=False)

    # --- leaving, and the lock -------------------------------------------------------------

    def action_stop_or_close(self) -> None:
        if self.stop():
            self._query = ""
            self._progress(f"Stopped; {plural(len(self.hits), 'note')} found so far.")
            return
        self.dismiss(None)

    def on_notes_lock_changed(self, message: NotesLockChanged) -> None:
        if message.status.unlocked:
            return
        self.stop()
        self._query = ""
        self.hits.clear()
        if self.is_attached:
            self.query_one(DataTable).clear()
            self._progress("The notes locked: what was found is hidden.")
        if self.is_current:
            self.dismiss(None)


def found_line(hit: NoteHit, width: int = 80) -> Text:
    """The line the words were found on, literal, with the words marked and in view."""
    line, at = hit.line, hit.at
    if at < 0:
        return Text(visible(line), no_wrap=True, overflow="ellipsis")
    if at + hit.length > width - 2:  # the words would be past the column's end
        skip = max(0, min(at - 12, len(line) - width + 1))
        if skip > 0:
            line, at = "…" + line[skip + 1 :], at - skip
    end = at + hit.length
    before, words, after = line[:at], line[at:end], line[end:]
    return Text.assemble(
        visible(before), (visible(words), "bold reverse"), visible(after),
        no_wrap=True, overflow="ellipsis",
    )  # fmt: skip


def search_notes_screen(app, *, client_id: int | None = None, client_name: str = "") -> None:
    """Open the search, asking for the passphrase first if the notes are locked."""
    app.request_unlock(
        then=lambda: app.push_screen(NoteSearchScreen(client_id=client_id, client_name=client_name))
    )
