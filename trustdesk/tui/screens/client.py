"""One client's workspace: where they stand, then a tab for each habit of trust.

Everything is loaded in one thread worker (`trust.workspace.client_workspace`) and drawn
on the UI thread; every write goes through `tui.flows`, whose `done` callback reloads.
Whatever the coach typed (names, titles, summaries, note bodies) is shown as literal
text. A note's body is fetched only when it is opened, only while the notes are
unlocked, and is never part of a list.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import peewee
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import (
    DataTable,
    Footer,
    Label,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from trustdesk.literal import visible
from trustdesk.trust import journey
from trustdesk.trust.contact import TouchItem
from trustdesk.trust.journey import ClientJourney, OutcomeItem, StageChoice, StageProgress
from trustdesk.trust.notes import NoteBody, NoteError, NoteSummary, read_note
from trustdesk.trust.promises import PromiseItem
from trustdesk.trust.sessions import SessionItem
from trustdesk.trust.workspace import ClientMissing, ClientWorkspace, client_workspace
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows import contact as contact_flows
from trustdesk.tui.flows import notes as note_flows
from trustdesk.tui.flows import promises as promise_flows
from trustdesk.tui.flows import sessions as session_flows
from trustdesk.tui.flows.base import SavedRecord, ask_then_change, perform
from trustdesk.tui.forms import ConfirmForm, Field, FormScreen, not_after
from trustdesk.tui.labels import (
    CHANNEL_LABELS,
    NOTE_KIND_LABELS,
    SESSION_STATUS_WORDS,
    STATUS_WORDS,
    state_word,
)
from trustdesk.vault import SealError, VaultError, VaultLocked, VaultStatus

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

TABS = ("journey", "sessions", "promises", "contact", "notes", "outcomes")
TAB_GROUP = Binding.Group("Tabs", compact=True)
LOCKED_TEXT = "Notes are locked — press u to unlock."
STAGE_MARKS = {"done": "✓ done", "current": "▶ now", "next": "· next"}
PROMISE_WORDS = {"done": "kept", "renegotiated": "renegotiated", "dropped": "dropped"}


def literal(value: str, style: str = "") -> Text:
    """What a person typed, on one line: no markup, control characters made visible."""
    return Text(visible(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def multiline(value: str) -> Text:
    """A note body keeps its line breaks; every other control character is made visible."""
    lines = value.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    return Text("\n".join(visible(line) for line in lines), end="")


def day(value: dt.date | None, today: dt.date) -> str:
    """'16 Mar' this year, '16 Mar 25' in another: short enough for an 80-column row."""
    if value is None:
        return ""
    if value.year == today.year:
        return f"{value:%d %b}"
    return f"{value:%d %b %y}"


def when(value: dt.datetime, today: dt.date) -> str:
    if value.year == today.year:
        return f"{value:%a %d %b %H:%M}"
    return f"{value:%d %b %y %H:%M}"


def late_words(session: SessionItem) -> str:
    """How a held session started; nothing for one that was not held."""
    if session.status != "held" or session.late_minutes is None:
        return ""
    n = session.late_minutes
    if n < 0:
        return f"{-n} min early"
    if n == 0:
        return "on time"
    return f"{n} min late"


def promise_status(p: PromiseItem, today: dt.date) -> str:
    if p.status == "open":
        if p.due_on < today:
            return f"overdue {(today - p.due_on).days}d"
        if p.due_on == today:
            return "due today"
        return "open"
    if p.status == "done" and p.done_on is not None and p.done_on > p.due_on:
        return "kept late"
    return PROMISE_WORDS.get(p.status, p.status)


def promise_detail(p: PromiseItem, today: dt.date) -> Text:
    """The line under the promises for the highlighted one: its whole title, or why it was
    dropped. What the coach typed stays literal."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if p.status == "dropped":
        text.append(f"Dropped {day(p.done_on, today)}".rstrip() + ": ", "bold")
        text.append(visible(p.reason) if p.reason else "no reason was given")
        return text
    if p.status == "open":
        text.append(f"Promised {day(p.promised_on, today)}: ", "bold")
    else:
        word = promise_status(p, today)
        text.append(f"{word[:1].upper()}{word[1:]} {day(p.done_on, today)}".rstrip() + ": ", "bold")
    text.append(visible(p.title))
    if p.reason:
        text.append(" — reason: ")
        text.append(visible(p.reason))
    return text


# --- the journey --------------------------------------------------------------------------

HELD_DAYS_SHOWN = 4


def held_days(days: Sequence[dt.date], today: dt.date) -> str:
    """The days sessions were held: all of them when few, else the first and the last."""
    if not days:
        return ""
    if len(days) <= HELD_DAYS_SHOWN:
        return ", ".join(day(d, today) for d in days)
    return f"{day(days[0], today)} … {day(days[-1], today)}"


def _stage_style(step: StageProgress) -> str:
    return {"current": "bold", "done": "dim"}.get(step.state, "")


