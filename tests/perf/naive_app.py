"""The comparison for the benchmark: the dashboard a quick build would write.

It asks the same rules for the same data as the real dashboard (the summary report and
the client list with its contact, promises and next session), but the way a first version
usually does: every client at once, into Textual's built-in DataTable. Loading happens in
a thread worker, as in trustdesk, so the difference measured is the list, not the threading.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static

from trustdesk import config
from trustdesk.store.models import Client, db
from trustdesk.trust import dashboard as dashboard_rules
from trustdesk.trust.report import build_report

COLUMNS = ("Client", "Stage", "Contact", "Cadence", "Open", "Next session")


class NaiveApp(App):
    """A summary line and one DataTable holding every client."""

    CSS = """
    #summary { height: 1; padding: 0 1; }
    #clients { height: 1fr; }
    """

    def __init__(self, database, coach) -> None:
        super().__init__()
        self.database = database
        self.coach = coach
        self.loaded = False
        self.expected_rows: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        yield DataTable(id="clients", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#clients", DataTable).add_columns(*COLUMNS)
        self.run_worker(self._load, thread=True, exit_on_error=False)

    def _load(self) -> None:
        today = config.today()
        with db.connection_context():
            report = build_report(self.coach, today, config.Settings())
            total = Client.select().where(Client.coach == self.coach).count()
            page = dashboard_rules.client_page(self.coach, today, offset=0, limit=max(total, 1))
        rows = [
            (
                row.name,
                row.stage_name or "",
                f"{row.days_since_contact}d",
                row.cadence_state or row.status,
                str(row.open_promises or ""),
                f"{row.next_session:%d %b %H:%M}" if row.next_session else "",
            )
            for row in page.rows
        ]
        self.call_from_thread(self._show, report, rows)

    def _show(self, report, rows) -> None:
        self.query_one("#summary", Static).update(
            Text(
                f"{len(report.overdue)} overdue · {len(report.quiet)} quiet, "
                f"{len(report.due_for_contact)} due"
            )
        )
        table = self.query_one("#clients", DataTable)
        self.expected_rows = len(rows)
        table.add_rows(rows)
        table.focus()
        self.loaded = True
