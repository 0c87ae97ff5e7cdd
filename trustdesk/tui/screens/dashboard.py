"""The dashboard: whose promise is overdue, who is due for contact, where each client stands."""

from __future__ import annotations

from functools import partial

import peewee
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from trustdesk.literal import visible
from trustdesk.trust import contact, promises
from trustdesk.trust import dashboard as dashboard_rules
from trustdesk.trust.prompts import awaiting_reply
from trustdesk.tui.flows import contact as contact_flows
from trustdesk.tui.flows import promises as promise_flows
from trustdesk.tui.formatting import day, percent, sparkline
from trustdesk.tui.labels import state_word
from trustdesk.tui.widgets import SafeInput
from trustdesk.tui.widgets.virtual_table import Cell, Column, Page, VirtualTable
from trustdesk.vault import VaultStatus

SORT_LABELS = {
    "name": "name",
    "contact": "longest since contact",
    "promises": "most open promises",
    "next_session": "next session",
}
# The order `s` steps through, with the direction that puts what matters first.
SORT_CYCLE = (("name", False), ("contact", False), ("promises", True), ("next_session", False))


class Pane(Vertical):
    """A titled area of the dashboard."""

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.title_text = title

    def set_title(self, text: str) -> None:
        self.query_one(".pane-title", Label).update(Text(text))


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
            self.screen_ref_format,
            empty_text="No clients match.",
            id="clients",
        )

    def screen_ref_format(self, row: dashboard_rules.ClientRow) -> dict[str, Cell]:
        return self.screen.format_client(row)  # type: ignore[attr-defined]

    def action_filter(self) -> None:
        box = self.query_one("#client-filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def action_sort(self) -> None:
        self.screen.next_sort()  # type: ignore[attr-defined]

    def action_log_touch(self) -> None:
        self.screen.log_touch_for_current(self.query_one("#clients", VirtualTable))  # type: ignore[attr-defined]

    def action_snooze(self) -> None:
        self.screen.snooze_current(self.query_one("#clients", VirtualTable))  # type: ignore[attr-defined]

    def action_send_prompt(self) -> None:
        from trustdesk.tui.screens.prompts import send_prompt_flow

        row = self.query_one("#clients", VirtualTable).current_row
        if row is not None:
            send_prompt_flow(self.app, row.client_id, row.name, self.screen.refresh_all)  # type: ignore[arg-type, attr-defined]


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
                f"(due {row.due_on:%d %b}, {row.days_overdue}d late)"
            )
        )

    def _current(self):
        return self.query_one("#overdue", VirtualTable).current_row

    def action_done(self) -> None:
        row = self._current()
        if row is not None:
            promise_flows.mark_done(
                self.app,  # type: ignore[arg-type]
                row.commitment_id,
                row.title,
                self.screen.refresh_all,  # type: ignore[attr-defined]
                version=row.version,
            )

    def action_renegotiate(self) -> None:
        row = self._current()
        if row is not None:
            promise_flows.renegotiate(
                self.app,
                row.commitment_id,
                row.title,
                row.due_on,
                self.screen.refresh_all,  # type: ignore[arg-type, attr-defined]
                version=row.version,
            )

    def action_drop(self) -> None:
        row = self._current()
        if row is not None:
            promise_flows.drop(
                self.app,  # type: ignore[arg-type]
                row.commitment_id,
                row.title,
                self.screen.refresh_all,  # type: ignore[attr-defined]
                version=row.version,
            )


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

    def action_log_touch(self) -> None:
        self.screen.log_touch_for_current(self.query_one("#cadence", VirtualTable))  # type: ignore[attr-defined]

    def action_snooze(self) -> None:
        self.screen.snooze_current(self.query_one("#cadence", VirtualTable))  # type: ignore[attr-defined]


def format_overdue(row: promises.OverduePromise) -> dict[str, Cell]:
    return {
        "late": Cell(f"{row.days_overdue}d", "late"),
        "who": Cell("you" if row.owner == "coach" else "client"),
        "client": Cell(row.client_name),
        "what": Cell(row.title),
    }


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


def format_cadence(row: CadenceLine) -> dict[str, Cell]:
    c = row.cadence
    return {
        "state": Cell(state_word(c.state), c.state),
        "client": Cell(c.client_name),
        "since": Cell(f"{c.days_since_touch}d"),
        "weeks": Cell(sparkline(row.weeks.counts), "muted"),
    }