def stage_line(step: StageProgress, today: dt.date) -> Text:
    """'2. Goals  ·  reached 02 Mar  ·  2 of 3 sessions (03 Mar, 10 Mar)', and for the current
    stage its purpose and what the coach asks of the client."""
    current = step.state == "current"
    style = _stage_style(step)
    line = Text()
    line.append(f"{step.position}. ", style)
    line.append(visible(step.name), style)
    details = []
    if step.reached_on is not None:
        details.append(f"reached {day(step.reached_on, today)}")
    if step.state == "next" and not step.sessions_held:
        plural = "" if step.typical_sessions == 1 else "s"
        details.append(f"typically {step.typical_sessions} session{plural}")
    else:
        held = step.sessions_words
        if step.held_on:
            held += f" ({held_days(step.held_on, today)})"
        details.append(held)
    line.append("  ·  " + "  ·  ".join(details), "" if current else "dim")
    if current and step.purpose:
        line.append("\nPurpose: ", "italic")
        line.append(visible(step.purpose))
    if current and step.asks_of_client:
        line.append("\nWe ask of the client: ", "italic")
        line.append(visible(step.asks_of_client))
    return line


def outcomes_line(path: ClientJourney, today: dt.date) -> Text:
    text = Text()
    text.append("Outcomes: ", "bold")
    if path.outcomes:
        latest = path.outcomes[0]
        text.append(f"{len(path.outcomes)} recorded, latest ")
        text.append(visible(latest.title))
        text.append(f" ({day(latest.achieved_on, today)})")
    else:
        text.append("none recorded yet")
    text.append("  ·  ")
    text.append(
        "agreed to be a reference" if path.reference_consent else "not a reference",
        "" if path.reference_consent else "dim",
    )
    return text


# --- the lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    width: int  # 0 = take the width that is left
    min_table_width: int = 0  # left out when the table is narrower than this


Row = tuple[str, dict[str, Text]]  # row key, cells by column key


class WorkspaceTable(DataTable):
    """A row-cursor table whose flexible column takes the width that is left.

    The cursor stays on the same row (by key) across reloads, or at the same position
    when that row has gone. Narrow terminals leave out the less important columns.
    """

    COLUMNS: ClassVar[Sequence[Col]] = ()
    FLEX_MIN = 12

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[Row] = []
        self._drawn_width = -1

    @property
    def workspace(self) -> ClientScreen:
        return self.screen  # type: ignore[return-value]

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor is past the end while the table is refilled
            return None

    def show_rows(self, rows: list[Row]) -> None:
        self._rows = rows
        self._draw()

    def _draw(self) -> None:
        old_key, old_row = self.current_key(), self.cursor_row
        width = self.size.width or max(self.app.size.width - 4, 40)
        self._drawn_width = width
        columns = [c for c in self.COLUMNS if width >= c.min_table_width]
        pad = 2 * self.cell_padding
        fixed = sum(c.width + pad for c in columns if c.width)
        flex = max(self.FLEX_MIN, width - fixed - pad - 2)  # 2: room for a scrollbar
        self.clear(columns=True)
        for c in columns:
            self.add_column(c.label, key=c.key, width=c.width or flex)
        for key, cells in self._rows:
            self.add_row(*(cells.get(c.key, Text("")) for c in columns), key=key)
        if not self.row_count:
            return
        keys = [key for key, _ in self._rows]
        row = keys.index(old_key) if old_key in keys else min(max(old_row, 0), self.row_count - 1)
        self.move_cursor(row=row, animate=False)

    def on_resize(self) -> None:
        if self._rows and self.size.width and self.size.width != self._drawn_width:
            self._draw()

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()


