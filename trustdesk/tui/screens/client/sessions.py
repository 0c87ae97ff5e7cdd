"""The sessions tab: when each session was, whether it was held, and how punctually."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from trustdesk import config
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


def status_words(session: SessionItem, now: dt.datetime | None = None) -> str:
    """'late cancel · client': how it went, and who called it off when that is known; a
    session whose time is over that still says scheduled waits for an outcome."""
    ends = session.scheduled_start + dt.timedelta(minutes=session.duration_minutes)
    if session.status == "scheduled" and now is not None and ends <= now:
        return "waiting for outcome"
    word = SESSION_STATUS_WORDS.get(session.status, session.status)
    if session.cancelled_by:
        return f"{word} · {session.cancelled_by}"
    return word


BEGUN = ("held", "no_show")  # what only a session that has begun can be marked


class SessionsTable(ClientTable):
    COLUMNS = (
        Col("when", "When", 16),
        Col("status", "Status", 20),
        Col("late", "Started", 12),
        Col("length", "Length", 0),
    )
    FLEX_MIN = 7
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "schedule", "Schedule", id="session_add"),
        Binding("e", "reschedule", "Move", id="session_reschedule"),
        Binding("h", "status('held')", "Held", id="session_held"),
        Binding("n", "status('no_show')", "No-show", id="session_no_show"),
        Binding("l", "status('late_cancel')", "Late cancel", id="session_late_cancel"),
        Binding("c", "status('cancelled')", "Cancel", id="session_cancelled"),
    ]

    def current(self) -> SessionItem | None:
        if self.client is None:
            return None
        return self.highlighted(self.client.sessions, lambda s: s.session_id)

    def draw(self, ws: ClientWorkspace, today: dt.date) -> bool:
        """Fill the list; False when the client has no sessions."""
        self.client = ws
        now = config.now()
        self.show_rows(
            [
                (
                    str(s.session_id),
                    {
                        "when": Text(
                            day(s.scheduled_start, today, weekday=True, clock=True, short_year=True)
                        ),
                        "status": Text(status_words(s, now)),
                        "late": Text(late_words(s)),
                        "length": Text(f"{s.duration_minutes} min"),
                    },
                )
                for s in ws.sessions
            ]
        )
        return bool(ws.sessions)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden when the highlighted session cannot take the change.
        session = self.current()
        if action == "reschedule":
            return session is not None and session.can_move
        if action == "status":
            status = str(parameters[0])
            if session is None or not session.allows(status):
                return False
            # Held or missed only once it has begun; a late cancel may come before.
            return status not in BEGUN or session.scheduled_start <= config.now()
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
            word = SESSION_STATUS_WORDS.get(status, status)
            self.warn(f"That session is already {word}.")
        elif status in BEGUN and session.scheduled_start > config.now():
            self.warn("That session has not begun yet.")
        elif status == "held":
            session_flows.mark_session_held(self.td, session, self.practice_changed)
        elif status in session_flows.CANCELLING:
            session_flows.cancel_session(self.td, session, status, self.practice_changed)
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
        super().__init__("2 Sessions", id="tab-sessions")

    def compose(self) -> ComposeResult:
        yield Static("", id="sessions-empty", classes="hint")
        yield SessionsTable(id="sessions")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        some = self.query_one(SessionsTable).draw(ws, today)
        self.show_empty("sessions", None if some else "No sessions yet. Press a to schedule one.")
