"""The program editor: the coach's programs, and the ordered stages of the one highlighted.

A program is the journey a coach leads clients through; each stage says what it is
for, how many sessions it usually takes, and what the coach asks of the client. Lists
load in thread workers (`trust.journey`); what the keys change is in
`tui.flows.journey.programs`, and whatever the coach typed is shown as literal text.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import journey
from trustdesk.trust.common import plural
from trustdesk.trust.journey import ProgramDetail, ProgramSummary, StageItem
from trustdesk.tui.flows.journey import programs as program_flows
from trustdesk.tui.formatting import literal
from trustdesk.tui.screens.base import TrustdeskScreen
from trustdesk.tui.screens.program_tables import ProgramsTable, StagesTable


class ProgramsScreen(TrustdeskScreen[None]):
    """Programs on the left (on top when narrow); the highlighted program's stages beside."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    ProgramsScreen #program-panes {
        height: 1fr;
    }
    ProgramsScreen.-wide #program-panes {
        layout: horizontal;
    }
    ProgramsScreen.-wide #programs-pane {
        width: 2fr;
        height: 100%;
    }
    ProgramsScreen.-wide #stages-pane {
        width: 3fr;
        height: 100%;
    }
    ProgramsScreen.-narrow #program-panes {
        layout: vertical;
    }
    ProgramsScreen.-narrow #programs-pane {
        height: 7;
    }
    ProgramsScreen.-narrow #program-summary {
        max-height: 1;
    }
    ProgramsScreen.-narrow #stage-detail {
        max-height: 5;
    }
    ProgramsScreen.-narrow #stages-pane {
        height: 1fr;
    }
    ProgramsScreen WorkspaceTable {
        height: 1fr;
    }
    ProgramsScreen #program-summary {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    ProgramsScreen #stage-detail {
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-top: solid $panel-lighten-2;
    }
    ProgramsScreen .hint {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="programs_back"),
        Binding("n", "new_program", "New program", id="program_new"),
        Binding("e", "edit_program", "Edit program", id="program_edit"),
        Binding("a", "add_stage", "Add stage", id="stage_add"),
        Binding("f5", "reload", "Reload", id="programs_reload"),
    ]

    def __init__(self, program_id: int | None = None) -> None:
        super().__init__()
        self.programs: list[ProgramSummary] = []
        self.detail: ProgramDetail | None = None
        self._want_program = program_id
        self._want_stage: int | None = None

    # --- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Container(id="program-panes"):
            with Vertical(id="programs-pane", classes="pane"):
                yield Label("Programs", id="programs-title", classes="pane-title")
                yield Static("", id="programs-empty", classes="hint")
                yield ProgramsTable(id="programs")
            with Vertical(id="stages-pane", classes="pane"):
                yield Label("", id="stages-title", classes="pane-title")
                yield Static("", id="program-summary")
                yield Static("", id="stages-empty", classes="hint")
                yield StagesTable(id="stages")
                yield Static("", id="stage-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#programs-empty").display = False
        self.query_one("#stages-empty").display = False
        self.query_one(ProgramsTable).focus()
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

    # --- loading ------------------------------------------------------------------

    def reload(self) -> None:
        """Load the programs and the highlighted program's stages, off the UI thread."""
        wanted = self._want_program or self.current_program_id()
        coach = self.td.coach

        def work() -> tuple[list[ProgramSummary], ProgramDetail | None]:
            programs = journey.list_programs(coach)
            ids = [p.program_id for p in programs]
            pid = wanted if wanted in ids else (ids[0] if ids else None)
            return programs, journey.program_detail(coach, pid) if pid else None

        self.load(
            work,
            then=lambda answer: self._show(*answer),
            failed=self._programs_failed,
            group="programs",
        )

    def _programs_failed(self, exc: Exception) -> None:
        if not isinstance(exc, journey.JourneyError | StoreError):
            self.load_failed(exc)
            return
        message = f"Could not load the programs: {exc}. Press F5 to try again."
        self.td.notify(message, severity="error", markup=False)

    def _detail_failed(self, exc: Exception) -> None:
        if isinstance(exc, journey.JourneyError):
            self.reload()  # gone elsewhere: the list is out of date
        elif isinstance(exc, StoreError):
            message = f"Could not load the stages: {exc}"
            self.td.notify(message, severity="error", markup=False)
        else:
            self.load_failed(exc)

    def _show(self, programs: list[ProgramSummary], detail: ProgramDetail | None) -> None:
        if not self.is_attached:
            return
        self.programs = programs
        self._want_program = None
        table = self.query_one(ProgramsTable)
        table.show_rows(
            [
                (
                    str(p.program_id),
                    {
                        "name": literal(p.name),
                        "stages": Text(str(p.stage_count)),
                        "sessions": Text(str(p.typical_sessions or "")),
                        "clients": Text(str(p.active_clients)),
                    },
                )
                for p in programs
            ]
        )
        if detail is not None:
            table.move_cursor(row=table.get_row_index(str(detail.program_id)), animate=False)
        self.query_one("#programs-title", Label).update(f"Programs ({len(programs)})")
        empty = self.query_one("#programs-empty", Static)
        empty.update("" if programs else "No programs yet. Press n to create one.")
        empty.display = not programs
        self._show_detail(detail)

    def _show_detail(self, detail: ProgramDetail | None) -> None:
        if not self.is_attached:
            return
        if (
            detail is not None
            and str(detail.program_id) != self.query_one(ProgramsTable).current_key()
        ):
            return  # the coach has moved on to another program meanwhile
        self.detail = detail
        title = self.query_one("#stages-title", Label)
        summary = self.query_one("#program-summary", Static)
        empty = self.query_one("#stages-empty", Static)
        stages = self.query_one(StagesTable)
        stages.program = detail
        if detail is None:
            title.update("Stages")
            summary.update("")
            stages.show_rows([])
            empty.update("")
            empty.display = False
            self._draw_stage_detail()
            self.refresh_bindings()
            return
        heading = Text(no_wrap=True, overflow="ellipsis", end="")
        heading.append(visible(detail.name))
        heading.append(f" — {plural(len(detail.stages), 'stage')}")
        if detail.typical_sessions:
            heading.append(f", typically {plural(detail.typical_sessions, 'session')}")
        heading.append(f", {detail.active_clients} active")
        title.update(heading)
        summary.update(Text(visible(detail.summary), end=""))
        summary.display = bool(detail.summary)
        stages.show_rows(
            [
                (
                    str(s.stage_id),
                    {
                        "position": Text(f"{s.position}."),
                        "name": literal(s.name),
                        "sessions": Text(str(s.typical_sessions)),
                        "clients": Text(str(s.clients_here) if s.clients_here else ""),
                    },
                )
                for s in detail.stages
            ]
        )
        if self._want_stage is not None and str(self._want_stage) in [k.value for k in stages.rows]:
            stages.move_cursor(row=stages.get_row_index(str(self._want_stage)), animate=False)
        self._want_stage = None
        empty.update("" if detail.stages else "No stages yet. Press a to add the first.")
        empty.display = not detail.stages
        self._draw_stage_detail()
        self.refresh_bindings()

    def _draw_stage_detail(self) -> None:
        out = self.query_one("#stage-detail", Static)
        stage = self.current_stage()
        out.display = stage is not None
        if stage is None:
            out.update("")
            return
        parts: list[Any] = []
        line = Text()
        line.append(f"{stage.position}. ", "bold")
        line.append(visible(stage.name), "bold")
        line.append(f"  ·  typically {plural(stage.typical_sessions, 'session')}")
        if stage.clients_here:
            line.append(f"  ·  {plural(stage.clients_here, 'client')} here now")
        parts.append(line)
        purpose = Text("Purpose: ", "italic")
        purpose.append(visible(stage.purpose) or "—", "not italic")
        asks = Text("We ask of the client: ", "italic")
        asks.append(visible(stage.asks_of_client) or "—", "not italic")
        parts += [purpose, asks]
        out.update(Group(*parts))

    @on(DataTable.RowHighlighted, "#programs")
    def _program_highlighted(self) -> None:
        # The table's cursor now, not the event's row: a refill passes through row 0 first.
        key = self.query_one(ProgramsTable).current_key()
        if key is None or (self.detail is not None and str(self.detail.program_id) == key):
            return
        self.load(
            journey.program_detail,
            self.td.coach,
            int(key),
            then=self._show_detail,
            failed=self._detail_failed,
            group="program-detail",
        )

    @on(DataTable.RowHighlighted, "#stages")
    def _stage_highlighted(self) -> None:
        self._draw_stage_detail()

    @on(DataTable.RowSelected, "#programs")
    def _program_selected(self) -> None:
        self.query_one(StagesTable).focus()

    @on(DataTable.RowSelected, "#stages")
    def _stage_selected(self) -> None:
        self.query_one(StagesTable).action_edit()  # a second click on a stage opens it

    # --- what is highlighted ------------------------------------------------------

    def current_program_id(self) -> int | None:
        if not self.is_mounted:
            return None
        key = self.query_one(ProgramsTable).current_key()
        return int(key) if key is not None else None

    def current_stage(self) -> StageItem | None:
        return self.query_one(StagesTable).current()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_program", "add_stage"):
            return True if self.detail is not None else None
        return True

    # --- what the keys do ---------------------------------------------------------

    def action_new_program(self) -> None:
        def made(program_id: int | None) -> None:
            if program_id is not None:
                self._want_program = program_id
                self.query_one(StagesTable).focus()
            self.practice_changed()

        program_flows.new_program(self.td, [p.name for p in self.programs], made)

    def action_edit_program(self) -> None:
        program = self.detail
        if program is None:
            self.app.notify(
                "No program yet: press n to create one.", severity="warning", markup=False
            )
            return
        others = [p.name for p in self.programs if p.program_id != program.program_id]
        program_flows.edit_program(self.td, program, others, self.practice_changed)

    def action_add_stage(self) -> None:
        program = self.detail
        if program is None:
            self.app.notify("Create a program first: press n.", severity="warning", markup=False)
            return

        def made(stage_id: int | None) -> None:
            if stage_id is not None:
                self._want_program = program.program_id
                self._want_stage = stage_id
            self.practice_changed()

        program_flows.add_stage(self.td, program, made)


# What the help screen can list for the program editor.
HELP_SECTIONS = (
    ("Programs", ProgramsScreen),
    ("Programs list", ProgramsTable),
    ("Stages of a program", StagesTable),
)
