"""The journey tab: the stages of the client's program, read top to bottom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from trustdesk.literal import visible
from trustdesk.trust.common import plural
from trustdesk.trust.journey import ClientJourney, StageProgress
from trustdesk.trust.workspace import ClientWorkspace
from trustdesk.tui.flows.journey import progress
from trustdesk.tui.formatting import day
from trustdesk.tui.labels import STAGE_MARKS
from trustdesk.tui.screens.base import Tells
from trustdesk.tui.screens.client.common import ClientTab

HELD_DAYS_SHOWN = 4


def held_days(days: Sequence[dt.date], today: dt.date) -> str:
    """The days sessions were held: all of them when few, else the first and the last."""
    if not days:
        return ""
    if len(days) <= HELD_DAYS_SHOWN:
        return ", ".join(day(d, today, short_year=True) for d in days)
    return f"{day(days[0], today, short_year=True)} … {day(days[-1], today, short_year=True)}"


def _stage_style(step: StageProgress) -> str:
    return {"current": "bold", "done": "dim"}.get(step.state, "")


def stage_line(step: StageProgress, today: dt.date) -> Text:
    """'2. Goals  ·  reached 02 Mar  ·  2 of 3 sessions (03 Mar, 10 Mar)', and for the current
    stage its purpose and what the coach asks of the client."""
    current = step.state == "current"
    style = _stage_style(step)
    line = Text()
    line.append(f"{step.position}. ", style)
    line.append(visible(step.name), style)
    details = []
    if step.reached_on is not None:
        details.append(f"reached {day(step.reached_on, today, short_year=True)}")
    if step.state == "next" and not step.sessions_held:
        details.append(f"typically {plural(step.typical_sessions, 'session')}")
    else:
        held = step.sessions_words
        if step.held_on:
            held += f" ({held_days(step.held_on, today)})"
        details.append(held)
    line.append("  ·  " + "  ·  ".join(details), "" if current else "dim")
    if current and step.purpose:
        line.append("\nPurpose: ", "italic")
        line.append(visible(step.purpose))
    if current and step.asks_of_client:
        line.append("\nWe ask of the client: ", "italic")
        line.append(visible(step.asks_of_client))
    return line


def outcomes_line(path: ClientJourney, today: dt.date) -> Text:
    text = Text()
    text.append("Outcomes: ", "bold")
    if path.outcomes:
        latest = path.outcomes[0]
        text.append(f"{len(path.outcomes)} recorded, latest ")
        text.append(visible(latest.title))
        text.append(f" ({day(latest.achieved_on, today, short_year=True)})")
    else:
        text.append("none recorded yet")
    text.append("  ·  ")
    text.append(
        "agreed to be a reference" if path.reference_consent else "not a reference",
        "" if path.reference_consent else "dim",
    )
    return text


def journey_text(ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> Group:
    j = ws.journey
    parts: list[Any] = []
    if not path.progress:
        if j.program_name:
            parts.append(Text.assemble((visible(j.program_name), "bold"), " has no stages yet."))
        else:
            parts.append(Text("No program yet: this client is not on a journey of stages."))
        parts.append(Text("Press m to put them at a stage of a program.", "dim"))
    else:
        heading = Text()
        heading.append(visible(j.program_name or ""), "bold")
        stages = plural(len(path.progress), "stage")
        heading.append(f" — {stages}, {j.session_progress} sessions held")
        parts += [heading, Text("")]
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        for step in path.progress:
            grid.add_row(
                Text(STAGE_MARKS.get(step.state, step.state), _stage_style(step)),
                stage_line(step, today),
            )
        parts.append(grid)
    parts += [Text(""), outcomes_line(path, today)]
    return Group(*parts)


class JourneyView(Tells, VerticalScroll):
    """The stages of the client's program, read top to bottom; keys to move on and to record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "move_stage", "Move to stage", id="journey_move_stage"),
        Binding("o", "add_outcome", "Add outcome", id="journey_add_outcome"),
    ]

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.client: ClientWorkspace | None = None
        self.path: ClientJourney | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="journey-text")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        self.client, self.path = ws, path
        self.query_one("#journey-text", Static).update(journey_text(ws, path, today))

    def action_move_stage(self) -> None:
        if self.client is not None and self.path is not None:
            progress.move_to_stage(self.td, self.client.name, self.path, self.practice_changed)

    def action_add_outcome(self) -> None:
        if self.client is not None:
            progress.add_outcome(
                self.td, self.client.client_id, self.client.name, self.practice_changed
            )


class JourneyTab(ClientTab):
    def __init__(self) -> None:
        super().__init__("1 Journey", id="tab-journey")

    def compose(self) -> ComposeResult:
        yield JourneyView(id="journey")

    def draw(self, ws: ClientWorkspace, path: ClientJourney, today: dt.date) -> None:
        self.query_one(JourneyView).draw(ws, path, today)
