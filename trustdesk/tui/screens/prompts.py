"""Choosing a between-session prompt to send: the picker, then the send screen.

`send_prompt_flow` opens the picker (the coach's prompts, filterable by habit, with the
library copied in the first time), then `screens.send_prompt`, where the message is
copied, saved or marked as sent. What the keys change is in `tui.flows.prompts`.

Everything is loaded and written in thread workers; whatever the coach typed is shown
as literal text.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store import StoreError, translated
from trustdesk.trust.common import plural
from trustdesk.trust.prompts import (
    TRUST_HABITS,
    PromptError,
    PromptItem,
    ensure_library,
    list_prompts,
)
from trustdesk.tui.flows.base import Done
from trustdesk.tui.flows.prompts import add_prompt_flow, db_message, edit_prompt_flow
from trustdesk.tui.formatting import literal, paragraphs
from trustdesk.tui.labels import HABIT_LABELS
from trustdesk.tui.screens.base import TrustdeskModal
from trustdesk.tui.screens.send_prompt import SendPromptScreen

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

HABIT_FILTERS: tuple[str | None, ...] = (None, *TRUST_HABITS)

# Apps whose coach has had the library copied in this run: once is enough.
_LIBRARY_READY: weakref.WeakSet[App] = weakref.WeakSet()


# --- choosing a prompt ----------------------------------------------------------------


class PromptList(DataTable):
    """The list of prompts; Enter chooses the highlighted one. The title takes the width left."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Choose", id="prompt_pick"),
    ]
    HABIT_WIDTH = 9
    HINT_WIDTH = 12

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.drawn_width = -1

    def title_width(self) -> int:
        width = self.size.width or max(self.app.size.width - 8, 40)
        self.drawn_width = width
        fixed = self.HABIT_WIDTH + self.HINT_WIDTH + 3 * 2 * self.cell_padding
        return max(12, width - fixed - 2)  # 2: room for a scrollbar

    def fill(self, items: list[PromptItem]) -> None:
        self.clear(columns=True)
        self.add_column("Habit", key="habit", width=self.HABIT_WIDTH)
        self.add_column("Title", key="title", width=self.title_width())
        self.add_column("Fits", key="hint", width=self.HINT_WIDTH)
        for p in items:
            self.add_row(
                Text(HABIT_LABELS.get(p.habit, p.habit)),
                literal(p.title),
                literal(p.stage_hint, "dim"),
                key=str(p.prompt_id),
            )

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self.drawn_width:
            screen = self.screen
            if isinstance(screen, PromptPicker) and screen.loaded:
                screen._draw()


