"""What every tab of the workspace shares: short dates, and a list that knows its client."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual.widgets import Static, TabPane

from trustdesk.trust.journey import ClientJourney
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.screens.base import Tells
from trustdesk.tui.widgets.workspace_table import WorkspaceTable

if TYPE_CHECKING:
    pass


class ClientTable(Tells, WorkspaceTable):
    """A list of one client's records; its keys call a flow with the highlighted one."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.client: ClientWorkspace | None = None

    def warn(self, message: str) -> None:
        self.app.notify(message, severity="warning", markup=False)


class ClientTab(Tells, TabPane):
    """One habit's tab: it draws itself from what the workspace loaded."""

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        raise NotImplementedError

    def show_empty(self, which: str, message: str | None) -> None:
        hint = self.query_one(f"#{which}-empty", Static)
        hint.update(message or "")
        hint.display = bool(message)
