"""The keys that work anywhere in the app: the app binds them and the help lists them."""

from __future__ import annotations

from textual.binding import Binding

# Footers are read at 80 columns: a footer shows the short description, `?` the tooltip.
ANYWHERE = [
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    # Shown only while the notes are open (the app's check_action).
    Binding("ctrl+l", "lock", "Lock", tooltip="Lock notes", id="lock_notes"),
    # In the Notes tab while the notes are locked, u unlocks them instead.
    Binding("u", "undo", "Undo last close", id="undo_close"),
    Binding("ctrl+f", "search_notes", "Search notes", id="search_notes", show=False),
]
