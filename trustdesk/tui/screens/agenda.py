"""The day's agenda: today's sessions with their times, and the sessions whose time is over
that still wait for the coach to say how they went (held, cancelled late, a no-show)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.trust import sessions
from trustdesk.trust.sessions import AgendaSession, DayAgenda
from trustdesk.tui.flows import sessions as session_flows
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import SESSION_STATUS_WORDS
from trustdesk.tui.screens.base import TrustdeskModal


class AgendaScreen(TrustdeskModal[None]):
    """Keys record what happened to the highlighted session; the list reloads after."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="agenda_close"),
        Binding("h", "status('held')", "Held", id="agenda_held"),
        Binding("n", "status('no_show')", "No-show", id="agenda_no_show"),
        Binding("l", "status('late_cancel')", "Late cancel", id="agenda_late_cancel"),
        Binding("c", "status('cancelled')", "Cancel", id="agenda_cancelled"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[AgendaSession] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="agenda", classes="dialog"):
            yield Label("Agenda", classes="dialog-title")
            yield Static("Loading…", id="agenda-intro", classes="dialog-intro")
            table = DataTable(id="agenda-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("When", "Client", "Status")
            yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    def reload(self) -> None:
        app = self.td
        self.load(
            sessions.day_agenda, app.coach, app.today, config.now(), then=self._show, group="agenda"
        )

    def _show(self, agenda: DayAgenda) -> None:
        today = self.td.today
        waiting_ids = {s.session_id for s in agenda.awaiting_outcome}
        self.rows = list(agenda.awaiting_outcome) + [
            s for s in agenda.sessions if s.session_id not in waiting_ids
        ]
        table = self.query_one(DataTable)
        table.clear()
        for s in self.rows:
            if s.session_id in waiting_ids:
                when = (
                    f"today {s.scheduled_start:%H:%M}"
                    if s.scheduled_start.date() == today
                    else day(s.scheduled_start, today, weekday=True, clock=True)
                )
                status = "waiting: how did it go?"
            else:
                when = f"today {s.scheduled_start:%H:%M}–{s.ends:%H:%M}"
                status = SESSION_STATUS_WORDS.get(s.status, s.status)
            table.add_row(Text(when), Text(visible(s.client_name)), Text(status))
        n_today, n_waiting = len(agenda.sessions), len(agenda.awaiting_outcome)
        parts = [f"{day(today, today)}: {n_today} session{'' if n_today == 1 else 's'} today"]
        if n_waiting:
            parts.append(f"{n_waiting} waiting for an outcome (h held, n no-show, l late cancel)")
        elif not n_today:
            parts.append("nothing waits for an outcome")
        self.query_one("#agenda-intro", Static).update(Text(" · ".join(parts)))
        self.refresh_bindings()

    def current(self) -> AgendaSession | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "status":
            return True
        session = self.current()
        if session is None or session.status != "scheduled":
            return False
        # Only a session that has begun can have been held or missed.
        return (
            parameters[0] in ("cancelled", "late_cancel") or session.scheduled_start <= config.now()
        )

    def action_status(self, status: str) -> None:
        session = self.current()
        if session is None:
            return
        item = session.item()
        if status == "held":
            session_flows.mark_session_held(self.td, item, self.reload)
        elif status in session_flows.CANCELLING:
            session_flows.cancel_session(self.td, item, status, self.reload)
        else:
            session_flows.set_session_status(
                self.td, item.session_id, status, self.reload, version=item.version
            )

    def action_close(self) -> None:
        self.dismiss(None)
