"""The dashboard: whose promise is overdue, who is due for contact, where each client stands."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widgets import Footer, Input, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import contact, promises
from trustdesk.trust import dashboard as dashboard_rules
from trustdesk.trust.prompts import awaiting_reply
from trustdesk.tui.formatting import percent
from trustdesk.tui.messages import NextSort, NotesLockChanged
from trustdesk.tui.screens.base import TrustdeskScreen
from trustdesk.tui.screens.dashboard_panes import (
    CadenceLine,
    CadencePane,
    ClientsPane,
    OverduePane,
    Pane,
)
from trustdesk.tui.widgets.virtual_table import Page, VirtualTable

SORT_LABELS = {
    "name": "name",
    "contact": "longest since contact",
    "promises": "most open promises",
    "next_session": "next session",
}
# The order `s` steps through, with the direction that puts what matters first.
SORT_CYCLE = (("name", False), ("contact", False), ("promises", True), ("next_session", False))


class DashboardScreen(TrustdeskScreen[None]):
    """Three panes and a summary strip; everything loads in thread workers."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("f5", "reload", "Refresh", show=False, id="refresh"),
        # Named where they apply, to keep the footer's room for the panes' keys: "(w)" in
        # the due-for-contact title, "(g)" in the strip while sessions wait; and in `?`.
        Binding("w", "awaiting", "Awaiting replies", show=False, id="awaiting_replies"),
        Binding("g", "agenda", "Agenda", show=False, id="open_agenda"),
        Binding("P", "programs", "Programs", show=False, id="open_programs"),
        Binding("R", "references", "References", show=False, id="open_references"),
        Binding(
            "K",
            "check_practice",
            "Check the practice",
            show=False,
            id="check_practice",
            tooltip="Check the dashboard against your records",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.name_filter = ""
        self.sort_index = 0
        self.summary: dashboard_rules.DashboardSummary | None = None
        # The quiet and due, computed once per refresh (tagged with it) for every page.
        self._refreshes = 0
        self._cadence_rows: tuple[int, list] | None = None
        self._awaiting: int | None = None
        self._fell: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        with Container(id="panes"):
            yield ClientsPane("Clients", id="clients-pane")
            with Container(id="side"):
                yield OverduePane("Overdue promises", id="overdue-pane")
                yield CadencePane("Due for contact", id="cadence-pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#clients", VirtualTable).focus()
        self.reload()

    # --- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Load (or load again after a change) the summary and every list, off the UI thread."""
        self._refreshes += 1
        app = self.td
        self.load(
            dashboard_rules.summary,
            app.coach,
            app.today,
            app.settings,
            then=self._show_summary,
            failed=self._summary_failed,
            group="summary",
        )
        self._set_client_loader()

    def _load_side_panes(self) -> None:
        """The side panes, once the summary is in: the numbers and the list come first."""
        self.td.vault_unlock_quietly()
        self.td.sync_on_start()
        overdue = self.query_one("#overdue", VirtualTable)
        if overdue.loader is None:
            overdue.set_loader(self._overdue_page)
        else:
            overdue.reload()
        cadence = self.query_one("#cadence", VirtualTable)
        if cadence.loader is None:
            cadence.set_loader(self._cadence_page)
        else:
            cadence.reload()

    def action_programs(self) -> None:
        from trustdesk.tui.screens.programs import ProgramsScreen

        self.app.push_screen(ProgramsScreen(), lambda _: self.reload())

    def action_references(self) -> None:
        from trustdesk.tui.screens.references import ReferencesScreen

        self.app.push_screen(ReferencesScreen(), lambda _: self.reload())

    def action_check_practice(self) -> None:
        self.td.check_practice()

    def action_agenda(self) -> None:
        from trustdesk.tui.screens.agenda import AgendaScreen

        self.app.push_screen(AgendaScreen(), lambda _: self.reload())

    def action_awaiting(self) -> None:
        from trustdesk.tui.screens.awaiting import AwaitingRepliesScreen

        self.app.push_screen(AwaitingRepliesScreen(), lambda _: self.reload())

    def _summary_failed(self, exc: Exception) -> None:
        if not isinstance(exc, StoreError):
            self.load_failed(exc)
            return
        self.td.notify(f"Could not load the summary: {exc}", severity="error", markup=False)
        self._load_side_panes()

    def _show_summary(self, summary: dashboard_rules.DashboardSummary) -> None:
        self.summary = summary
        self._draw_summary()
        self._load_side_panes()
        self._title_promises(summary.overdue, summary.due_soon)
        self._title_cadence()

    def _title_promises(self, overdue: int, due_soon: int) -> None:
        soon = f" · {due_soon} due soon" if due_soon else ""
        self.query_one("#overdue-pane", Pane).set_title(f"Overdue promises ({overdue}){soon}")

    def _title_cadence(self) -> None:
        """Quiet and due come with the summary; prompts awaiting a reply with the pane itself."""
        summary, awaiting = self.summary, self._awaiting
        if summary is None:
            return
        pane = self.query_one("#cadence-pane", Pane)
        fell = f", {self._fell} fell" if self._fell else ""
        full = f"Due for contact ({summary.quiet} quiet, {summary.due} due{fell})"
        titles = [full]
        if awaiting:
            # Quiet and due are in the strip above; in a narrow pane, what only this
            # title says (the replies awaited) goes before them.
            needing = summary.quiet + summary.due + (self._fell or 0)
            short = f"Due for contact ({needing})"
            titles = [
                f"{full} · {awaiting} awaiting reply (w)",
                f"{short} · {awaiting} awaiting reply (w)",
                f"{short} · {awaiting} awaiting (w)",
                f"Contact ({needing}) · {awaiting} awaiting (w)",
                f"{short} · {awaiting} awaiting",
            ]
        room = pane.content_size.width - 2
        pane.set_title(next((t for t in titles if len(t) <= room), titles[-1]))

    def _draw_summary(self) -> None:
        """The strip across the top: the most important numbers first, cut to what fits."""
        report = self.summary
        vault = self.td.vault
        today = self.td.today
        width = self.size.width - 2
        wide = width >= 108
        parts: list[tuple[str, str]] = [
            (f"{today:%a %d %b %Y}" if wide else f"{today:%d %b}", "bold")
        ]
        gap = "  ·  " if wide else " · "
        notes = ("notes open" if vault.unlocked else "notes locked", "italic")
        if report is not None:
            kept = percent(report.coach_kept.percent)
            on_time = percent(report.on_time.percent)
            if report.awaiting_outcome:
                parts.append((f"{report.awaiting_outcome} to record (g)", "bold"))
            counts = [
                (f"{report.overdue} overdue", ""),
                (f"{report.quiet} quiet, {report.due} due", ""),
            ]
            plain = [
                (f"promises kept {kept}" if wide else f"kept {kept}", ""),
                (f"sessions on time {on_time}" if wide else f"on time {on_time}", ""),
            ]
            choices = [plain]
            early = report.renegotiated_in_time
            if early:
                # Beside follow-through, when there is room: an early, honest
                # renegotiation keeps one's word too.
                choices[:0] = [
                    [(f"promises kept {kept} ({early} renegotiated in time)", ""), plain[1]],
                    [
                        (f"kept {kept}, {early} renegotiated in time", ""),
                        (f"on time {on_time}", ""),
                    ],
                ]
            fitting = (
                c
                for c in choices
                if len(gap.join(p for p, _ in parts + counts + c + [notes])) <= width
            )
            parts += counts + next(fitting, plain)
        parts.append(notes)
        # Drop the least urgent numbers (punctuality, then follow-through) if it will not fit.
        while len(parts) > 3 and len(gap.join(p for p, _ in parts)) > width:
            parts.pop(-2)
        text = Text()
        for i, (part, style) in enumerate(parts):
            if i:
                text.append(gap)
            text.append(part, style)
        self.query_one("#summary", Static).update(text)

    def on_notes_lock_changed(self, message: NotesLockChanged) -> None:
        self._draw_summary()

    def on_resize(self) -> None:
        self._draw_summary()
        self.call_after_refresh(self._title_cadence)

    def _client_page(self, name_filter: str, sort: str, descending: bool, offset: int, limit: int):
        app = self.td
        page = app.fetch(
            dashboard_rules.client_page,
            app.coach,
            app.today,
            name_filter=name_filter,
            sort=sort,
            descending=descending,
            offset=offset,
            limit=limit,
        )
        return Page(page.total, page.offset, page.rows)

    def _set_client_loader(self) -> None:
        sort, descending = SORT_CYCLE[self.sort_index]
        table = self.query_one("#clients", VirtualTable)
        loader = partial(self._client_page, self.name_filter, sort, descending)
        if table.loader is not None and _same_loader(table.loader, loader):
            table.reload()
        else:
            table.set_loader(loader)

    def _overdue_page(self, offset: int, limit: int) -> Page:
        """Overdue promises, then those due soon: one list, paged across both."""
        app = self.td
        within = app.settings.due_soon_days

        def work():
            coach, today = app.coach, app.today
            late = promises.count_overdue(coach, today)
            soon = promises.count_due_soon(coach, today, within)
            rows: list = []
            if offset < late:
                rows += promises.overdue_promises(coach, today, limit=limit, offset=offset)
            if len(rows) < limit and soon:
                rows += promises.due_soon(
                    coach, today, within, limit=limit - len(rows), offset=max(0, offset - late)
                )
            app.call_from_thread(self._title_promises, late, soon)
            return late + soon, rows

        total, rows = app.fetch(work)
        return Page(total, offset, rows)

    def _cadence_page(self, offset: int, limit: int) -> Page:
        app = self.td
        refresh = self._refreshes

        def work():
            cached = self._cadence_rows
            if cached is not None and cached[0] == refresh:
                rows = cached[1]
            else:
                self._cadence_rows = None  # the old list goes before the new one is built
                rows = _due_and_fell(app.coach, app.today)
                self._cadence_rows = (refresh, rows)
                awaiting = awaiting_reply(app.coach, app.today, count_only=True)
                fell = sum(1 for _, fall in rows if fall is not None)
                app.call_from_thread(self._awaiting_counted, refresh, awaiting, fell)
            window = rows[offset : offset + limit]
            weeks = contact.contact_by_week(app.coach, app.today, [c.client_id for c, _ in window])
            return len(rows), [CadenceLine(c, weeks[c.client_id], fall) for c, fall in window]

        total, lines = app.fetch(work)
        return Page(total, offset, lines)

    def _awaiting_counted(self, refresh: int, awaiting: int, fell: int = 0) -> None:
        if refresh == self._refreshes:
            self._awaiting = awaiting
            self._fell = fell
            self._title_cadence()

    # --- the clients list ------------------------------------------------------------------

    @on(Input.Changed, "#client-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.name_filter = event.value
        self._set_client_loader()

    @on(Input.Submitted, "#client-filter")
    def filter_done(self) -> None:
        self.query_one("#clients", VirtualTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#client-filter", Input)
        if box.value:
            box.value = ""
        box.add_class("-hidden")
        self.query_one("#clients", VirtualTable).focus()

    def on_next_sort(self, message: NextSort) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORT_CYCLE)
        self._set_client_loader()
        self._title_clients()

    def _title_clients(self, total: int | None = None) -> None:
        sort, _ = SORT_CYCLE[self.sort_index]
        table = self.query_one("#clients", VirtualTable)
        total = table.total if total is None else total
        count = "" if total is None else f" ({total})"
        shown = f", matching “{visible(self.name_filter)}”" if self.name_filter else ""
        self.query_one("#clients-pane", Pane).set_title(
            f"Clients{count}{shown} — by {SORT_LABELS[sort]}"
        )

    @on(VirtualTable.Loaded, "#clients")
    def clients_loaded(self, event: VirtualTable.Loaded) -> None:
        self._title_clients(event.total)
        empty = event.total == 0 and not self.name_filter
        self.query_one("#clients-pane", ClientsPane).show_empty_hint(empty)

    @on(VirtualTable.Selected, "#clients")
    def open_client(self, event: VirtualTable.Selected) -> None:
        self.open_workspace(event.row.client_id)

    @on(VirtualTable.Selected, "#cadence")
    @on(VirtualTable.Selected, "#overdue")
    def open_client_from_side(self, event: VirtualTable.Selected) -> None:
        self.open_workspace(event.row.client_id)

    def open_workspace(self, client_id: int) -> None:
        from trustdesk.tui.screens.client import ClientScreen

        self.app.push_screen(ClientScreen(client_id), lambda _: self.reload())


def _due_and_fell(coach, today) -> list[tuple[contact.Cadence, contact.Fall | None]]:
    """Who to reach out to: clients who fell first (the latest fall first), then the
    quiet and the due, most urgent first."""
    every = contact.cadence(coach, today, needing_contact=True)
    fell = {f.client_id: f for f in contact.falls(coach, today)}
    by_id = {c.client_id: c for c in every}
    others = [cid for cid in fell if cid not in by_id]  # fell, yet not due
    if others:
        by_id.update((c.client_id, c) for c in contact.cadence(coach, today, client_ids=others))
    rows = [(by_id[cid], fall) for cid, fall in fell.items() if cid in by_id]
    rows += [(c, None) for c in every if c.needs_contact and c.client_id not in fell]
    return rows


def _same_loader(a, b) -> bool:
    return isinstance(a, partial) and isinstance(b, partial) and a.args == b.args
