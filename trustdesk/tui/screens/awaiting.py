"""Prompts sent to clients that are still waiting for an answer, longest wait first."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.trust.prompts import AwaitingReply, awaiting_reply
from trustdesk.tui.flows.prompts import log_reply_flow
from trustdesk.tui.formatting import day
from trustdesk.tui.screens.base import TrustdeskModal


class AwaitingRepliesScreen(TrustdeskModal[None]):
    """Enter logs the highlighted client's reply; the list reloads after."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="awaiting_close"),
        Binding("r", "log_reply", "Log their reply", id="awaiting_log_reply"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[AwaitingReply] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="awaiting", classes="dialog"):
            yield Label("Prompts awaiting a reply", classes="dialog-title")
            yield Static("Loading…", id="awaiting-empty", classes="dialog-intro")
            table = DataTable(id="awaiting-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Waiting", "Client", "Prompt", "Sent")
            yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    def reload(self) -> None:
        self.load(awaiting_reply, self.td.coach, self.td.today, then=self._show, group="awaiting")

    def _show(self, items: list[AwaitingReply]) -> None:
        self.items = items
        table = self.query_one(DataTable)
        table.clear()
        for item in items:
            table.add_row(
                Text(f"{item.days_waiting}d"),
                Text(visible(item.client_name)),
                Text(visible(item.prompt_title)),
                Text(day(item.sent_on, self.td.today)),
            )
        empty = self.query_one("#awaiting-empty", Static)
        empty.update(
            "Every prompt you sent has been answered."
            if not items
            else "Enter (or r) logs the highlighted client's reply."
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_log_reply()

    def action_log_reply(self) -> None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row >= len(self.items):
            return
        item = self.items[table.cursor_row]
        log_reply_flow(self.td, item.client_id, item.client_name, self.reload)

    def action_close(self) -> None:
        self.dismiss(None)