class SessionsTable(WorkspaceTable):
    COLUMNS = (
        Col("when", "When", 16),
        Col("status", "Status", 11),
        Col("late", "Started", 12),
        Col("length", "Length", 0),
    )
    FLEX_MIN = 7
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "schedule", "Schedule", id="session_add"),
        Binding("e", "reschedule", "Reschedule", id="session_reschedule"),
        Binding("h", "status('held')", "Held", id="session_held"),
        Binding("n", "status('no_show')", "No-show", id="session_no_show"),
        Binding("l", "status('late_cancel')", "Late cancel", id="session_late_cancel"),
        Binding("c", "status('cancelled')", "Cancelled", id="session_cancelled"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Shown but dimmed when the highlighted session cannot take the change.
        session = self.workspace.current_session()
        if action == "reschedule":
            return True if session is not None and session.status == "scheduled" else None
        if action == "status":
            if session is None:
                return None
            # A held session's record stays as it is; only its start time can be corrected.
            if session.status == "held" and parameters != ("held",):
                return None
            return True
        return True

    def action_schedule(self) -> None:
        self.workspace.schedule_session()

    def action_reschedule(self) -> None:
        self.workspace.reschedule_session()

    def action_status(self, status: str) -> None:
        self.workspace.set_session_status(status)


class PromisesTable(WorkspaceTable):
    COLUMNS = (
        Col("who", "Who", 6),
        Col("what", "What", 0),
        Col("promised", "Promised", 9, min_table_width=90),
        Col("due", "Due", 9),
        Col("status", "Status", 12),
        Col("closed", "Closed", 9),
    )
    FLEX_MIN = 16
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="promise_add"),
        Binding("e", "change('edit')", "Edit", id="promise_edit"),
        Binding("d", "change('done')", "Done", id="promise_done"),
        Binding("r", "change('renegotiate')", "Renegotiate", id="promise_renegotiate"),
        Binding("x", "change('drop')", "Drop", id="promise_drop"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change":
            promise = self.workspace.current_promise()
            # Shown but dimmed when the highlighted promise is already closed.
            return True if promise is not None and promise.status == "open" else None
        return True

    def action_add(self) -> None:
        self.workspace.add_promise()

    def action_change(self, what: str) -> None:
        self.workspace.change_promise(what)


class ContactTable(WorkspaceTable):
    COLUMNS = (
        Col("date", "Date", 9),
        Col("channel", "Channel", 14),
        Col("direction", "Way", 5),
        Col("counts", "Counts", 6, min_table_width=70),
        Col("summary", "Summary", 0),
    )
    FLEX_MIN = 16
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "log_touch", "Log touch", id="contact_log_touch"),
        Binding("e", "edit_touch", "Edit", id="contact_edit_touch"),
        Binding("x", "remove_touch", "Remove", id="contact_remove_touch"),
        Binding("z", "snooze", "Snooze", id="contact_snooze"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_touch", "remove_touch"):
            return True if self.workspace.current_touch() is not None else None
        return True

    def action_log_touch(self) -> None:
        self.workspace.log_touch()

    def action_edit_touch(self) -> None:
        self.workspace.edit_touch()

    def action_remove_touch(self) -> None:
        self.workspace.remove_touch()

    def action_snooze(self) -> None:
        self.workspace.snooze()


class NotesTable(WorkspaceTable):
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unlock":
            return not self.workspace.td.vault.unlocked
        if action in ("select_cursor", "edit"):
            return True if self.row_count else None
        return True

    def action_write(self) -> None:
        self.workspace.write_note()

    def action_edit(self) -> None:
        self.workspace.edit_note()

    def action_unlock(self) -> None:
        self.workspace.td.request_unlock()


class OutcomesTable(WorkspaceTable):
    COLUMNS = (
        Col("date", "Achieved", 9),
        Col("what", "Outcome", 0),
    )
    FLEX_MIN = 20
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="outcome_add"),
        Binding("e", "edit", "Edit", id="outcome_edit"),
        Binding("x", "remove", "Remove", id="outcome_remove"),
        Binding("c", "consent", "Reference yes/no", id="outcome_consent"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "remove"):
            return True if self.workspace.current_outcome() is not None else None
        return True

    def action_add(self) -> None:
        self.workspace.add_outcome()

    def action_edit(self) -> None:
        self.workspace.edit_outcome()

    def action_remove(self) -> None:
        self.workspace.remove_outcome()

    def action_consent(self) -> None:
        self.workspace.toggle_reference_consent()