class PromptPicker(TrustdeskModal[PromptItem | None]):
    """The coach's prompts; Enter chooses one, n adds, e edits, f steps through the habits."""

    DEFAULT_CSS = """
    PromptPicker > #prompt-picker {
        width: 96;
        max-width: 95%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    PromptPicker #prompt-filter {
        color: $text-muted;
        height: 1;
    }
    PromptPicker #prompt-list {
        height: 1fr;
    }
    PromptPicker #prompt-preview {
        height: auto;
        max-height: 7;
        padding: 1 0 0 0;
    }
    """
    BINDINGS = [
        Binding("f", "next_habit", "Habit filter", id="prompt_filter"),
        Binding("n", "add", "New prompt", id="prompt_add"),
        Binding("e", "edit", "Edit prompt", id="prompt_edit"),
        Binding("escape", "cancel", "Cancel", id="prompt_cancel"),
    ]

    def __init__(self, client_name: str | None = None) -> None:
        super().__init__()
        self.client_name = client_name
        self.items: list[PromptItem] = []
        self.shown: list[PromptItem] = []
        self.habit: str | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        title = Text("Choose a prompt")
        if self.client_name is not None:
            title.append(" to send to ")
            title.append(visible(self.client_name))
        # Not the shared .dialog class: its fixed width (app CSS) would win over this screen's.
        with Vertical(id="prompt-picker"):
            yield Label(title, classes="dialog-title")
            yield Static(Text("Loading prompts…"), id="prompt-filter")
            yield PromptList(id="prompt-list")
            yield Static(Text(""), id="prompt-preview")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-list").focus()
        self.reload()

    # --- loading ------------------------------------------------------------------

    def reload(self) -> None:
        app = self.td

        def work() -> list[PromptItem]:
            try:
                if app not in _LIBRARY_READY:
                    with translated():
                        ensure_library(app.coach)
                    _LIBRARY_READY.add(app)
            except (PromptError, StoreError) as exc:
                # Without the library the coach's own prompts can still be listed and sent.
                message = f"The prompt library was not copied in: {exc}"
                app.call_from_thread(app.notify, message, severity="warning", markup=False)
            return list_prompts(app.coach)

        self.load(work, then=self._show, failed=self._load_failed, group="prompts")

    def _load_failed(self, exc: Exception) -> None:
        if isinstance(exc, StoreError):
            self.td.notify(db_message(exc), severity="error", markup=False)
        else:
            self.load_failed(exc)

    def _show(self, items: list[PromptItem]) -> None:
        if not self.is_attached:
            return
        before = {p.prompt_id for p in self.items}
        added = [p.prompt_id for p in items if p.prompt_id not in before]
        self.items = items
        # After the coach adds a prompt, the cursor goes to it; otherwise it stays put.
        focus_on = added[0] if self.loaded and len(added) == 1 else None
        self.loaded = True
        self._draw(focus_on)

    def _draw(self, focus_on: int | None = None) -> None:
        table = self.query_one("#prompt-list", PromptList)
        if focus_on is None:
            keep = self.current()
            focus_on = keep.prompt_id if keep is not None else None
        self.shown = [p for p in self.items if self.habit is None or p.habit == self.habit]
        table.fill(self.shown)
        ids = [p.prompt_id for p in self.shown]
        if focus_on in ids:
            table.move_cursor(row=ids.index(focus_on), animate=False)
        which = "all habits" if self.habit is None else HABIT_LABELS[self.habit]
        count = len(self.shown)
        status = Text(f"Showing {which}: {plural(count, 'prompt')}")
        status.append("  ·  f shows the next habit", "dim")
        if not count:
            status.append("  ·  n adds one", "dim")
        self.query_one("#prompt-filter", Static).update(status)
        self._preview()
        self.refresh_bindings()

    def current(self) -> PromptItem | None:
        table = self.query_one("#prompt-list", DataTable)
        if not self.shown or not table.row_count:
            return None
        row = table.cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def _preview(self) -> None:
        item = self.current()
        self.query_one("#prompt-preview", Static).update(
            paragraphs(item.body) if item is not None else Text("")
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_pick()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return True if self.current() is not None else None
        if action == "add":
            return True if self.loaded else None
        return True

    # --- actions -------------------------------------------------------------------

    def action_pick(self) -> None:
        item = self.current()
        if item is not None:
            self.dismiss(item)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_next_habit(self) -> None:
        self.habit = HABIT_FILTERS[(HABIT_FILTERS.index(self.habit) + 1) % len(HABIT_FILTERS)]
        if self.loaded:
            self._draw()

    def action_add(self) -> None:
        add_prompt_flow(self.td, self._reload_if_open)

    def action_edit(self) -> None:
        item = self.current()
        if item is not None:
            edit_prompt_flow(self.td, item, self._reload_if_open)

    def _reload_if_open(self) -> None:
        if self.is_attached:
            self.reload()


# --- what the rest of the app opens ---------------------------------------------------------


def send_prompt_flow(
    app: TrustdeskApp, client_id: int, client_name: str, done: Done | None
) -> None:
    """Pick a prompt, then show the message to copy, save and mark as sent."""

    def picked(item: PromptItem | None) -> None:
        if item is not None:
            app.push_screen(SendPromptScreen(client_id, client_name, item, done))

    app.push_screen(PromptPicker(client_name), picked)
