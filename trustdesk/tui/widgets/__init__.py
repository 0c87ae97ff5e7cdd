"""Widgets shared by the screens: text fields that never pass control characters through."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.widgets import Input, TextArea

from trustdesk.literal import needs_escape, visible

W = TypeVar("W")


def steady(widget: W) -> W:
    """A text cursor that does not blink: a blinking cursor repaints twice a second over SSH."""
    widget.cursor_blink = False  # type: ignore[attr-defined]
    return widget


def visible_keeping_lines(text: str) -> str:
    """Like `visible`, but line breaks and tabs stay what they are (for a note's body)."""
    return "".join(ch if ch in "\n\t" or not needs_escape(ch) else visible(ch) for ch in text)


class SafeInput(Input):
    """An Input where a pasted escape sequence arrives as visible text, never as a command."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_blink = False

    def insert(self, text: str, index: int) -> None:
        super().insert(visible(text), index)

    def replace(self, text: str, start: int, end: int):  # type: ignore[override]
        return super().replace(visible(text), start, end)


class SafeTextArea(TextArea):
    """A TextArea for notes: paragraphs kept, other control characters made visible."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_blink = False

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = visible_keeping_lines(event.text)
        await super()._on_paste(event)
