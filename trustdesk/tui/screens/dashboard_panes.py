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
from trustdesk.tui.labels import state_word
from trustdesk.tui.messages import NextSort
from trustdesk.tui.screens.base import Tells
from trustdesk.tui.widgets import SafeInput
from trustdesk.tui.widgets.virtual_table import Cell, Column, VirtualTable


class CadenceLine:
    """A cadence row with its twelve weeks of contact, ready to draw."""

    __slots__ = ("cadence", "weeks")

    def __init__(self, cadence, weeks) -> None:
        self.cadence = cadence
        self.weeks = weeks

    @property
    def client_id(self) -> int:
        return self.cadence.client_id

    @property
    def client_name(self) -> str:
        return self.cadence.client_name

    @property
    def snoozed_until(self):
        return self.cadence.snoozed_until


def format_client(row: dashboard_rules.ClientRow, today: dt.date) -> dict[str, Cell]:
    return {
        "name": Cell(row.name),
        "stage": Cell(row.stage_name or ""),
        "since": Cell(f"{row.days_since_contact}d"),
        # Clients who are not active have no cadence; their status says why.
        "state": Cell(state_word(row.cadence_state), row.cadence_state)
        if row.status.has_cadence
        else Cell(row.status, "muted"),
        "promises": Cell(str(row.open_promises) if row.open_promises else ""),
        "next": Cell(day(row.next_session, today, weekday=True)),
    }


def format_overdue(row: promises.OverduePromise) -> dict[str, Cell]:
    return {
        "late": Cell(f"{row.days_overdue}d", "late"),
        "who": Cell("you" if row.owner == "coach" else "client"),
        "client": Cell(row.client_name),
        "what": Cell(row.title),
    }


def format_cadence(row: CadenceLine) -> dict[str, Cell]:
    c = row.cadence
    return {
        "state": Cell(state_word(c.state), c.state),
        "client": Cell(c.client_name),
        "since": Cell(f"{c.days_since_touch}d"),
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


class ClientsPane(Pane):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="clients_filter"),
        Binding("s", "sort", "Sort", id="clients_sort"),
        Binding("t", "log_touch", "Log touch", id="clients_log_touch"),
        Binding("z", "snooze", "Snooze", id="clients_snooze"),
        Binding("p", "send_prompt", "Send prompt", id="clients_send_prompt"),
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
                Column("next", "Next session", 12, min_table_width=64),
            ],
            self.format_row,
            empty_text="No clients match.",
            id="clients",
        )

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
    BINDINGS = [
        Binding("d", "done", "Done", id="overdue_done"),
        Binding("r", "renegotiate", "Renegotiate", id="overdue_renegotiate"),
        Binding("x", "drop", "Drop", id="overdue_drop"),
    ]

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, classes="pane-title")
        yield VirtualTable(
            [
                Column("late", "Late", 4, align="right"),
                Column("who", "Who", 6),
                Column("client", "Client", 0, weight=2),
                Column("what", "Promise", 0, weight=3),
            ],
            format_overdue,
            empty_text="Nothing overdue. Every promise is on track.",
            id="overdue",
        )
        yield Static("", id="overdue-detail", classes="pane-detail", markup=False)

    @on(VirtualTable.Highlighted, "#overdue")
    def show_detail(self, event: VirtualTable.Highlighted) -> None:
        """The highlighted promise in full: the table's columns are narrow at 80 columns."""
        row = event.row
        who = "You owe" if row.owner == "coach" else "Client owes"
        self.query_one("#overdue-detail", Static).update(
            Text(
                f"{who} {visible(row.client_name)}: {visible(row.title)} "
                f"(due {day(row.due_on, self.td.today, weekday=True)}, {row.days_overdue}d late)"
            )
        )

    def _current(self) -> promises.OverduePromise | None:
        return self.query_one("#overdue", VirtualTable).current_row

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
                app, row.commitment_id, row.title, row.due_on, done, version=row.version
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
        """The highlighted client in full: at 80 columns the name column is narrow."""
        self.query_one("#cadence-detail", Static).update(cadence_detail(event.row))

    def action_log_touch(self) -> None:
        self.log_touch(self.query_one("#cadence", VirtualTable))

    def action_snooze(self) -> None:
        self.snooze(self.query_one("#cadence", VirtualTable))