class JourneyView(VerticalScroll):
    """The stages of the client's program, read top to bottom; keys to move on and to record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "move_stage", "Move to stage", id="journey_move_stage"),
        Binding("o", "add_outcome", "Add outcome", id="journey_add_outcome"),
    ]

    @property
    def workspace(self) -> ClientScreen:
        return self.screen  # type: ignore[return-value]

    def action_move_stage(self) -> None:
        self.workspace.move_to_stage()

    def action_add_outcome(self) -> None:
        self.workspace.add_outcome()


# --- reading one note -----------------------------------------------------------------


class NoteScreen(ModalScreen[None]):
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
        self._words = multiline(note.body)

    def compose(self) -> ComposeResult:
        with Vertical(id="note"):
            yield Label(self._heading, id="note-title")
            with VerticalScroll(id="note-body"):
                yield Static(self._words, id="note-text")
            yield Label("Esc closes. Notes lock again when you are idle.", id="note-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#note-body").focus()

    def on_vault_changed(self, status: VaultStatus) -> None:
        if status.unlocked:
            return
        self._words = Text("")
        if self.is_attached:
            self.query_one("#note-text", Static).update("")
        if self.is_current:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


# --- the workspace ------------------------------------------------------------------


class ClientScreen(Screen[None]):
    """Program, stage and contact at the top; a tab for each habit below."""

    DEFAULT_CSS = """
    ClientScreen {
        layout: vertical;
    }
    ClientScreen #top {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    ClientScreen #top-text {
        height: auto;
    }
    ClientScreen #contact-row {
        height: 1;
    }
    ClientScreen #contact-row > Label {
        width: auto;
        color: $text-muted;
    }
    ClientScreen #sparkline {
        width: 24;
        margin: 0 1;
    }
    ClientScreen TabbedContent {
        height: 1fr;
    }
    ClientScreen TabbedContent > ContentSwitcher {
        height: 1fr;
    }
    ClientScreen TabPane {
        height: 1fr;
        padding: 0 1;
    }
    ClientScreen .hint {
        height: auto;
        color: $text-muted;
    }
    ClientScreen #notes-lock.-locked {
        color: $warning;
        text-style: bold;
    }
    ClientScreen WorkspaceTable {
        height: 1fr;
    }
    ClientScreen #journey {
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("1", "show_tab('journey')", "Journey", id="tab_journey", group=TAB_GROUP),
        Binding("2", "show_tab('sessions')", "Sessions", id="tab_sessions", group=TAB_GROUP),
        Binding("3", "show_tab('promises')", "Promises", id="tab_promises", group=TAB_GROUP),
        Binding("4", "show_tab('contact')", "Contact", id="tab_contact", group=TAB_GROUP),
        Binding("5", "show_tab('notes')", "Notes", id="tab_notes", group=TAB_GROUP),
        Binding("6", "show_tab('outcomes')", "Outcomes", id="tab_outcomes", group=TAB_GROUP),
        Binding("f5", "reload", "Reload", id="workspace_reload"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.workspace: ClientWorkspace | None = None
        self.journey: ClientJourney | None = None
        self._undrawn: set[str] = set()

    @property
    def td(self) -> TrustdeskApp:
        return self.app  # type: ignore[return-value]

    # --- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="top"):
            yield Static(Text("Loading…"), id="top-text")
            with Horizontal(id="contact-row"):
                yield Label("Contact, 12 weeks")
                yield Sparkline([], id="sparkline")
                yield Label("", id="contact-total")
        with TabbedContent(id="tabs", initial="tab-journey"):
            with TabPane("Journey", id="tab-journey"):
                with JourneyView(id="journey"):
                    yield Static(Text(""), id="journey-text")
            with TabPane("Sessions", id="tab-sessions"):
                yield Static("", id="sessions-empty", classes="hint")
                yield SessionsTable(id="sessions")
            with TabPane("Promises", id="tab-promises"):
                yield Static("", id="promises-empty", classes="hint")
                yield PromisesTable(id="promises")
                yield Static("", id="promise-detail", classes="hint")
            with TabPane("Contact", id="tab-contact"):
                yield Static("", id="contact-empty", classes="hint")
                yield ContactTable(id="contact")
            with TabPane("Notes", id="tab-notes"):
                yield Static("", id="notes-lock", classes="hint")
                yield NotesTable(id="notes")
            with TabPane("Outcomes", id="tab-outcomes"):
                yield Static("", id="outcomes-consent", classes="hint")
                yield Static("", id="outcomes-empty", classes="hint")
                yield OutcomesTable(id="outcomes")
        yield Footer()

    def on_mount(self) -> None:
        for which in ("sessions", "promises", "contact", "outcomes"):
            self.query_one(f"#{which}-empty").display = False
        self._draw_lock()
        self.query_one("#journey").focus()
        self.reload()

    def _content(self, tab: str) -> Widget:
        return self.query_one("#journey" if tab == "journey" else f"#{tab}")

    def _focus_tab(self, tab: str) -> None:
        if self.query_one(TabbedContent).active != f"tab-{tab}":
            return  # the coach has already moved on to another tab
        widget = self._content(tab)
        if self.focused is not widget:
            self.set_focus(widget)

    def action_show_tab(self, tab: str) -> None:
        self._draw_tab(tab)
        self.query_one(TabbedContent).active = f"tab-{tab}"
        # At once, not later: a key typed straight after ("3a" arriving in one packet
        # over SSH) must reach the list of the tab just chosen.
        self._focus_tab(tab)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # A clicked tab hands the keyboard to its list, so that list's keys work at once.
        tab = (event.pane.id or "").removeprefix("tab-")
        if tab in TABS:
            self._draw_tab(tab)
            self.call_after_refresh(self._focus_tab, tab)

    def action_back(self) -> None:
        self.dismiss(None)

    # --- loading ------------------------------------------------------------------

    def reload(self) -> None:
        """Load (or reload after a change) everything about the client, off the UI thread."""
        self.run_worker(self._load, thread=True, exclusive=True, group="workspace")

    def action_reload(self) -> None:
        self.reload()

    def _load(self) -> None:
        app = self.td

        def work() -> tuple[ClientWorkspace, ClientJourney]:
            ws = client_workspace(app.coach, self.client_id, app.today)
            return ws, journey.client_journey(app.coach, self.client_id)

        try:
            ws, path = app.fetch(work)
        except (ClientMissing, journey.JourneyError):
            app.call_from_thread(self._missing)
            return
        except peewee.DatabaseError as exc:
            message = f"Could not load this client: {exc}. Press F5 to try again."
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(self._show, ws, path)

    def _missing(self) -> None:
        self.app.notify("That client no longer exists.", severity="warning", markup=False)
        if self.is_current:
            self.dismiss(None)

    def _show(self, ws: ClientWorkspace, path: ClientJourney) -> None:
        if not self.is_attached:
            return
        self.workspace = ws
        self.journey = path
        self._draw_top(ws, self.td.today)
        # Only the tab on screen is drawn now; the others when they are first shown, so a
        # client with years of history opens as fast as a new one.
        self._undrawn = set(TABS)
        self._draw_tab(self._active_tab())
        self._draw_lock()
        self.refresh_bindings()

    def _active_tab(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("tab-")

    def _draw_tab(self, tab: str) -> None:
        ws, path = self.workspace, self.journey
        if tab not in self._undrawn or ws is None or path is None:
            return
        self._undrawn.discard(tab)
        today = self.td.today
        if tab == "journey":
            self._draw_journey(ws, path, today)
        elif tab == "sessions":
            self._draw_sessions(ws, today)
        elif tab == "promises":
            self._draw_promises(ws, today)
        elif tab == "contact":
            self._draw_contact(ws, today)
        elif tab == "notes":
            self._draw_notes(ws, today)
        elif tab == "outcomes":
            self._draw_outcomes(ws, path, today)

    # --- drawing ------------------------------------------------------------------

    def _draw_top(self, ws: ClientWorkspace, today: dt.date) -> None:
        j = ws.journey
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(visible(ws.name), "bold")
        text.append(f"  ·  {STATUS_WORDS.get(ws.status, ws.status)}")
        if j.program_name:
            text.append("  ·  ")
            text.append(visible(j.program_name))
        text.append("\n")
        if j.stage_name and j.stage_position is not None:
            text.append(f"stage {j.stage_position} of {j.stage_count}: ")
            text.append(visible(j.stage_name))
        elif j.program_name:
            text.append("not yet in a stage")
        else:
            text.append("no program")
        text.append(f"  ·  session {j.session_progress}\n")
        cadence = ws.cadence
        if cadence is not None:
            text.append(state_word(cadence.state).strip(), "bold")
            since = cadence.days_since_touch
            text.append(f"  ·  {since} day{'' if since == 1 else 's'} since contact")
        else:
            text.append(f"cadence not tracked while {ws.status}", "italic")
        text.append(f"  ·  ideal every {ws.ideal_gap_days}d, at most {ws.max_gap_days}d")
        if ws.snoozed_until is not None and ws.snoozed_until >= today:
            text.append(f"  ·  snoozed until {ws.snoozed_until:%a %d %b}")
        self.query_one("#top-text", Static).update(text)
        counts = list(ws.contact_weeks.counts)
        self.query_one("#sparkline", Sparkline).data = counts
        total = sum(counts)
        touches = "touch" if total == 1 else "touches"
        self.query_one("#contact-total", Label).update(f"{total} {touches}")

    def _draw_journey(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        out = self.query_one("#journey-text", Static)
        j = ws.journey
        parts: list[Any] = []
        if not path.progress:
            if j.program_name:
                parts.append(
                    Text.assemble((visible(j.program_name), "bold"), " has no stages yet.")
                )
            else:
                parts.append(Text("No program yet: this client is not on a journey of stages."))
            parts.append(Text("Press m to put them at a stage of a program.", "dim"))
        else:
            heading = Text()
            heading.append(visible(j.program_name or ""), "bold")
            heading.append(f" — {len(path.progress)} stages, {j.session_progress} sessions held")
            parts += [heading, Text("")]
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(ratio=1)
            for step in path.progress:
                grid.add_row(
                    Text(STAGE_MARKS.get(step.state, step.state), _stage_style(step)),
                    stage_line(step, today),
                )
            parts.append(grid)
        parts += [Text(""), outcomes_line(path, today)]
        out.update(Group(*parts))

    def _show_empty(self, which: str, message: str | None) -> None:
        hint = self.query_one(f"#{which}-empty", Static)
        hint.update(message or "")
        hint.display = bool(message)

    def _draw_sessions(self, ws: ClientWorkspace, today: dt.date) -> None:
        rows = [
            (
                str(s.session_id),
                {
                    "when": Text(when(s.scheduled_start, today)),
                    "status": Text(SESSION_STATUS_WORDS.get(s.status, s.status)),
                    "late": Text(late_words(s)),
                    "length": Text(f"{s.duration_minutes} min"),
                },
            )
            for s in ws.sessions
        ]
        self.query_one(SessionsTable).show_rows(rows)
        self._show_empty("sessions", None if rows else "No sessions yet. Press a to schedule one.")

    def _draw_promises(self, ws: ClientWorkspace, today: dt.date) -> None:
        rows = [
            (
                str(p.commitment_id),
                {
                    "who": Text("you" if p.owner == "coach" else "client"),
                    "what": literal(p.title),
                    "promised": Text(day(p.promised_on, today)),
                    "due": Text(day(p.due_on, today)),
                    "status": Text(promise_status(p, today)),
                    "closed": Text(day(p.done_on, today)),
                },
            )
            for p in ws.promises
        ]
        self.query_one(PromisesTable).show_rows(rows)
        self._show_empty("promises", None if rows else "No promises yet. Press a to add one.")
        self._draw_promise_detail()

    @on(DataTable.RowHighlighted, "#promises")
    def _draw_promise_detail(self) -> None:
        detail = self.query_one("#promise-detail", Static)
        p = self.current_promise()
        detail.display = p is not None
        detail.update(promise_detail(p, self.td.today) if p is not None else "")

    def _draw_contact(self, ws: ClientWorkspace, today: dt.date) -> None:
        rows = [
            (
                str(t.touch_id),
                {
                    "date": Text(day(t.occurred_on, today)),
                    "channel": Text(CHANNEL_LABELS.get(t.channel, t.channel)),
                    "direction": Text("→ out" if t.direction == "outbound" else "← in"),
                    "counts": Text("yes" if t.counts_for_cadence else "no"),
                    "summary": literal(t.summary),
                },
            )
            for t in ws.touches
        ]
        self.query_one(ContactTable).show_rows(rows)
        self._show_empty(
            "contact", None if rows else "No contact logged yet. Press t to log a touch."
        )

    def _draw_notes(self, ws: ClientWorkspace, today: dt.date) -> None:
        # Kind, date and length only: a list never holds a note's words.
        rows = [
            (
                str(n.id),
                {
                    "date": Text(day(n.written_on, today)),
                    "kind": Text(NOTE_KIND_LABELS.get(n.kind, n.kind)),
                    "length": Text(f"{n.length} chars"),
                },
            )
            for n in ws.notes
        ]
        self.query_one(NotesTable).show_rows(rows)

    def _draw_outcomes(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        rows = [
            (
                str(o.outcome_id),
                {"date": Text(day(o.achieved_on, today)), "what": outcome_text(o)},
            )
            for o in path.outcomes
        ]
        self.query_one(OutcomesTable).show_rows(rows)
        self._show_empty(
            "outcomes",
            None if rows else "No outcomes yet. Press a to record what this client achieved.",
        )
        consent = self.query_one("#outcomes-consent", Static)
        line = Text(visible(ws.name), "bold", no_wrap=True, overflow="ellipsis", end="")
        if path.reference_consent:
            line.append(" agreed to be a reference and is listed among References. ", "")
            line.append("Press c to withdraw.", "dim")
        else:
            line.append(" is not a reference. ", "")
            line.append("Press c if they agree to be one.", "dim")
        consent.update(line)

    def _draw_lock(self) -> None:
        line = self.query_one("#notes-lock", Static)
        none_yet = self.workspace is not None and not self.workspace.notes
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

    # --- the notes lock -----------------------------------------------------------

    def on_vault_changed(self, status: VaultStatus) -> None:
        if not self.is_attached:
            return
        if not status.unlocked:
            # An open note goes the moment the notes lock (idle time, or the coach).
            while isinstance(self.app.screen, NoteScreen):
                self.app.pop_screen()
        self._draw_lock()
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
        self.run_worker(
            partial(self._read_note, note_id),
            thread=True,
            exclusive=True,
            group="note",
            exit_on_error=False,
        )

    def _read_note(self, note_id: uuid.UUID) -> None:
        app = self.td
        try:
            note = app.fetch(read_note, app.vault, note_id)
        except VaultLocked:
            app.call_from_thread(app.request_unlock, partial(self.open_note, note_id))
            return
        except (NoteError, SealError, VaultError) as exc:
            message = f"Cannot open that note: {exc}"
            app.call_from_thread(app.notify, message, severity="warning", markup=False)
            return
        except peewee.DatabaseError as exc:
            message = f"Cannot open that note: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        except Exception as exc:  # noqa: BLE001 - the words must not reach a traceback
            message = f"Cannot open that note: {failure_line(exc, doing='open it')}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(self._show_note, note)

    def _show_note(self, note: NoteBody) -> None:
        # The notes may have locked, or the coach moved on, while the words were on their way.
        if not self.td.vault.unlocked or not self.is_current:
            return
        self.app.push_screen(NoteScreen(note, self._client_name))

    # --- what the keys do ---------------------------------------------------------

    @property
    def _client_name(self) -> str:
        return self.workspace.name if self.workspace else ""

    def _after_change(self) -> None:
        if self.is_attached:
            self.reload()

    def _highlighted(self, table: WorkspaceTable, items: Sequence[Any], key: Callable) -> Any:
        wanted = table.current_key()
        if wanted is None:
            return None
        return next((item for item in items if str(key(item)) == wanted), None)

    def current_session(self) -> SessionItem | None:
        if self.workspace is None:
            return None
        table = self.query_one(SessionsTable)
        return self._highlighted(table, self.workspace.sessions, lambda s: s.session_id)

    def current_promise(self) -> PromiseItem | None:
        if self.workspace is None:
            return None
        table = self.query_one(PromisesTable)
        return self._highlighted(table, self.workspace.promises, lambda p: p.commitment_id)

    def current_touch(self) -> TouchItem | None:
        if self.workspace is None:
            return None
        table = self.query_one(ContactTable)
        return self._highlighted(table, self.workspace.touches, lambda t: t.touch_id)

    def current_note(self) -> NoteSummary | None:
        if self.workspace is None:
            return None
        table = self.query_one(NotesTable)
        return self._highlighted(table, self.workspace.notes, lambda n: n.id)

    def current_outcome(self) -> OutcomeItem | None:
        if self.journey is None:
            return None
        table = self.query_one(OutcomesTable)
        return self._highlighted(table, self.journey.outcomes, lambda o: o.outcome_id)

    def schedule_session(self) -> None:
        if self.workspace is not None:
            session_flows.schedule_session(
                self.td, self.client_id, self._client_name, self._after_change
            )

    def reschedule_session(self) -> None:
        session = self.current_session()
        if session is None:
            self.app.notify("Highlight a session first.", severity="warning", markup=False)
        elif session.status != "scheduled":
            word = SESSION_STATUS_WORDS.get(session.status, session.status)
            self.app.notify(
                f"That session is {word}; only a scheduled session can be moved.",
                severity="warning",
                markup=False,
            )
        else:
            session_flows.reschedule_session(self.td, session, self._after_change)

    def set_session_status(self, status: str) -> None:
        session = self.current_session()
        if session is None:
            self.app.notify("Highlight a session first.", severity="warning", markup=False)
        elif session.status == "held" and status != "held":
            self.app.notify(
                "That session was held; its record stays as it is.",
                severity="warning",
                markup=False,
            )
        elif status == "held":
            session_flows.mark_session_held(self.td, session, self._after_change)
        else:
            session_flows.set_session_status(
                self.td, session.session_id, status, self._after_change, version=session.version
            )

    def add_promise(self) -> None:
        if self.workspace is not None:
            promise_flows.add_promise(
                self.td, self.client_id, self._client_name, self._after_change
            )

    def change_promise(self, what: str) -> None:
        """Edit, keep, renegotiate or drop the highlighted promise, if it is still open."""
        p = self.current_promise()
        if p is None:
            self.app.notify("Highlight a promise first.", severity="warning", markup=False)
            return
        if p.status != "open":
            self.app.notify(
                f"That promise is already {promise_status(p, self.td.today)}; "
                "only an open promise can change.",
                severity="warning",
                markup=False,
            )
            return
        app, done, v = self.td, self._after_change, p.version
        if what == "edit":
            promise_flows.edit_promise(
                app, p.commitment_id, p.title, p.promised_on, p.due_on, done, version=v
            )
        elif what == "done":
            promise_flows.mark_done(app, p.commitment_id, p.title, done, version=v)
        elif what == "renegotiate":
            promise_flows.renegotiate(app, p.commitment_id, p.title, p.due_on, done, version=v)
        elif what == "drop":
            promise_flows.drop(app, p.commitment_id, p.title, done, version=v)

    def log_touch(self) -> None:
        if self.workspace is not None:
            contact_flows.log_touch(self.td, self.client_id, self._client_name, self._after_change)

    def edit_touch(self) -> None:
        touch = self.current_touch()
        if touch is None:
            self.app.notify("Highlight a touch first.", severity="warning", markup=False)
        else:
            contact_flows.edit_touch(self.td, touch, self._after_change)

    def remove_touch(self) -> None:
        touch = self.current_touch()
        if touch is None:
            self.app.notify("Highlight a touch first.", severity="warning", markup=False)
        else:
            contact_flows.remove_touch(self.td, touch, self._after_change)

    def snooze(self) -> None:
        if self.workspace is not None:
            until = self.workspace.snoozed_until
            contact_flows.snooze(
                self.td, self.client_id, self._client_name, until, self._after_change
            )

    def write_note(self) -> None:
        if self.workspace is not None:
            note_flows.write_note(self.td, self.client_id, self._client_name, self._after_change)

    def edit_note(self) -> None:
        """Rewrite the highlighted note's words, asking for the passphrase first if need be."""
        note = self.current_note()
        if note is None:
            self.app.notify("Highlight a note first.", severity="warning", markup=False)
        else:
            note_flows.edit_note(self.td, note.id, note.kind, None, self._after_change)

    # --- the journey and outcomes -------------------------------------------------

    def move_to_stage(self) -> None:
        """Ask which stage (of this client's program first, then any other) and from when."""
        if self.workspace is None:
            return
        app = self.td

        def load() -> None:
            try:
                choices = app.fetch(journey.stage_choices, app.coach)
            except peewee.DatabaseError as exc:
                message = f"Could not load the programs: {exc}"
                app.call_from_thread(app.notify, message, severity="error", markup=False)
                return
            app.call_from_thread(self._ask_stage, choices)

        self.run_worker(load, thread=True, exclusive=True, group="stages", exit_on_error=False)

    def _ask_stage(self, choices: list[StageChoice]) -> None:
        if not self.is_current or self.journey is None:
            return
        if not choices:
            self.app.notify(
                "There are no programs with stages yet: add one in Programs first.",
                severity="warning",
                markup=False,
            )
            return
        path, today, name = self.journey, self.td.today, self._client_name
        own = [c for c in choices if c.program_id == path.program_id]
        ordered = own + [c for c in choices if c.program_id != path.program_id]
        default = _next_stage(own, path.stage_id) or ordered[0].stage_id
        form = FormScreen(
            f"Move {visible(name)} to a stage",
            [
                Field(
                    "stage",
                    "Stage",
                    kind="choice",
                    choices=[(stage_label(c, path.stage_id), c.stage_id) for c in ordered],
                    default=default,
                    required=True,
                ),
                Field(
                    "on",
                    "From (YYYY-MM-DD)",
                    kind="date",
                    default=today,
                    required=True,
                    check=not_after(today, "today"),
                ),
            ],
            intro="A stage of another program puts the client on that program.",
            save="Move",
        )
        by_id = {c.stage_id: c for c in choices}

        def saved(values: dict | None) -> None:
            if not values:
                return
            chosen = by_id[values["stage"]]
            perform(
                self.td,
                lambda: journey.move_client_to_stage(
                    self.td.coach, self.client_id, chosen.stage_id, values["on"], today=today
                ),
                f"{visible(name)} moved to {visible(chosen.name)}",
                self._after_change,
            )

        self.app.push_screen(form, saved)

    def _outcome_form(self, title: str, outcome: OutcomeItem | None) -> FormScreen:
        today = self.td.today
        return FormScreen(
            title,
            [
                Field(
                    "achieved_on",
                    "Achieved on (YYYY-MM-DD)",
                    kind="date",
                    default=outcome.achieved_on if outcome else today,
                    required=True,
                    check=not_after(today, "today"),
                ),
                Field(
                    "title",
                    "What did they achieve?",
                    default=outcome.title if outcome else "",
                    required=True,
                ),
                Field(
                    "detail", "In a line or two: how?", default=outcome.detail if outcome else ""
                ),
            ],
        )

    def add_outcome(self) -> None:
        if self.workspace is None:
            return
        today, name = self.td.today, self._client_name

        def saved(values: dict | None) -> None:
            if values:
                perform(
                    self.td,
                    lambda: journey.add_outcome(
                        self.td.coach,
                        self.client_id,
                        values["achieved_on"],
                        values["title"],
                        values["detail"] or "",
                        today=today,
                    ),
                    "Outcome recorded",
                    self._after_change,
                )

        self.app.push_screen(self._outcome_form(f"An outcome for {visible(name)}", None), saved)

    def edit_outcome(self) -> None:
        outcome = self.current_outcome()
        if outcome is None:
            self.app.notify("Highlight an outcome first.", severity="warning", markup=False)
            return
        today, coach = self.td.today, self.td.coach
        ask_then_change(
            self.td,
            self._outcome_form("Edit an outcome", outcome),
            lambda values, version: journey.edit_outcome(
                coach,
                outcome.outcome_id,
                achieved_on=values["achieved_on"],
                title=values["title"],
                detail=values["detail"] or "",
                today=today,
                version=version,
            ),
            "Outcome saved",
            self._after_change,
            version=outcome.version,
            record=SavedRecord(
                lambda: journey.saved_outcome(coach, outcome.outcome_id),
                lambda now: f"{visible(now.title)} ({now.achieved_on:%d %b %Y})",
                lambda now: {
                    "achieved_on": now.achieved_on,
                    "title": now.title,
                    "detail": now.detail,
                },
            ),
        )

    def remove_outcome(self) -> None:
        outcome = self.current_outcome()
        if outcome is None:
            self.app.notify("Highlight an outcome first.", severity="warning", markup=False)
            return
        form = ConfirmForm(
            "Remove an outcome",
            f"{visible(outcome.title)} ({outcome.achieved_on.isoformat()}) will be removed.",
            save="Remove",
        )

        def saved(values: dict | None) -> None:
            if values is not None:
                perform(
                    self.td,
                    lambda: journey.remove_outcome(
                        self.td.coach, outcome.outcome_id, version=outcome.version
                    ),
                    f"Removed: {visible(outcome.title)}",
                    self._after_change,
                )

        self.app.push_screen(form, saved)

    def toggle_reference_consent(self) -> None:
        if self.journey is None:
            return
        consent = not self.journey.reference_consent
        name = visible(self._client_name)
        message = (
            f"{name} is now listed as a reference"
            if consent
            else f"{name} is no longer listed as a reference"
        )
        perform(
            self.td,
            lambda: journey.set_reference_consent(self.td.coach, self.client_id, consent),
            message,
            self._after_change,
        )


def _next_stage(own: Sequence[StageChoice], current: int | None) -> int | None:
    """The stage after the client's current one; the first when they have none yet."""
    if not own:
        return None
    ids = [c.stage_id for c in own]
    if current not in ids:
        return ids[0]
    return ids[min(ids.index(current) + 1, len(ids) - 1)]


def stage_label(choice: StageChoice, current: int | None) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis", end="")
    label.append(visible(choice.program_name))
    label.append(f" › {choice.position}. ")
    label.append(visible(choice.name))
    if choice.stage_id == current:
        label.append("  (now)", "dim")
    return label


def outcome_text(o: OutcomeItem) -> Text:
    text = Text(visible(o.title), no_wrap=True, overflow="ellipsis", end="")
    if o.detail:
        text.append(" — " + visible(o.detail), "dim")
    return text


# What the help screen lists for the workspace, in the order the tabs appear.
HELP_SECTIONS = (
    ("Client workspace", ClientScreen),
    ("Journey tab", JourneyView),
    ("Sessions tab", SessionsTable),
    ("Promises tab", PromisesTable),
    ("Contact tab", ContactTable),
    ("Notes tab", NotesTable),
    ("Outcomes tab", OutcomesTable),
    ("An open note", NoteScreen),
)
