"""One client's workspace: where they stand at the top, then a tab for each habit of trust.

Everything is loaded in one worker (`trust.workspace.client_workspace` and the client's
journey) and drawn on the UI thread, one tab at a time. The tabs' keys call flows
directly; after a write the tab posts `PracticeChanged` and the workspace loads again.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Footer, Label, Sparkline, Static, TabbedContent

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import journey
from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.workspace import ClientMissing, ClientWorkspace, client_workspace
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import STATUS_WORDS, since_contact, state_word
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.screens.base import TrustdeskScreen
from trustdesk.tui.screens.client.common import ClientTab
from trustdesk.tui.screens.client.contact import ContactTab, ContactTable
from trustdesk.tui.screens.client.journey import JourneyTab, JourneyView
from trustdesk.tui.screens.client.notes import NoteScreen, NotesTab, NotesTable
from trustdesk.tui.screens.client.outcomes import OutcomesTab, OutcomesTable
from trustdesk.tui.screens.client.promises import PromisesTab, PromisesTable
from trustdesk.tui.screens.client.sessions import SessionsTab, SessionsTable

TABS = ("journey", "sessions", "promises", "contact", "notes", "outcomes")
TAB_GROUP = Binding.Group("Tabs", compact=True)
CLIENT_GROUP = Binding.Group("Client", compact=True)


def top_text(ws: ClientWorkspace, today: dt.date) -> Text:
    """Name, status and program; stage and sessions; cadence and how long since contact."""
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
        text.append(f"  ·  {since_contact(cadence.days_since_touch)}")
    else:
        text.append(f"cadence not tracked while {ws.status}", "italic")
    text.append(f"  ·  ideal every {ws.ideal_gap_days}d, at most {ws.max_gap_days}d")
    if ws.snoozed_until is not None and ws.snoozed_until >= today:
        text.append(f"  ·  snoozed until {day(ws.snoozed_until, today)}")
    return text


class ClientScreen(TrustdeskScreen[None]):
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
        text-wrap: nowrap;
        text-overflow: ellipsis;
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
        Binding("p", "send_prompt", "Prompt", id="workspace_send_prompt"),
        # The tabs carry their numbers ("1 Journey"), so the footer keeps its room for the
        # tab's own keys; the numbers are listed in `?` too.
        Binding(
            "1", "show_tab('journey')", "Journey", id="tab_journey", group=TAB_GROUP, show=False
        ),
        Binding(
            "2", "show_tab('sessions')", "Sessions", id="tab_sessions", group=TAB_GROUP, show=False
        ),
        Binding(
            "3", "show_tab('promises')", "Promises", id="tab_promises", group=TAB_GROUP, show=False
        ),
        Binding(
            "4", "show_tab('contact')", "Contact", id="tab_contact", group=TAB_GROUP, show=False
        ),
        Binding("5", "show_tab('notes')", "Notes", id="tab_notes", group=TAB_GROUP, show=False),
        Binding(
            "6", "show_tab('outcomes')", "Outcomes", id="tab_outcomes", group=TAB_GROUP, show=False
        ),
        # Upper case, the client-wide counterparts of a tab's keys (`x` removes a row, `X`
        # the client), and free in every tab (the Promises tab's `D` is "Done on…"); one
        # compact group in the footer ("ESX Client"), each key by name in `?` and the palette.
        Binding("E", "edit_client", "Edit client", id="workspace_edit_client", group=CLIENT_GROUP),
        Binding(
            "S", "client_status", "Change status", id="workspace_client_status", group=CLIENT_GROUP
        ),
        Binding(
            "X", "delete_client", "Delete client", id="workspace_delete_client", group=CLIENT_GROUP
        ),
        Binding("f5", "reload", "Reload", id="workspace_reload", show=False),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.workspace: ClientWorkspace | None = None
        self.journey: ClientJourney | None = None
        self._undrawn: set[str] = set()

    # --- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="top"):
            yield Static(Text("Loading…"), id="top-text")
            with Horizontal(id="contact-row"):
                yield Label("Contact, 12 weeks")
                yield Sparkline([], id="sparkline")
                yield Label("", id="contact-total")
        with TabbedContent(id="tabs", initial="tab-journey"):
            yield JourneyTab()
            yield SessionsTab()
            yield PromisesTab()
            yield ContactTab()
            yield NotesTab()
            yield OutcomesTab()
        yield Footer()

    def on_mount(self) -> None:
        for which in ("sessions", "promises", "contact", "outcomes"):
            self.query_one(f"#{which}-empty").display = False
        self.query_one(NotesTab).draw_lock(None)
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

    # --- the client themselves ----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden until the client has loaded: never act on a client still loading.
        if action in ("edit_client", "client_status", "delete_client", "send_prompt"):
            return self.workspace is not None
        return True

    def action_send_prompt(self) -> None:
        """Send this client a prompt, as `p` does on the dashboard's clients list."""
        from trustdesk.tui.screens.prompts import send_prompt_flow

        ws = self.workspace
        if ws is not None:
            send_prompt_flow(self.td, ws.client_id, ws.name, self.practice_changed)

    def action_edit_client(self) -> None:
        from trustdesk.tui.flows.clients import edit_client

        edit_client(self.td, self.client_id, self.practice_changed)

    def action_client_status(self) -> None:
        from trustdesk.tui.flows.clients import move_client

        move_client(self.td, self.client_id, self.practice_changed)

    def action_delete_client(self) -> None:
        from trustdesk.tui.flows.clients import delete_client

        delete_client(self.td, self.client_id, None, gone=self._gone)

    def _gone(self) -> None:
        """The client was deleted: back to where the coach came from, which loads again."""
        if self.is_attached and self.is_current:
            self.dismiss(None)

    # --- loading ------------------------------------------------------------------

    def reload(self) -> None:
        """Load (or load again after a change) everything about the client."""
        self.load(self._read, then=self._show, failed=self._not_loaded, group="workspace")

    def _read(self) -> tuple[ClientWorkspace, ClientJourney]:
        """On the worker thread: the workspace and the journey, on one connection."""
        app = self.td
        ws = client_workspace(app.coach, self.client_id, app.today)
        return ws, journey.client_journey(app.coach, self.client_id)

    def _not_loaded(self, exc: Exception) -> None:
        if isinstance(exc, (ClientMissing, journey.JourneyError)):
            self.app.notify("That client no longer exists.", severity="warning", markup=False)
            if self.is_current:
                self.dismiss(None)
        elif isinstance(exc, StoreError):
            message = f"Could not load this client: {exc}. Press F5 to try again."
            self.app.notify(message, severity="error", markup=False)
        else:
            self.load_failed(exc)

    def _show(self, loaded: tuple[ClientWorkspace, ClientJourney]) -> None:
        if not self.is_attached:
            return
        ws, path = loaded
        self.workspace = ws
        self.journey = path
        self._draw_top(ws, self.td.today)
        # Only the tab on screen is drawn now; the others when they are first shown, so a
        # client with years of history opens as fast as a new one.
        self._undrawn = set(TABS)
        self._draw_tab(self._active_tab())
        self.query_one(NotesTab).draw_lock(ws)
        self.refresh_bindings()

    def _active_tab(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("tab-")

    def _draw_tab(self, tab: str) -> None:
        ws, path = self.workspace, self.journey
        if tab not in self._undrawn or ws is None or path is None:
            return
        self._undrawn.discard(tab)
        self.query_one(f"#tab-{tab}", ClientTab).draw(ws, path, self.td.today)

    def _draw_top(self, ws: ClientWorkspace, today: dt.date) -> None:
        self.query_one("#top-text", Static).update(top_text(ws, today))
        counts = list(ws.contact_weeks.counts)
        self.query_one("#sparkline", Sparkline).data = counts
        total = sum(counts)
        touches = "touch" if total == 1 else "touches"
        self.query_one("#contact-total", Label).update(f"{total} {touches}")

    # --- the notes lock -----------------------------------------------------------

    def on_notes_lock_changed(self, message: NotesLockChanged) -> None:
        # An open note closes itself (NoteScreen); here the lock line and keys change.
        if self.is_attached:
            self.query_one(NotesTab).lock_changed(self.workspace)


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
