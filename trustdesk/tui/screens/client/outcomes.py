"""The outcomes tab: what the client achieved, and whether they agreed to be a reference."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from trustdesk.literal import visible
from trustdesk.trust.journey import ClientJourney, OutcomeItem
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.flows.journey import progress
from trustdesk.tui.formatting import day
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.widgets.workspace_table import Col


def outcome_text(o: OutcomeItem) -> Text:
    text = Text(visible(o.title), no_wrap=True, overflow="ellipsis", end="")
    if o.detail:
        text.append(" — " + visible(o.detail), "dim")
    return text


def consent_line(ws: ClientWorkspace, path: ClientJourney) -> Text:
    line = Text(visible(ws.name), "bold", no_wrap=True, overflow="ellipsis", end="")
    if path.reference_consent:
        line.append(" agreed to be a reference and is listed among References. ", "")
        line.append("Press c to withdraw.", "dim")
    else:
        line.append(" is not a reference. ", "")
        line.append("Press c if they agree to be one.", "dim")
    return line


class OutcomesTable(ClientTable):
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

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.path: ClientJourney | None = None

    def current(self) -> OutcomeItem | None:
        if self.path is None:
            return None
        return self.highlighted(self.path.outcomes, lambda o: o.outcome_id)

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> bool:
        """Fill the list; False when no outcome is recorded."""
        self.client, self.path = ws, path
        self.show_rows(
            [
                (
                    str(o.outcome_id),
                    {
                        "date": Text(day(o.achieved_on, today, short_year=True)),
                        "what": outcome_text(o),
                    },
                )
                for o in path.outcomes
            ]
        )
        return bool(path.outcomes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "remove"):
            return True if self.current() is not None else None
        return True

    def action_add(self) -> None:
        if self.client is not None:
            progress.add_outcome(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )

    def action_edit(self) -> None:
        outcome = self.current()
        if outcome is None:
            self.warn("Highlight an outcome first.")
        else:
            progress.edit_outcome(self.td, outcome, self.practice_changed)

    def action_remove(self) -> None:
        outcome = self.current()
        if outcome is None:
            self.warn("Highlight an outcome first.")
        else:
            progress.remove_outcome(self.td, outcome, self.practice_changed)

    def action_consent(self) -> None:
        if self.client is not None and self.path is not None:
            progress.toggle_reference_consent(
                self.td, self.client.name, self.path, self.practice_changed
            )


class OutcomesTab(ClientTab):
    def __init__(self) -> None:
        super().__init__("6 Outcomes", id="tab-outcomes")

    def compose(self) -> ComposeResult:
        yield Static("", id="outcomes-consent", classes="hint")
        yield Static("", id="outcomes-empty", classes="hint")
        yield OutcomesTable(id="outcomes")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        some = self.query_one(OutcomesTable).draw(ws, path, today)
        self.show_empty(
            "outcomes",
            None if some else "No outcomes yet. Press a to record what this client achieved.",
        )
        self.query_one("#outcomes-consent", Static).update(consent_line(ws, path))
