"""What widgets and the app tell the screens, as Textual messages rather than method calls.

A widget posts and whichever screen holds it answers, so no widget needs to know which
screen it sits on.
"""

from __future__ import annotations

from textual.message import Message

from trustdesk.vault import VaultStatus


class NotesLockChanged(Message, bubble=False):
    """The notes were locked or unlocked: what shows or offers them is drawn again."""

    def __init__(self, status: VaultStatus) -> None:
        super().__init__()
        self.status = status


class PracticeChanged(Message):
    """Something was saved: the screen showing it loads again (`TrustdeskScreen.reload`)."""


class NextSort(Message):
    """The coach asked for the clients list in the next order."""