class DashboardScreen(Screen):
    """Three panes and a summary strip; everything loads in thread workers."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("f5", "refresh_all", "Refresh", show=False, id="refresh"),
        Binding("w", "awaiting", "Awaiting replies", id="awaiting_replies"),
        Binding("P", "programs", "Programs", show=False, id="open_programs"),
        Binding("R", "references", "References", show=False, id="open_references"),
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

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        with Container(id="panes"):
            yield ClientsPane("Clients", id="clients-pane")
            with Container(id="side"):
                yield OverduePane("Overdue promises", id="overdue-pane")
                yield CadencePane("Due for contact", id="cadence-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#clients", VirtualTable).focus()
        self.refresh_all()

    # --- loading ----------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Load (or reload after a change) the summary and every list, off the UI thread."""
        self._refreshes += 1
        self.run_worker(
            self._load_summary, thread=True, group="summary", exclusive=True, exit_on_error=False
        )
        self._set_client_loader()

    def _load_side_panes(self) -> None:
        """The side panes, once the summary is in: the numbers and the list come first."""
        self.app.vault_unlock_quietly()  # type: ignore[attr-defined]
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

    def action_refresh_all(self) -> None:
        self.refresh_all()

    def action_programs(self) -> None:
        from trustdesk.tui.screens.programs import ProgramsScreen

        self.app.push_screen(ProgramsScreen(), lambda _: self.refresh_all())

    def action_references(self) -> None:
        from trustdesk.tui.screens.references import ReferencesScreen

        self.app.push_screen(ReferencesScreen(), lambda _: self.refresh_all())

    def action_awaiting(self) -> None:
        from trustdesk.tui.screens.awaiting import AwaitingRepliesScreen

        self.app.push_screen(AwaitingRepliesScreen(), lambda _: self.refresh_all())

    def _load_summary(self) -> None:
        app = self.app
        try:
            summary = app.fetch(dashboard_rules.summary, app.coach, app.today, app.settings)  # type: ignore[attr-defined]
        except peewee.DatabaseError as exc:
            message = f"Could not load the summary: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            app.call_from_thread(self._load_side_panes)
            return
        app.call_from_thread(self._show_summary, summary)

    def _show_summary(self, summary: dashboard_rules.DashboardSummary) -> None:
        self.summary = summary
        self._draw_summary()
        self._load_side_panes()
        self.query_one("#overdue-pane", Pane).set_title(f"Overdue promises ({summary.overdue})")
        self._title_cadence()

    def _title_cadence(self) -> None:
        """Quiet and due come with the summary; prompts awaiting a reply with the pane itself."""
        summary, awaiting = self.summary, self._awaiting
        if summary is None:
            return
        pane = self.query_one("#cadence-pane", Pane)
        full = f"Due for contact ({summary.quiet} quiet, {summary.due} due)"
        titles = [full]
        if awaiting:
            # Quiet and due are in the strip above; in a narrow pane, what only this
            # title says (the replies awaited) goes before them.
            short = f"Due for contact ({summary.quiet + summary.due})"
            titles = [
                f"{full} · {awaiting} awaiting reply (w)",
                f"{short} · {awaiting} awaiting reply (w)",
                f"{short} · {awaiting} awaiting (w)",
                f"{short} · {awaiting} awaiting",
            ]
        room = pane.content_size.width - 2
        pane.set_title(next((t for t in titles if len(t) <= room), titles[-1]))

    def _draw_summary(self) -> None:
        """The strip across the top: the most important numbers first, cut to what fits."""
        report = self.summary
        vault = self.app.vault  # type: ignore[attr-defined]
        today = self.app.today  # type: ignore[attr-defined]
        width = self.size.width - 2
        wide = width >= 108
        parts: list[tuple[str, str]] = [
            (f"{today:%a %d %b %Y}" if wide else f"{today:%d %b}", "bold")
        ]
        if report is not None:
            kept = percent(report.coach_kept.percent)
            on_time = percent(report.on_time.percent)
            parts += [
                (f"{report.overdue} overdue", ""),
                (f"{report.quiet} quiet, {report.due} due", ""),
                (f"promises kept {kept}" if wide else f"kept {kept}", ""),
                (f"sessions on time {on_time}" if wide else f"on time {on_time}", ""),
            ]
        parts.append(("notes open" if vault.unlocked else "notes locked", "italic"))
        gap = "  ·  " if wide else " · "
        # Drop the least urgent numbers (punctuality, then follow-through) if it will not fit.
        while len(parts) > 3 and len(gap.join(p for p, _ in parts)) > width:
            parts.pop(-2)
        text = Text()
        for i, (part, style) in enumerate(parts):
            if i:
                text.append(gap)
            text.append(part, style)
        self.query_one("#summary", Static).update(text)

    def on_vault_changed(self, status: VaultStatus) -> None:
        self._draw_summary()

    def on_resize(self) -> None:
        self._draw_summary()
        self.call_after_refresh(self._title_cadence)

    def _client_page(self, name_filter: str, sort: str, descending: bool, offset: int, limit: int):
        app = self.app
        page = app.fetch(  # type: ignore[attr-defined]
            dashboard_rules.client_page,
            app.coach,  # type: ignore[attr-defined]
            app.today,  # type: ignore[attr-defined]
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
        app = self.app

        def work():
            coach, today = app.coach, app.today  # type: ignore[attr-defined]
            rows = promises.overdue_promises(coach, today, limit=limit, offset=offset)
            return promises.count_overdue(coach, today), rows

        total, rows = app.fetch(work)  # type: ignore[attr-defined]
        return Page(total, offset, rows)

    def _cadence_page(self, offset: int, limit: int) -> Page:
        app = self.app

        refresh = self._refreshes

        def work():
            cached = self._cadence_rows
            if cached is not None and cached[0] == refresh:
                rows = cached[1]
            else:
                rows = [
                    c
                    for c in contact.cadence(app.coach, app.today)  # type: ignore[attr-defined]
                    if c.state in ("quiet", "due")
                ]
                self._cadence_rows = (refresh, rows)
                awaiting = awaiting_reply(app.coach, app.today, count_only=True)  # type: ignore[attr-defined]
                app.call_from_thread(self._awaiting_counted, refresh, awaiting)
            window = rows[offset : offset + limit]
            weeks = contact.contact_by_week(
                app.coach,  # type: ignore[attr-defined]
                app.today,  # type: ignore[attr-defined]
                [c.client_id for c in window],
            )
            return len(rows), [CadenceLine(c, weeks[c.client_id]) for c in window]

        total, lines = app.fetch(work)  # type: ignore[attr-defined]
        return Page(total, offset, lines)

    def _awaiting_counted(self, refresh: int, awaiting: int) -> None:
        if refresh == self._refreshes:
            self._awaiting = awaiting
            self._title_cadence()

    # --- the clients list ------------------------------------------------------------------

    def format_client(self, row: dashboard_rules.ClientRow) -> dict[str, Cell]:
        today = self.app.today  # type: ignore[attr-defined]
        return {
            "name": Cell(row.name),
            "stage": Cell(row.stage_name or ""),
            "since": Cell(f"{row.days_since_contact}d"),
            # Clients who are not active have no cadence; their status says why.
            "state": Cell(state_word(row.cadence_state), row.cadence_state)
            if row.status == "active"
            else Cell(row.status, "muted"),
            "promises": Cell(str(row.open_promises) if row.open_promises else ""),
            "next": Cell(day(row.next_session, today, weekday=True)),
        }

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

    def next_sort(self) -> None:
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

    @on(VirtualTable.Selected, "#clients")
    def open_client(self, event: VirtualTable.Selected) -> None:
        self.open_workspace(event.row.client_id)

    @on(VirtualTable.Selected, "#cadence")
    @on(VirtualTable.Selected, "#overdue")
    def open_client_from_side(self, event: VirtualTable.Selected) -> None:
        self.open_workspace(event.row.client_id)

    def open_workspace(self, client_id: int) -> None:
        from trustdesk.tui.screens.client import ClientScreen

        self.app.push_screen(ClientScreen(client_id), lambda _: self.refresh_all())

    # --- actions on the highlighted client ----------------------------------------------------

    def log_touch_for_current(self, table: VirtualTable) -> None:
        row = table.current_row
        if row is not None:
            contact_flows.log_touch(self.app, row.client_id, _name_of(row), self.refresh_all)  # type: ignore[arg-type]

    def snooze_current(self, table: VirtualTable) -> None:
        row = table.current_row
        if row is None:
            return
        until = getattr(row, "snoozed_until", None)
        contact_flows.snooze(self.app, row.client_id, _name_of(row), until, self.refresh_all)  # type: ignore[arg-type]


def _name_of(row) -> str:
    return getattr(row, "name", None) or row.client_name


def _same_loader(a, b) -> bool:
    return isinstance(a, partial) and isinstance(b, partial) and a.args == b.args
