"""The promises tab: what the coach and the client promised, and whether it was kept."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from trustdesk.literal import visible
from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.promises import PromiseItem
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.flows import promises as promise_flows
from trustdesk.tui.formatting import day, literal
from trustdesk.tui.labels import PROMISE_WORDS
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.widgets.workspace_table import Col


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


def renegotiated_words(p: PromiseItem) -> str:
    """'in time, the client asked': when it was moved against its due date, and who asked."""
    when = "in time" if p.renegotiated_in_time else "after it was due"
    asked = {"client": ", the client asked", "coach": ", you asked"}.get(p.asked_by, "")
    return when + asked


def promise_detail(p: PromiseItem, today: dt.date) -> Text:
    """The line under the promises for the highlighted one: its whole title, or why it was
    dropped or moved. What the coach typed stays literal."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if p.status == "renegotiated":
        moved = day(p.done_on, today, short_year=True)
        text.append(f"Renegotiated {moved} ({renegotiated_words(p)}): ")
        text.stylize("bold")
        text.append(visible(p.title))
        if p.reason:
            text.append(" — reason: ")
            text.append(visible(p.reason))
        return text
    if p.status == "dropped":
        text.append(f"Dropped {day(p.done_on, today, short_year=True)}".rstrip() + ": ", "bold")
        text.append(visible(p.reason) if p.reason else "no reason was given")
        return text
    if p.status == "open":
        text.append(f"Promised {day(p.promised_on, today, short_year=True)}: ", "bold")
    else:
        word = promise_status(p, today)
        text.append(
            f"{word[:1].upper()}{word[1:]} {day(p.done_on, today, short_year=True)}".rstrip()
            + ": ",
            "bold",
        )
    text.append(visible(p.title))
    if p.reason:
        text.append(" — reason: ")
        text.append(visible(p.reason))
    return text


class PromisesTable(ClientTable):
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
        Binding("D", "done_on", "Done on…", id="promise_done_on"),
        Binding("r", "change('renegotiate')", "Renegotiate", id="promise_renegotiate"),
        Binding("x", "change('drop')", "Drop", id="promise_drop"),
    ]

    def current(self) -> PromiseItem | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.promises, lambda p: p.commitment_id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> bool:
        """Fill the list; False when the client has no promises."""
        self.client = ws
        self.show_rows(
            [
                (
                    str(p.commitment_id),
                    {
                        "who": Text("you" if p.owner == "coach" else "client"),
                        "what": literal(p.title),
                        "promised": Text(day(p.promised_on, today, short_year=True)),
                        "due": Text(day(p.due_on, today, short_year=True)),
                        "status": Text(promise_status(p, today)),
                        "closed": Text(day(p.done_on, today, short_year=True)),
                    },
                )
                for p in ws.promises
            ]
        )
        return bool(ws.promises)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A key that cannot act on the highlighted promise is not offered at all."""
        if action == "change":
            promise = self.current()
            return promise is not None and promise.can_change
        if action == "done_on":
            # Open: keep it on a chosen day. Kept: correct the day it was kept.
            promise = self.current()
            return promise is not None and (promise.can_change or promise.can_correct_done_on)
        return True

    def action_done_on(self) -> None:
        p = self.current()
        if p is None:
            return
        app, done, v = self.td, self.practice_changed, p.version
        if p.can_change:
            promise_flows.mark_done_on(
                app, p.commitment_id, p.title, p.promised_on, done, version=v
            )
        elif p.can_correct_done_on and p.done_on is not None:
            promise_flows.correct_done_on(
                app, p.commitment_id, p.title, p.promised_on, p.done_on, done, version=v
            )

    def action_add(self) -> None:
        if self.client is not None:
            promise_flows.add_promise(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )

    def action_change(self, what: str) -> None:
        """Edit, keep, renegotiate or drop the highlighted promise, if it is still open."""
        p = self.current()
        if p is None:
            self.warn("Highlight a promise first.")
            return
        if not p.can_change:
            self.warn(
                f"That promise is already {promise_status(p, self.td.today)}; "
                "only an open promise can change."
            )
            return
        app, done, v = self.td, self.practice_changed, p.version
        if what == "edit":
            promise_flows.edit_promise(
                app, p.commitment_id, p.title, p.promised_on, p.due_on, done, version=v
            )
        elif what == "done":
            promise_flows.mark_done(app, p.commitment_id, p.title, done, version=v)
        elif what == "renegotiate":
            promise_flows.renegotiate(
                app, p.commitment_id, p.title, p.due_on, done, version=v, owner=p.owner
            )
        elif what == "drop":
            promise_flows.drop(app, p.commitment_id, p.title, done, version=v)


class PromisesTab(ClientTab):
    def __init__(self) -> None:
        super().__init__("3 Promises", id="tab-promises")

    def compose(self) -> ComposeResult:
        yield Static("", id="promises-empty", classes="hint")
        yield PromisesTable(id="promises")
        yield Static("", id="promise-detail", classes="hint")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        some = self.query_one(PromisesTable).draw(ws, today)
        self.show_empty("promises", None if some else "No promises yet. Press a to add one.")
        self.draw_detail()

    @on(DataTable.RowHighlighted, "#promises")
    def draw_detail(self) -> None:
        detail = self.query_one("#promise-detail", Static)
        p = self.query_one(PromisesTable).current()
        detail.display = p is not None
        today = self.td.today
        detail.update(promise_detail(p, today) if p is not None else "")
