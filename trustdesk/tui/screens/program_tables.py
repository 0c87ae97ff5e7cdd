"""The program editor's two lists: the coach's programs, and the stages of the one shown.

The stages list owns its keys: it picks the highlighted stage and calls one flow
(`tui.flows.journey.programs`), then asks its screen to load again.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from trustdesk.trust.journey import ProgramDetail, StageItem
from trustdesk.tui.flows.journey import programs as program_flows
from trustdesk.tui.screens.base import Tells
from trustdesk.tui.widgets.workspace_table import Col, WorkspaceTable


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


class StagesTable(Tells, WorkspaceTable):
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

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.program: ProgramDetail | None = None

    def current(self) -> StageItem | None:
        """The highlighted stage of the program shown."""
        if self.program is None:
            return None
        key = self.current_key()
        return next((s for s in self.program.stages if str(s.stage_id) == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "move", "remove"):
            return True if self.current() is not None else None
        return True

    def action_edit(self) -> None:
        stage = self.current()
        if stage is None or self.program is None:
            self.app.notify("Highlight a stage first.", severity="warning", markup=False)
            return
        app = self.td
        program_flows.edit_stage(app, self.program, stage, self.practice_changed)

    def action_move(self, up: bool) -> None:
        stage = self.current()
        if stage is not None:
            program_flows.move_stage(self.td, stage, up, self.practice_changed)

    def action_remove(self) -> None:
        stage = self.current()
        if stage is not None:
            program_flows.remove_stage(self.td, stage, self.practice_changed)
