"""The row-cursor table of the client workspace and the program editor.

Every list there is short enough to load whole (one client's history, one coach's
programs), so it is Textual's DataTable, drawn to the width it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual.widgets import DataTable

T = TypeVar("T")


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    width: int  # 0 = take the width that is left
    min_table_width: int = 0  # left out when the table is narrower than this


Row = tuple[str, dict[str, Text]]  # row key, cells by column key


class WorkspaceTable(DataTable):
    """A row-cursor table whose flexible column takes the width that is left.

    The cursor stays on the same row (by key) across reloads, or at the same position
    when that row has gone. Narrow terminals leave out the less important columns.
    """

    COLUMNS: ClassVar[Sequence[Col]] = ()
    FLEX_MIN = 12

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[Row] = []
        self._drawn_width = -1

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor is past the end while the table is refilled
            return None

    def highlighted(self, items: Sequence[T], key: Callable[[T], Any]) -> T | None:
        """The item (of those the rows were made from) under the cursor, found by its key."""
        wanted = self.current_key()
        if wanted is None:
            return None
        return next((item for item in items if str(key(item)) == wanted), None)

    def show_rows(self, rows: list[Row]) -> None:
        self._rows = rows
        self._draw()

    def _draw(self) -> None:
        old_key, old_row = self.current_key(), self.cursor_row
        width = self.size.width or max(self.app.size.width - 4, 40)
        self._drawn_width = width
        columns = [c for c in self.COLUMNS if width >= c.min_table_width]
        pad = 2 * self.cell_padding
        fixed = sum(c.width + pad for c in columns if c.width)
        flex = max(self.FLEX_MIN, width - fixed - pad - 2)  # 2: room for a scrollbar
        self.clear(columns=True)
        for c in columns:
            self.add_column(c.label, key=c.key, width=c.width or flex)
        for key, cells in self._rows:
            self.add_row(*(cells.get(c.key, Text("")) for c in columns), key=key)
        if not self.row_count:
            return
        keys = [key for key, _ in self._rows]
        row = keys.index(old_key) if old_key in keys else min(max(old_row, 0), self.row_count - 1)
        self.move_cursor(row=row, animate=False)

    def on_resize(self) -> None:
        if self._rows and self.size.width and self.size.width != self._drawn_width:
            self._draw()

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()
