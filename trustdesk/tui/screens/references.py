"""References: the clients who agreed to be references, with what they achieved.

Read-only. The list comes from `trust.journey.references` in a thread worker and is
drawn a page at a time (a large practice can have thousands of consenting clients);
Enter opens the highlighted client's workspace, where consent and outcomes change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.trust import journey
from trustdesk.trust.common import plural
from trustdesk.trust.journey import OutcomeItem, ReferenceItem
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import STATUS_WORDS
from trustdesk.tui.screens.base import TrustdeskScreen
from trustdesk.tui.widgets.virtual_table import Cell, Column, Page, VirtualTable


@dataclass(frozen=True)
class ReferenceLine:
    """One line of the list: an outcome of a client, the client named on their first line."""

    client_id: int
    client_name: str
    client_status: str
    program_name: str | None
    outcome: OutcomeItem | None
    first: bool


def lines_of(items: list[ReferenceItem]) -> list[ReferenceLine]:
    lines = []
    for item in items:
        outcomes = item.outcomes or (None,)
        for i, outcome in enumerate(outcomes):
            lines.append(
                ReferenceLine(
                    item.client_id,
                    item.client_name,
                    item.client_status,
                    item.program_name,
                    outcome,
                    first=i == 0,
                )
            )
    return lines


def format_line(line: ReferenceLine) -> dict[str, Cell]:
    # VirtualTable makes every cell literal (visible()) as it draws it.
    o = line.outcome
    if o is None:
        what = Cell("no outcome recorded yet", "muted")
    else:
        what = Cell(f"{o.title} — {o.detail}" if o.detail else o.title)
    return {
        "client": Cell(line.client_name if line.first else ""),
        "date": Cell(day(o.achieved_on, short_year=True) if o else ""),
        "what": what,
    }


class ReferencesTable(VirtualTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open client", id="references_open"),
    ]


class ReferencesScreen(TrustdeskScreen[None]):
    """Every consenting client with their outcomes, the most recent outcome first."""

    DEFAULT_CSS = """
    ReferencesScreen #references-pane {
        height: 1fr;
    }
    ReferencesScreen ReferencesTable {
        height: 1fr;
    }
    ReferencesScreen #reference-detail {
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-top: solid $panel-lighten-2;
    }
    ReferencesScreen .hint {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="references_back"),
        Binding("f5", "reload", "Reload", id="references_reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[ReferenceLine] | None = None
        self._clients = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="references-pane", classes="pane"):
            yield Label("References", id="references-title", classes="pane-title")
            yield Static(
                "Clients who agreed to be references, with what they achieved. "
                "Consent and outcomes are kept in each client's workspace (Enter).",
                classes="hint",
            )
            yield ReferencesTable(
                [
                    Column("client", "Client", 22),
                    Column("date", "Achieved", 11),
                    Column("what", "Outcome", 0),
                ],
                format_line,
                empty_text="No client has agreed to be a reference yet.",
                id="references",
            )
            yield Static("", id="reference-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#reference-detail").display = False
        table = self.query_one(ReferencesTable)
        table.focus()
        table.set_loader(self._page)

    # --- loading ------------------------------------------------------------------

    def _page(self, offset: int, limit: int) -> Page:
        """Runs in a worker thread: fetch the whole list once, then serve pages from it."""
        lines = self._lines
        if lines is None or offset == 0:
            app = self.td
            items = app.fetch(journey.references, app.coach)
            lines = lines_of(items)
            self._lines, self._clients = lines, len(items)
        return Page(len(lines), offset, lines[offset : offset + limit])

    def reload(self) -> None:
        self._lines = None
        self.query_one(ReferencesTable).reload()

    @on(VirtualTable.Loaded, "#references")
    def _loaded(self, event: VirtualTable.Loaded) -> None:
        n = self._clients
        self.query_one("#references-title", Label).update(f"References ({plural(n, 'client')})")
        if not event.total:
            self._draw_detail(None)

    # --- the highlighted line -----------------------------------------------------------

    @on(VirtualTable.Highlighted, "#references")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._draw_detail(event.row)

    def _draw_detail(self, line: ReferenceLine | None) -> None:
        out = self.query_one("#reference-detail", Static)
        out.display = line is not None
        if line is None:
            out.update("")
            return
        text = Text(end="")
        text.append(visible(line.client_name), "bold")
        text.append(f"  ·  {STATUS_WORDS.get(line.client_status, line.client_status)}")
        if line.program_name:
            text.append("  ·  ")
            text.append(visible(line.program_name))
        o = line.outcome
        if o is not None:
            text.append("\n")
            text.append(visible(o.title), "bold")
            text.append(f"  ({day(o.achieved_on)})")
            if o.detail:
                text.append("\n")
                text.append(visible(o.detail))
        out.update(text)

    # --- opening a client -------------------------------------------------------------

    @on(VirtualTable.Selected, "#references")
    def _selected(self, event: VirtualTable.Selected) -> None:
        self.open_client(event.row.client_id)

    def open_client(self, client_id: int) -> None:
        from trustdesk.tui.screens.client import ClientScreen

        # Back from the workspace, consent or outcomes may have changed.
        self.app.push_screen(ClientScreen(client_id), lambda _: self.reload())

    def action_back(self) -> None:
        self.dismiss(None)


# What the help screen can list for the references view.
HELP_SECTIONS = (
    ("References", ReferencesScreen),
    ("References list", ReferencesTable),
)
