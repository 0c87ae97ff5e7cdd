"""Widgets shared by the screens."""

from __future__ import annotations

from typing import TypeVar

W = TypeVar("W")


def steady(widget: W) -> W:
    """A text cursor that does not blink: a blinking cursor repaints twice a second over SSH."""
    widget.cursor_blink = False  # type: ignore[attr-defined]
    return widget
