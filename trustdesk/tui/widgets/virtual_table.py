"""A table that draws only the rows on screen and fetches them a page at a time.

Textual's DataTable keeps every row in memory and takes seconds to fill with 10,000
clients; this table knows only the total, asks its loader for the pages it needs in
a thread worker, and repaints just the lines that change when the cursor moves, which
keeps an SSH session quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trustdesk.literal import visible

# A page is a little more than a tall screen of rows: the first screen and a filter
# keystroke load one page, and scrolling loads the next before it is needed.
PAGE_ROWS = 60


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # 0 = take what is left
    align: str = "left"
    min_table_width: int = 0  # hidden when the table is narrower than this
    weight: int = 1  # share of the leftover width, for columns of width 0


@dataclass(frozen=True)
class Cell:
    """What a row shows in one column: literal text and an optional style class."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Page:
    total: int
    offset: int
    rows: Sequence[Any]


Loader = Callable[[int, int], Page]  # (offset, limit) -> Page; runs in a worker thread
Formatter = Callable[[Any], dict[str, Cell]]


class VirtualTable(ScrollView, can_focus=True):
    """A scrolling list of rows with a fixed header, a cursor, and pages loaded on demand."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--muted",
        "virtual-table--ok",
        "virtual-table--due",
        "virtual-table--quiet",
        "virtual-table--snoozed",
        "virtual-table--late",
        "virtual-table--empty",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    VirtualTable > .virtual-table--header { text-style: bold; color: $text-muted; }
    VirtualTable > .virtual-table--cursor { background: $boost; }
    VirtualTable:focus > .virtual-table--cursor { background: $accent 40%; text-style: bold; }
    VirtualTable > .virtual-table--muted { color: $text-muted; }
    VirtualTable > .virtual-table--empty { color: $text-muted; text-style: italic; }
    VirtualTable > .virtual-table--ok { color: $success; }
    VirtualTable > .virtual-table--due { color: $warning; text-style: bold; }
    VirtualTable > .virtual-table--quiet { color: $error; text-style: bold; }
    VirtualTable > .virtual-table--snoozed { color: $text-muted; }
    VirtualTable > .virtual-table--late { color: $error; }
    """

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Highlighted):
        pass

    class Loaded(Message):
        """A page arrived; `total` is the number of rows that match now."""

        def __init__(self, table: VirtualTable, total: int) -> None:
            super().__init__()
            self.table = table
            self.total = total

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        formatter: Formatter,
        *,
        empty_text: str = "Nothing here.",
        page_rows: int = PAGE_ROWS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.formatter = formatter
        self.empty_text = empty_text
        self.page_rows = page_rows
        self.loader: Loader | None = None
        self.total: int | None = None
        self._pages: dict[int, Sequence[Any]] = {}
        self._pending: set[int] = set()
        self._generation = 0
        self._layout: dict[int, list[tuple[Column, int]]] = {}

    # --- data ---------------------------------------------------------------------

    def set_loader(self, loader: Loader) -> None:
        """Use a new source of rows (a new filter or sort) and start again from the top."""
        self.loader = loader
        self.reload(keep_cursor=False)

    def reload(self, *, keep_cursor: bool = True) -> None:
        """Forget every cached page (the data changed) and fetch what is on screen again."""
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        if not keep_cursor:
            self.set_reactive(VirtualTable.cursor, 0)
            self.scroll_to(y=0, animate=False, immediate=True)
        self._request(self._page_of(max(int(self.scroll_offset.y), 0)))
        self._request(self._page_of(self.cursor))

    def _page_of(self, index: int) -> int:
        return index // self.page_rows

    def _request(self, page: int) -> None:
        if self.loader is None or page in self._pending or page in self._pages:
            return
        self._pending.add(page)
        loader, generation = self.loader, self._generation
        offset, limit = page * self.page_rows, self.page_rows
        self.run_worker(
            lambda: self._fetch(loader, generation, page, offset, limit),
            thread=True,
            group=f"page-{id(self)}",
            exit_on_error=False,
        )

    def _fetch(self, loader: Loader, generation: int, page: int, offset: int, limit: int) -> None:
        try:
            result = loader(offset, limit)
        except Exception as exc:  # noqa: BLE001 - shown to the coach, never a traceback
            self.app.call_from_thread(self._failed, generation, page, exc)
            return
        self.app.call_from_thread(self._arrived, generation, page, result)

    def _failed(self, generation: int, page: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self._pending.discard(page)
        self.notify(f"Could not load the list: {exc}", severity="error", markup=False)

    def _arrived(self, generation: int, page: int, result: Page) -> None:
        if generation != self._generation:
            return  # an answer to a question nobody is asking any more
        self._pending.discard(page)
        self._pages[page] = list(result.rows)
        changed = result.total != self.total
        self.total = result.total
        if changed:
            self.virtual_size = Size(self.size.width, result.total + 1)
            if self.cursor >= result.total:
                self.set_reactive(VirtualTable.cursor, max(result.total - 1, 0))
            self.refresh()
        else:
            self.refresh_lines(1 + page * self.page_rows, len(result.rows))
        self.post_message(self.Loaded(self, result.total))
        if page == self._page_of(self.cursor):
            row = self.row_at(self.cursor)
            if row is not None:
                self.post_message(self.Highlighted(self, row))

    def row_at(self, index: int) -> Any | None:
        rows = self._pages.get(self._page_of(index))
        if rows is None:
            return None
        i = index - self._page_of(index) * self.page_rows
        return rows[i] if 0 <= i < len(rows) else None

    @property
    def current_row(self) -> Any | None:
        return self.row_at(self.cursor) if self.total else None

    # --- drawing ----------------------------------------------------------------------

    def _visible_columns(self, width: int) -> list[tuple[Column, int]]:
        """Which columns fit and how wide each is; worked out once per table width."""
        cached = self._layout.get(width)
        if cached is None:
            cached = self._layout[width] = self._lay_out(width)
        return cached

    def _lay_out(self, width: int) -> list[tuple[Column, int]]:
        shown = [c for c in self.columns if width >= c.min_table_width]
        fixed = sum(c.width + 1 for c in shown if c.width)
        flexible = [c for c in shown if not c.width]
        rest = max(width - fixed - len(flexible), len(flexible))
        weights = sum(c.weight for c in flexible) or 1
        widths = {id(c): max(rest * c.weight // weights, 1) for c in flexible}
        if flexible:  # the last flexible column takes what rounding left over
            widths[id(flexible[-1])] += rest - sum(widths.values())
        return [(c, c.width or widths[id(c)]) for c in shown]

    def _cell(self, text: str, width: int, align: str) -> str:
        text = visible(text)
        if cell_len(text) > width:
            return set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
        pad = width - cell_len(text)
        return (" " * pad + text) if align == "right" else (text + " " * pad)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self._visible_columns(width)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("virtual-table--header")
            segments = []
            for column, w in columns:
                segments.append(Segment(self._cell(column.label, w, column.align) + " ", style))
            return Strip(segments).crop_extend(0, width, style)
        index = int(self.scroll_offset.y) + y - 1
        if self.total == 0 and index == 0:
            style = base + self.get_component_rich_style("virtual-table--empty")
            return Strip([Segment(self._cell(self.empty_text, width, "left"), style)])
        if self.total is None or index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._request(self._page_of(index))
            muted = base + self.get_component_rich_style("virtual-table--muted")
            return Strip([Segment(self._cell("…", width, "left"), muted)])
        row_style = base
        if index == self.cursor:
            row_style = base + self.get_component_rich_style("virtual-table--cursor")
        cells = self.formatter(row)
        segments = []
        for column, w in columns:
            cell = cells.get(column.key, Cell(""))
            style = row_style
            if cell.style:
                accent = self.get_component_rich_style(f"virtual-table--{cell.style}")
                style = row_style + Style(color=accent.color, bold=accent.bold)
            segments.append(Segment(self._cell(cell.text, w, column.align), style))
            segments.append(Segment(" ", row_style))
        return Strip(segments).crop_extend(0, width, row_style)

    def on_resize(self, event: events.Resize) -> None:
        if self.total is not None:
            self.virtual_size = Size(event.size.width, self.total + 1)

    # --- the cursor ---------------------------------------------------------------------

    @property
    def _rows_on_screen(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self._rows_on_screen:
            self.scroll_to(y=new - self._rows_on_screen + 1, animate=False, immediate=True)
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        row = self.row_at(new)
        if row is None:
            self._request(self._page_of(new))
        else:
            self.post_message(self.Highlighted(self, row))

    def _move(self, to: int) -> None:
        if not self.total:
            return
        self.cursor = max(0, min(to, self.total - 1))

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - self._rows_on_screen)

    def action_page_down(self) -> None:
        self._move(self.cursor + self._rows_on_screen)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move((self.total or 1) - 1)

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and self.total and index < self.total:
            self.focus()
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index
