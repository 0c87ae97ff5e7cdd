"""The dashboard's three panes and how their rows are drawn.

Each pane's keys act on its highlighted row through a flow; after a write the pane posts
`PracticeChanged` and the dashboard loads again. Sorting is the screen's: the clients
pane asks for it with `NextSort`.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from trustdesk.literal import visible
from trustdesk.trust import dashboard as dashboard_rules
from trustdesk.trust import promises
from trustdesk.trust.common import plural
from trustdesk.tui.flows import contact as contact_flows
from trustdesk.tui.flows import promises as promise_flows
from trustdesk.tui.formatting import day, sparkline
from trustdesk.tui.labels import since_contact_short, state_word
from trustdesk.tui.messages import NextSort
from trustdesk.tui.screens.base import Tells
from trustdesk.tui.widgets import SafeInput
from trustdesk.tui.widgets.virtual_table import Cell, Column, VirtualTable


class CadenceLine:
    """A cadence row with its twelve weeks of contact, ready to draw."""

    __slots__ = ("cadence", "fall", "weeks")

    def __init__(self, cadence, weeks, fall=None) -> None:
        self.cadence = cadence
        self.weeks = weeks
        self.fall = fall  # trust.contact.Fall when the client fell

    @property
    def client_id(self) -> int:
        return self.cadence.client_id

    @property
    def client_name(self) -> str:
        return self.cadence.client_name

    @property
    def snoozed_until(self):
        return self.cadence.snoozed_until


def fall_words(fall, today: dt.date) -> str:
    """'missed Tue 24 Nov session', 'promise due Fri 27 Nov not kept'."""
    return fall.words(day(fall.on, today, weekday=True))


def _state_cell(row: dashboard_rules.ClientRow) -> Cell:
    # Clients who are not active have no cadence; their status says why. One who fell
    # is flagged before anything their cadence says: they need catching now.
    if not row.status.has_cadence:
        return Cell(row.status, "muted")
    if row.fell is not None:
        return Cell(state_word("fell"), "quiet")
    return Cell(state_word(row.cadence_state), row.cadence_state)


def format_client(row: dashboard_rules.ClientRow, today: dt.date) -> dict[str, Cell]:
    return {
        "name": Cell(row.name),
        "stage": Cell(row.stage_name or ""),
        "since": Cell(since_contact_short(row.days_since_contact)),
        "state": _state_cell(row),
        "promises": Cell(str(row.open_promises) if row.open_promises else ""),
        "next": Cell(day(row.next_session, today, weekday=True, clock=True, short_year=True)),
    }


def format_overdue(row: promises.OverduePromise | promises.DueSoonPromise) -> dict[str, Cell]:
    """An overdue promise shows how late it is; one due soon, how long is left."""
    if isinstance(row, promises.DueSoonPromise):
        when = Cell("today" if row.days_left == 0 else f"in {row.days_left}d")
    else:
        when = Cell(f"{row.days_overdue}d", "late")
    return {
        "late": when,
        "who": Cell("you" if row.owner == "coach" else "client"),
        "client": Cell(row.client_name),
        "what": Cell(row.title),
    }


def format_cadence(row: CadenceLine) -> dict[str, Cell]:
    c = row.cadence
    state = Cell(state_word("fell"), "quiet") if row.fall else Cell(state_word(c.state), c.state)
    return {
        "state": state,
        "client": Cell(c.client_name),
        "since": Cell(since_contact_short(c.days_since_touch)),
        "weeks": Cell(sparkline(row.weeks.counts), "muted"),
    }


def cadence_detail(row: CadenceLine) -> Text:
    """'Astrid Fernando: quiet, 57 days since contact (ideal every 7d, at most 21d)'."""
    c = row.cadence
    since = plural(c.days_since_touch, "day")
    return Text(
        f"{visible(c.client_name)}: {getattr(c.state, 'value', c.state)}, {since} since contact "
        f"(ideal every {c.ideal_gap_days}d, at most {c.max_gap_days}d)"
    )


def name_of(row) -> str:
    """A client's name on any dashboard row: `name` in the clients list, else `client_name`."""
    return getattr(row, "name", None) or row.client_name


