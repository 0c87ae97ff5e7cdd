"""The sessions tab: when each session was, whether it was held, and how punctually."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.sessions import SessionItem
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.flows import sessions as session_flows
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import SESSION_STATUS_WORDS
from trustdesk.tui.screens.client.common import ClientTab, ClientTable
from trustdesk.tui.widgets.workspace_table import Col


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


class SessionsTable(ClientTable):
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

    def current(self) -> SessionItem | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.sessions, lambda s: s.session_id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> bool:
        """Fill the list; False when the client has no sessions."""
        self.client = ws
        self.show_rows(
            [
                (
                    str(s.session_id),
                    {
                        "when": Text(
                            day(s.scheduled_start, today, weekday=True, clock=True, short_year=True)
                        ),
                        "status": Text(SESSION_STATUS_WORDS.get(s.status, s.status)),
                        "late": Text(late_words(s)),
                        "length": Text(f"{s.duration_minutes} min"),
                    },
                )
                for s in ws.sessions
            ]
        )
        return bool(ws.sessions)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Shown but dimmed when the highlighted session cannot take the change.
        session = self.current()
        if action == "reschedule":
            return True if session is not None and session.can_move else None
        if action == "status":
            if session is None:
                return None
            # A held session's record stays as it is; only its start time can be corrected.
            return True if session.allows(str(parameters[0])) else None
        return True

    def action_schedule(self) -> None:
        if self.client is not None:
            session_flows.schedule_session(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )

    def action_reschedule(self) -> None:
        session = self.current()
        if session is None:
            self.warn("Highlight a session first.")
        elif not session.can_move:
            word = SESSION_STATUS_WORDS.get(session.status, session.status)
            self.warn(f"That session is {word}; only a scheduled session can be moved.")
        else:
            session_flows.reschedule_session(self.td, session, self.practice_changed)

    def action_status(self, status: str) -> None:
        session = self.current()
        if session is None:
            self.warn("Highlight a session first.")
        elif not session.allows(status):
            self.warn("That session was held; its record stays as it is.")
        elif status == "held":
            session_flows.mark_session_held(self.td, session, self.practice_changed)
        else:
            session_flows.set_session_status(
                self.td,
                session.session_id,
                status,
                self.practice_changed,
                version=session.version,
            )


class SessionsTab(ClientTab):
    def __init__(self) -> None:
        super().__init__("Sessions", id="tab-sessions")

    def compose(self) -> ComposeResult:
        yield Static("", id="sessions-empty", classes="hint")
        yield SessionsTable(id="sessions")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        some = self.query_one(SessionsTable).draw(ws, today)
        self.show_empty("sessions", None if some else "No sessions yet. Press a to schedule one.")
