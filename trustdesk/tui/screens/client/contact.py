"""The contact tab: every touch between sessions (marked when it logged itself from mail
or was sent by email), the last messages' subjects, and the keys that log and snooze."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from trustdesk.trust.contact import MessageItem, TouchItem
from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.flows import contact as contact_flows
from trustdesk.tui.formatting import day, literal
from trustdesk.tui.labels import CHANNEL_LABELS, TOUCH_SOURCE_LABELS
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.widgets.workspace_table import Col


class ContactTable(ClientTable):
    COLUMNS = (
        Col("date", "Date", 9),
        Col("channel", "Channel", 14),
        Col("direction", "Way", 5),
        Col("source", "Via", 4),
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

    def current(self) -> TouchItem | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.touches, lambda t: t.touch_id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> bool:
        """Fill the list; False when no contact was logged."""
        self.client = ws
        self.show_rows(
            [
                (
                    str(t.touch_id),
                    {
                        "date": Text(day(t.occurred_on, today, short_year=True)),
                        "channel": Text(CHANNEL_LABELS.get(t.channel, t.channel)),
                        "direction": Text("→ out" if t.direction == "outbound" else "← in"),
                        "source": Text(TOUCH_SOURCE_LABELS.get(t.source, t.source)),
                        "counts": Text("yes" if t.counts_for_cadence else "no"),
                        "summary": literal(t.summary),
                    },
                )
                for t in ws.touches
            ]
        )
        return bool(ws.touches)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_touch", "remove_touch"):
            return True if self.current() is not None else None
        return True

    def action_log_touch(self) -> None:
        if self.client is not None:
            contact_flows.log_touch(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )

    def action_edit_touch(self) -> None:
        touch = self.current()
        if touch is None:
            self.warn("Highlight a touch first.")
        else:
            contact_flows.edit_touch(self.td, touch, self.practice_changed)

    def action_remove_touch(self) -> None:
        touch = self.current()
        if touch is None:
            self.warn("Highlight a touch first.")
        else:
            contact_flows.remove_touch(self.td, touch, self.practice_changed)

    def action_snooze(self) -> None:
        ws = self.client
        if ws is not None:
            contact_flows.snooze(
                self.td, ws.client_id, ws.name, ws.snoozed_until, self.practice_changed
            )


class ContactTab(ClientTab):
    DEFAULT_CSS = """
    ContactTab #contact-messages {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        margin-bottom: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__("4 Contact", id="tab-contact")

    def compose(self) -> ComposeResult:
        yield Static("", id="contact-messages", classes="hint")
        yield Static("", id="contact-empty", classes="hint")
        yield ContactTable(id="contact")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        messages = self.query_one("#contact-messages", Static)
        messages.update(last_messages_text(ws.last_messages, today))
        messages.display = bool(ws.last_messages)
        some = self.query_one(ContactTable).draw(ws, today)
        self.show_empty(
            "contact", None if some else "No contact logged yet. Press t to log a touch."
        )


def last_messages_text(messages: tuple[MessageItem, ...], today: dt.date) -> Text:
    """'Last messages' and one line each: day, which way, subject (shown literally)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append("Last messages", style="bold")
    for m in messages:
        way = "→" if m.direction == "outbound" else "←"
        text.append(f"\n  {day(m.occurred_on, today, short_year=True):<9}  {way} ")
        text.append_text(literal(m.subject or "(no subject)"))
    return text