class Pane(Tells, Vertical):
    """A titled area of the dashboard."""

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.title_text = title

    def set_title(self, text: str) -> None:
        self.query_one(".pane-title", Label).update(Text(text))

    def log_touch(self, table: VirtualTable) -> None:
        row = table.current_row
        if row is not None:
            app = self.td
            contact_flows.log_touch(app, row.client_id, name_of(row), self.practice_changed)

    def snooze(self, table: VirtualTable) -> None:
        row = table.current_row
        if row is None:
            return
        until = getattr(row, "snoozed_until", None)
        app = self.td
        contact_flows.snooze(app, row.client_id, name_of(row), until, self.practice_changed)


# How clients get in, where the clients list would be.
EMPTY_PRACTICE_HINT = (
    "Press n to add a client, or bring a spreadsheet in from the command line: "
    "trustdesk import FILE"
)


class ClientsPane(Pane):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="clients_filter"),
        Binding("s", "sort", "Sort", id="clients_sort"),
        Binding("t", "log_touch", "Log touch", id="clients_log_touch"),
        Binding("z", "snooze", "Snooze", id="clients_snooze"),
        # Listed in `?` and the palette; the footer keeps room for the keys used daily.
        Binding("p", "send_prompt", "Prompt", show=False, id="clients_send_prompt"),
        Binding("n", "new_client", "New", id="clients_new_client"),
    ]

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="pane-title")
        yield SafeInput(placeholder="Filter by name…", id="client-filter", classes="-hidden")
        yield VirtualTable(
            [
                Column("name", "Client", 0, weight=3),
                Column("stage", "Stage", 0, min_table_width=60, weight=2),
                Column("since", "Contact", 7, align="right"),
                Column("state", "Cadence", 9),
                Column("promises", "Open", 4, align="right", min_table_width=64),
                Column("next", "Next session", 16, min_table_width=64),
            ],
            self.format_row,
            empty_text="No clients match.",
            id="clients",
        )
        yield Static(EMPTY_PRACTICE_HINT, id="clients-empty-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#clients-empty-hint").display = False

    def show_empty_hint(self, empty: bool) -> None:
        """An empty list with no filter: say how clients get in, not "No clients match"."""
        table = self.query_one("#clients", VirtualTable)
        table.empty_text = "No clients yet." if empty else "No clients match."
        table.refresh()
        self.query_one("#clients-empty-hint").display = empty

    def action_new_client(self) -> None:
        from trustdesk.tui.flows.clients import new_client

        new_client(self.td, self.practice_changed)

    def format_row(self, row: dashboard_rules.ClientRow) -> dict[str, Cell]:
        return format_client(row, self.td.today)

    def action_filter(self) -> None:
        box = self.query_one("#client-filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def action_sort(self) -> None:
        self.post_message(NextSort())

    def action_log_touch(self) -> None:
        self.log_touch(self.query_one("#clients", VirtualTable))

    def action_snooze(self) -> None:
        self.snooze(self.query_one("#clients", VirtualTable))

    def action_send_prompt(self) -> None:
        from trustdesk.tui.screens.prompts import send_prompt_flow

        row = self.query_one("#clients", VirtualTable).current_row
        if row is not None:
            app = self.td
            send_prompt_flow(app, row.client_id, row.name, self.practice_changed)


class OverduePane(Pane):
    """Overdue promises, then (a section of the same list) those due soon: one set of keys
    for both, so a promise is kept, moved or dropped the same way before and after it is late.
    """

    BINDINGS = [
        Binding("d", "done", "Done", id="overdue_done"),
        # Listed in `?`; left out of the footer, which has no room for it at 80 columns.
        Binding("D", "done_on", "Done on…", show=False, id="overdue_done_on"),
        Binding("r", "renegotiate", "Renegotiate", id="overdue_renegotiate"),
        Binding("x", "drop", "Drop", id="overdue_drop"),
    ]

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="pane-title")
        yield VirtualTable(
            [
                Column("late", "When", 6, align="right"),
                Column("who", "Who", 6),
                Column("client", "Client", 0, weight=2),
                Column("what", "Promise", 0, weight=3),
            ],
            format_overdue,
            empty_text="Nothing overdue or due soon. Every promise is on track.",
            id="overdue",
        )
        yield Static("", id="overdue-detail", classes="pane-detail", markup=False)

    @on(VirtualTable.Highlighted, "#overdue")
    def show_detail(self, event: VirtualTable.Highlighted) -> None:
        """The highlighted promise in full: the table's columns are narrow at 80 columns."""
        row = event.row
        who = "You owe" if row.owner == "coach" else "Client owes"
        today = self.td.today
        if isinstance(row, promises.DueSoonPromise):
            left = {0: "due today", 1: "due tomorrow"}.get(row.days_left)
            when = left or f"due {day(row.due_on, today, weekday=True)}, in {row.days_left} days"
        else:
            when = f"due {day(row.due_on, today, weekday=True)}, {row.days_overdue}d late"
        self.query_one("#overdue-detail", Static).update(
            Text(f"{who} {visible(row.client_name)}: {visible(row.title)} ({when})")
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """With no promise highlighted (an empty list), its keys are not offered."""
        if action in ("done", "done_on", "renegotiate", "drop"):
            return self._current() is not None
        return True

    def on_virtual_table_loaded(self) -> None:
        self.refresh_bindings()

    def _current(self) -> promises.OverduePromise | promises.DueSoonPromise | None:
        tables = self.query("#overdue").results(VirtualTable)
        table = next(tables, None)
        return None if table is None else table.current_row

    def action_done_on(self) -> None:
        row = self._current()
        if row is not None:
            app, done = self.td, self.practice_changed
            promise_flows.mark_done_on(
                app, row.commitment_id, row.title, row.promised_on, done, version=row.version
            )

    def action_done(self) -> None:
        row = self._current()
        if row is not None:
            app, done = self.td, self.practice_changed
            promise_flows.mark_done(app, row.commitment_id, row.title, done, version=row.version)

    def action_renegotiate(self) -> None:
        row = self._current()
        if row is not None:
            app, done = self.td, self.practice_changed
            promise_flows.renegotiate(
                app,
                row.commitment_id,
                row.title,
                row.due_on,
                done,
                version=row.version,
                owner=row.owner,
            )

    def action_drop(self) -> None:
        row = self._current()
        if row is not None:
            app, done = self.td, self.practice_changed
            promise_flows.drop(app, row.commitment_id, row.title, done, version=row.version)


class CadencePane(Pane):
    BINDINGS = [
        Binding("t", "log_touch", "Log touch", id="cadence_log_touch"),
        Binding("z", "snooze", "Snooze", id="cadence_snooze"),
    ]

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="pane-title")
        yield VirtualTable(
            [
                Column("state", "Cadence", 9),
                Column("client", "Client", 0),
                Column("since", "Since", 5, align="right"),
                Column("weeks", "12 weeks", 12),
            ],
            format_cadence,
            empty_text="Everyone is in touch. Nobody is due.",
            id="cadence",
        )
        yield Static("", id="cadence-detail", classes="pane-detail", markup=False)

    @on(VirtualTable.Highlighted, "#cadence")
    def show_detail(self, event: VirtualTable.Highlighted) -> None:
        """The highlighted client in full, and what happened if they fell: the table's
        columns are narrow at 80 columns."""
        row: CadenceLine = event.row
        c = row.cadence
        if row.fall is not None:
            since = f"{plural(c.days_since_touch, 'day')} since contact"
            what = Text(f"{visible(c.client_name)}: {fall_words(row.fall, self.td.today)}; {since}")
        else:
            what = cadence_detail(row)
        self.query_one("#cadence-detail", Static).update(what)

    def action_log_touch(self) -> None:
        self.log_touch(self.query_one("#cadence", VirtualTable))

    def action_snooze(self) -> None:
        self.snooze(self.query_one("#cadence", VirtualTable))
