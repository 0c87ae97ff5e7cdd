"""The program editor: the coach's programs, and the ordered stages of the one highlighted.

A program is the journey a coach leads clients through; each stage says what it is
for, how many sessions it usually takes, and what the coach asks of the client. Lists
load in thread workers (`trust.journey`), every change goes through `doing.perform`,
and whatever the coach typed is shown as literal text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import journey
from trustdesk.trust.journey import (
    MAX_PROGRAM_SESSIONS,
    MAX_STAGE_SESSIONS,
    ProgramDetail,
    ProgramSummary,
    StageItem,
)
from trustdesk.tui import doing
from trustdesk.tui.doing import ConfirmForm
from trustdesk.tui.screens.base import TrustdeskScreen
from trustdesk.tui.screens.form import Field, FormScreen, Invalid
from trustdesk.tui.widgets.workspace_table import Col, WorkspaceTable, literal

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _between(least: int, most: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not least <= value <= most:
            raise Invalid(f"a number from {least} to {most}")

    return check


def _new_name(taken: list[str], what: str) -> Callable[[str], None]:
    taken_folded = {name.casefold() for name in taken}

    def check(value: str) -> None:
        if value.strip().casefold() in taken_folded:
            raise Invalid(f"there is already {what} with that name")

    return check


class ProgramsTable(WorkspaceTable):
    COLUMNS = (
        Col("name", "Program", 0),
        Col("stages", "Stages", 6),
        Col("sessions", "Sessions", 8, min_table_width=44),
        Col("clients", "Active", 6),
    )
    FLEX_MIN = 14
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Stages", id="program_stages"),
    ]


class StagesTable(WorkspaceTable):
    COLUMNS = (
        Col("position", "#", 3),
        Col("name", "Stage", 0),
        Col("sessions", "Sessions", 8),
        Col("clients", "Here", 4),
    )
    FLEX_MIN = 14
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,E", "edit", "Edit stage", id="stage_edit"),
        Binding("K,ctrl+up", "move(True)", "Move up", id="stage_up"),
        Binding("J,ctrl+down", "move(False)", "Move down", id="stage_down"),
        Binding("x", "remove", "Remove stage", id="stage_remove"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "move", "remove"):
            return True if self.editor.current_stage() is not None else None
        return True

    @property
    def editor(self) -> ProgramsScreen:
        return self.screen  # type: ignore[return-value]

    def action_edit(self) -> None:
        self.editor.edit_stage()

    def action_move(self, up: bool) -> None:
        self.editor.move_stage(up)

    def action_remove(self) -> None:
        self.editor.remove_stage()


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

    @property
    def td(self) -> TrustdeskApp:
        return self.app  # type: ignore[return-value]

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
        yield Footer()

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
        self.run_worker(lambda: self._load(wanted), thread=True, exclusive=True, group="programs")

    def action_reload(self) -> None:
        self.reload()

    def _load(self, wanted: int | None) -> None:
        app = self.td

        def work() -> tuple[list[ProgramSummary], ProgramDetail | None]:
            programs = journey.list_programs(app.coach)
            ids = [p.program_id for p in programs]
            pid = wanted if wanted in ids else (ids[0] if ids else None)
            return programs, journey.program_detail(app.coach, pid) if pid else None

        try:
            programs, detail = app.fetch(work)
        except (journey.JourneyError, StoreError) as exc:
            message = f"Could not load the programs: {exc}. Press F5 to try again."
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(self._show, programs, detail)

    def _load_detail(self, program_id: int) -> None:
        app = self.td
        try:
            detail = app.fetch(journey.program_detail, app.coach, program_id)
        except journey.JourneyError:
            app.call_from_thread(self.reload)  # gone elsewhere: the list is out of date
            return
        except StoreError as exc:
            message = f"Could not load the stages: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(self._show_detail, detail)

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
        heading.append(f" — {_plural(len(detail.stages), 'stage')}")
        if detail.typical_sessions:
            heading.append(f", typically {_plural(detail.typical_sessions, 'session')}")
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
        line.append(f"  ·  typically {_plural(stage.typical_sessions, 'session')}")
        if stage.clients_here:
            line.append(f"  ·  {_plural(stage.clients_here, 'client')} here now")
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
        pid = int(key)
        self.run_worker(
            lambda: self._load_detail(pid), thread=True, exclusive=True, group="program-detail"
        )

    @on(DataTable.RowHighlighted, "#stages")
    def _stage_highlighted(self) -> None:
        self._draw_stage_detail()

    @on(DataTable.RowSelected, "#programs")
    def _program_selected(self) -> None:
        self.query_one(StagesTable).focus()

    @on(DataTable.RowSelected, "#stages")
    def _stage_selected(self) -> None:
        self.edit_stage()  # a second click on a stage opens it

    # --- what is highlighted ------------------------------------------------------

    def current_program_id(self) -> int | None:
        if not self.is_mounted:
            return None
        key = self.query_one(ProgramsTable).current_key()
        return int(key) if key is not None else None

    def current_program(self) -> ProgramSummary | None:
        pid = self.current_program_id()
        return next((p for p in self.programs if p.program_id == pid), None)

    def current_stage(self) -> StageItem | None:
        if self.detail is None:
            return None
        key = self.query_one(StagesTable).current_key()
        return next((s for s in self.detail.stages if str(s.stage_id) == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_program", "add_stage"):
            return True if self.detail is not None else None
        return True

    # --- what the keys do ---------------------------------------------------------

    def _after_change(self) -> None:
        if self.is_attached:
            self.reload()

    def _program_fields(self, program: ProgramDetail | None) -> list[Field]:
        others = [
            p.name for p in self.programs if program is None or p.program_id != program.program_id
        ]
        return [
            Field(
                "name",
                "Name",
                default=program.name if program else "",
                required=True,
                check=_new_name(others, "a program"),
            ),
            Field(
                "summary",
                "In a sentence: who is it for, and where does it lead?",
                default=program.summary if program else "",
            ),
            Field(
                "typical_sessions",
                "Typical number of sessions (0 if it varies)",
                kind="number",
                default=program.typical_sessions if program else 0,
                required=True,
                check=_between(0, MAX_PROGRAM_SESSIONS),
            ),
        ]

    def action_new_program(self) -> None:
        made: list[int] = []

        def saved(values: dict | None) -> None:
            if not values:
                return

            def work() -> None:
                made.append(
                    journey.create_program(
                        self.td.coach,
                        values["name"],
                        values["summary"] or "",
                        values["typical_sessions"],
                    )
                )

            def done() -> None:
                if made:
                    self._want_program = made[0]
                    self.query_one(StagesTable).focus()
                self._after_change()

            doing.perform(
                self.td, work, f"Program created: {visible(values['name'].strip())}", done
            )

        self.app.push_screen(FormScreen("New program", self._program_fields(None)), saved)

    def action_edit_program(self) -> None:
        program = self.detail
        if program is None:
            self.app.notify(
                "No program yet: press n to create one.", severity="warning", markup=False
            )
            return
        coach = self.td.coach
        doing.ask_then_change(
            self.td,
            FormScreen(f"Edit {visible(program.name)}", self._program_fields(program)),
            lambda values, version: journey.edit_program(
                coach,
                program.program_id,
                name=values["name"],
                summary=values["summary"] or "",
                typical_sessions=values["typical_sessions"],
                version=version,
            ),
            "Program saved",
            self._after_change,
            version=program.version,
            record=doing.SavedRecord(
                lambda: journey.saved_program(coach, program.program_id),
                lambda now: visible(now.name),
                lambda now: {
                    "name": now.name,
                    "summary": now.summary,
                    "typical_sessions": now.typical_sessions,
                },
            ),
        )

    def _stage_fields(self, stage: StageItem | None) -> list[Field]:
        names = [s.name for s in self.detail.stages] if self.detail else []
        if stage is not None:
            names.remove(stage.name)
        return [
            Field(
                "name",
                "Name",
                default=stage.name if stage else "",
                required=True,
                check=_new_name(names, "a stage"),
            ),
            Field(
                "purpose",
                "Purpose: what is this stage for?",
                default=stage.purpose if stage else "",
            ),
            Field(
                "typical_sessions",
                "Typical number of sessions",
                kind="number",
                default=stage.typical_sessions if stage else 1,
                required=True,
                check=_between(1, MAX_STAGE_SESSIONS),
            ),
            Field(
                "asks_of_client",
                "What do you ask of the client at this stage?",
                default=stage.asks_of_client if stage else "",
            ),
        ]

    def action_add_stage(self) -> None:
        program = self.detail
        if program is None:
            self.app.notify("Create a program first: press n.", severity="warning", markup=False)
            return
        made: list[int] = []

        def saved(values: dict | None) -> None:
            if not values:
                return

            def work() -> None:
                made.append(
                    journey.add_stage(
                        self.td.coach,
                        program.program_id,
                        values["name"],
                        values["purpose"] or "",
                        values["typical_sessions"],
                        values["asks_of_client"] or "",
                    )
                )

            def done() -> None:
                if made:
                    self._want_program = program.program_id
                    self._want_stage = made[0]
                self._after_change()

            message = f"Stage added to {visible(program.name)}"
            doing.perform(self.td, work, message, done)

        title = f"A new stage of {visible(program.name)}"
        self.app.push_screen(FormScreen(title, self._stage_fields(None)), saved)

    def edit_stage(self) -> None:
        stage = self.current_stage()
        if stage is None:
            self.app.notify("Highlight a stage first.", severity="warning", markup=False)
            return
        coach = self.td.coach
        doing.ask_then_change(
            self.td,
            FormScreen(f"Edit stage {stage.position}", self._stage_fields(stage)),
            lambda values, version: journey.edit_stage(
                coach,
                stage.stage_id,
                name=values["name"],
                purpose=values["purpose"] or "",
                typical_sessions=values["typical_sessions"],
                asks_of_client=values["asks_of_client"] or "",
                version=version,
            ),
            "Stage saved",
            self._after_change,
            version=stage.version,
            record=doing.SavedRecord(
                lambda: journey.saved_stage(coach, stage.stage_id),
                lambda now: f"stage {now.position}, {visible(now.name)}",
                lambda now: {
                    "name": now.name,
                    "purpose": now.purpose,
                    "typical_sessions": now.typical_sessions,
                    "asks_of_client": now.asks_of_client,
                },
            ),
        )

    def move_stage(self, up: bool) -> None:
        stage = self.current_stage()
        if stage is None:
            return
        doing.perform(
            self.td,
            lambda: journey.move_stage(self.td.coach, stage.stage_id, up),
            f"Moved {'up' if up else 'down'}: {visible(stage.name)}",
            self._after_change,
        )

    def remove_stage(self) -> None:
        stage = self.current_stage()
        if stage is None:
            return
        form = ConfirmForm(
            "Remove a stage",
            f"Stage {stage.position}, {visible(stage.name)}, will be removed and the "
            "stages after it move up. A stage clients are at, or have been through, stays.",
            save="Remove",
        )

        def saved(values: dict | None) -> None:
            if values is not None:
                doing.perform(
                    self.td,
                    lambda: journey.remove_stage(self.td.coach, stage.stage_id),
                    f"Removed: {visible(stage.name)}",
                    self._after_change,
                )

        self.app.push_screen(form, saved)


# What the help screen can list for the program editor.
HELP_SECTIONS = (
    ("Programs", ProgramsScreen),
    ("Programs list", ProgramsTable),
    ("Stages of a program", StagesTable),
)
