"""Every key the app understands, gathered from the bindings themselves so it cannot drift."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from trustdesk.tui.keys import ANYWHERE

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
    "ctrl+l": "Ctrl+L",
    "ctrl+p": "Ctrl+P",
    "ctrl+f": "Ctrl+F",
    "ctrl+s": "Ctrl+S",
    "ctrl+r": "Ctrl+R",
    "tab": "Tab",
    "f5": "F5",
    "ctrl+up": "Ctrl+Up",
    "ctrl+down": "Ctrl+Down",
}


def key_label(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def _section(title: str, bindings: list[Binding]) -> Group:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", width=10)
    table.add_column()
    for binding in bindings:
        if binding.description:
            table.add_row(key_label(binding.key), binding.tooltip or binding.description)
    return Group(Text(title, style="bold underline"), table)


def sections() -> list[tuple[str, list[Binding]]]:
    """Bindings of every screen and pane, by where they apply."""
    from trustdesk.tui import forms
    from trustdesk.tui.screens import (
        agenda,
        awaiting,
        client,
        dashboard,
        dashboard_panes,
        note_search,
        programs,
        prompts,
        references,
        unlock,
    )
    from trustdesk.tui.screens.send_prompt import SendPromptScreen

    found = [
        ("Anywhere", ANYWHERE + [Binding("ctrl+p", "", "Command palette")]),
        ("Dashboard", _bindings(dashboard.DashboardScreen)),
        ("Clients list", _bindings(dashboard_panes.ClientsPane)
         + [Binding("enter", "", "Open the client's workspace"),
            Binding("escape", "", "Clear the filter")]),
        ("Overdue and due-soon promises", _bindings(dashboard_panes.OverduePane)),
        ("Due for contact", _bindings(dashboard_panes.CadencePane)),
    ]  # fmt: skip
    for module in (client, programs, references):
        for title, widget in getattr(module, "HELP_SECTIONS", ()):
            found.append((title, _bindings(widget)))
    found += [
        ("Sending a prompt", _bindings(prompts.PromptPicker) + _bindings(SendPromptScreen)),
        ("Awaiting replies", _bindings(awaiting.AwaitingRepliesScreen)),
        ("Agenda", _bindings(agenda.AgendaScreen)),
        (
            "Searching notes",
            _bindings(note_search.NoteSearchScreen)
            + [Binding("enter", "", "Search; on a result, open the note")],
        ),
        ("Any form", _bindings(forms.FormScreen)),
        ("Unlocking notes", _bindings(unlock.UnlockScreen)),
    ]
    return found


def _bindings(owner) -> list[Binding]:
    out = []
    for item in getattr(owner, "BINDINGS", []):
        if isinstance(item, Binding):
            out.append(item)
        else:
            out.append(Binding(*item))
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help_close"),
        Binding("question_mark", "close", "Close", show=False, id="help_close_again"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                for title, bindings in sections():
                    yield Static(_section(title, bindings), classes="help-section")
                yield Static(
                    "Tab moves between panes. The mouse works everywhere: click a row, "
                    "double-click to open it.",
                    classes="dialog-intro",
                )

    def action_close(self) -> None:
        self.dismiss(None)
