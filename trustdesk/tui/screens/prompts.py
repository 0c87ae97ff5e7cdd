"""Sending a between-session prompt, and logging the client's reply.

`send_prompt_flow` opens the picker (the coach's prompts, filterable by habit, with the
library copied in the first time), then the send screen: the composed message shown
literally, to copy (OSC 52, so it works over SSH), save to a private file, and mark as
sent. Copying and saving never log anything; only "Mark as sent" does, so a message that
was copied but never sent does not count as contact. `log_reply_flow` asks which of the
prompts awaiting this client's reply was answered and logs it.

Everything is loaded and written in thread workers; whatever the coach typed is shown
as literal text.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, Static

from trustdesk.literal import visible
from trustdesk.store.database import AlreadyThere, StoreError, new_private_file
from trustdesk.store.models import TRUST_HABITS
from trustdesk.trust.prompts import (
    AwaitingReply,
    ComposedMessage,
    PromptError,
    PromptItem,
    add_prompt,
    awaiting_reply,
    compose,
    edit_prompt,
    ensure_library,
    first_name,
    list_prompts,
    log_reply,
    saved_prompt,
    send_prompt,
)
from trustdesk.tui.doing import SavedRecord, ask_then_change, perform
from trustdesk.tui.screens.base import TrustdeskModal
from trustdesk.tui.screens.form import Field, FormScreen

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

Done = Callable[[], None]

HABIT_LABELS = {
    "clarity": "Clarity",
    "integrity": "Integrity",
    "contact": "Contact",
    "depth": "Depth",
}
HABIT_FILTERS: tuple[str | None, ...] = (None, *TRUST_HABITS)

# Apps whose coach has had the library copied in this run: once is enough.
_LIBRARY_READY: weakref.WeakSet[App] = weakref.WeakSet()


def line(value: str, style: str = "") -> Text:
    """What a person typed, on one line: no markup, control characters made visible."""
    return Text(visible(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def paragraphs(value: str) -> Text:
    """Longer text keeps its line breaks; every other control character is made visible."""
    lines = value.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    return Text("\n".join(visible(part) for part in lines), end="")


def _db_message(exc: StoreError) -> str:
    return f"Could not load the prompts: {exc}"


# --- choosing a prompt ----------------------------------------------------------------


def _prompt_fields(item: PromptItem | None) -> list[Field]:
    return [
        Field(
            "habit",
            "Which habit of trust does it serve?",
            kind="choice",
            choices=[(HABIT_LABELS[h], h) for h in TRUST_HABITS],
            default=item.habit if item else "depth",
            required=True,
        ),
        Field("title", "Title (what you see in the list)", default=item.title if item else "",
              required=True),
        Field("stage_hint", "Fits best at (start, middle, ending or a stage name; optional)",
              default=item.stage_hint if item else ""),
        Field("body", "The question ({first_name} and {stage} are filled in)", kind="long",
              default=item.body if item else "", required=True),
    ]  # fmt: skip


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
                line(p.title),
                line(p.stage_hint, "dim"),
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

    @property
    def td(self) -> TrustdeskApp:
        return self.app  # type: ignore[return-value]

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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#prompt-list").focus()
        self.reload()

    # --- loading ------------------------------------------------------------------

    def reload(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="prompts")

    def _load(self) -> None:
        app = self.td
        try:
            if app not in _LIBRARY_READY:
                app.fetch(ensure_library, app.coach)
                _LIBRARY_READY.add(app)
        except (PromptError, StoreError) as exc:
            # Without the library the coach's own prompts can still be listed and sent.
            message = f"The prompt library was not copied in: {exc}"
            app.call_from_thread(app.notify, message, severity="warning", markup=False)
        try:
            items = app.fetch(list_prompts, app.coach)
        except StoreError as exc:
            app.call_from_thread(app.notify, _db_message(exc), severity="error", markup=False)
            return
        app.call_from_thread(self._show, items)

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
        status = Text(f"Showing {which}: {count} prompt{'' if count == 1 else 's'}")
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
        app = self.td
        form = FormScreen("A new prompt", _prompt_fields(None))

        def saved(values: dict | None) -> None:
            if values:
                perform(
                    app,
                    lambda: add_prompt(
                        app.coach,
                        values["habit"],
                        values["title"],
                        values["body"],
                        values["stage_hint"] or "",
                    ),
                    "Prompt added",
                    self._reload_if_open,
                )

        app.push_screen(form, saved)

    def action_edit(self) -> None:
        item = self.current()
        if item is None:
            return
        app, coach = self.td, self.td.coach
        ask_then_change(
            app,
            FormScreen("Edit a prompt", _prompt_fields(item)),
            lambda values, version: edit_prompt(
                coach,
                item.prompt_id,
                habit=values["habit"],
                title=values["title"],
                body=values["body"],
                stage_hint=values["stage_hint"] or "",
                version=version,
            ),
            "Prompt saved",
            self._reload_if_open,
            version=item.version,
            record=SavedRecord(
                lambda: saved_prompt(coach, item.prompt_id),
                lambda now: visible(now.title),
                lambda now: {
                    "habit": now.habit,
                    "title": now.title,
                    "body": now.body,
                    "stage_hint": now.stage_hint,
                },
            ),
        )

    def _reload_if_open(self) -> None:
        if self.is_attached:
            self.reload()


# --- sending one ---------------------------------------------------------------------------


def message_file_text(message: ComposedMessage) -> str:
    """The message as it is saved: a draft with its headers, ready to paste."""
    head = f"To: {message.to_email}\n" if message.to_email else ""
    return f"{head}Subject: {message.subject}\n\n{message.body}\n"


def write_private(path: Path, text: str) -> None:
    """Write a new file only its owner can read; an existing file is never replaced."""
    with new_private_file(path) as partial:
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)


def save_refusal(path: Path, exc: OSError | StoreError) -> str:
    """One plain line saying why the message was not saved."""
    shown = visible(str(path))
    if isinstance(exc, StoreError) and not isinstance(exc, AlreadyThere):
        return f"Not saved: {visible(str(exc))}."
    if isinstance(exc, FileExistsError | AlreadyThere):
        return f"Not saved: {shown} already exists; choose another name."
    if isinstance(exc, FileNotFoundError):
        return f"Not saved: the folder {visible(str(path.parent))} does not exist."
    if isinstance(exc, IsADirectoryError):
        return f"Not saved: {shown} is a folder."
    return f"Not saved: {shown}: {exc.strerror or exc}."


def save_message(app: App, path: Path, message: ComposedMessage) -> None:
    """Write the message to a new private file (in a thread worker) and say how it went."""
    try:
        write_private(path, message_file_text(message))
    except (OSError, StoreError) as exc:
        app.call_from_thread(app.notify, save_refusal(path, exc), severity="warning",
                             markup=False)  # fmt: skip
        return
    app.call_from_thread(
        app.notify, f"Saved to {visible(str(path))}. Press l once you have sent it.",
        markup=False,
    )  # fmt: skip


def default_file(client_name: str, today: dt.date) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", first_name(client_name).lower()).strip("-") or "client"
    return f"~/prompt-{slug}-{today.isoformat()}.txt"


class SendPromptScreen(ModalScreen[bool]):
    """The composed message, literally; copy it, save it, and mark it as sent once it is."""

    DEFAULT_CSS = """
    SendPromptScreen > #send-prompt {
        width: 84;
        max-width: 95%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    SendPromptScreen #send-head {
        height: auto;
        padding: 0 0 1 0;
    }
    SendPromptScreen #send-message {
        height: 1fr;
        border: round $panel;
        padding: 0 1;
    }
    SendPromptScreen #send-hint {
        color: $text-muted;
        height: auto;
    }
    SendPromptScreen #send-sent {
        color: $success;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("c", "copy", "Copy", id="prompt_copy"),
        Binding("s", "save", "Save to file", id="prompt_save_file"),
        Binding("l", "mark_sent", "Mark as sent", id="prompt_mark_sent"),
        Binding("enter", "mark_sent", "Mark as sent", id="prompt_mark_sent_enter", show=False),
        Binding("escape", "close", "Close", id="prompt_send_close"),
    ]

    def __init__(
        self, client_id: int, client_name: str, prompt: PromptItem, done: Done | None = None
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.prompt = prompt
        self.done = done
        self.message: ComposedMessage | None = None
        self.marked = False

    @property
    def td(self) -> TrustdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        title = Text("Send “")
        title.append(visible(self.prompt.title))
        title.append("” to ")
        title.append(visible(self.client_name))
        with Vertical(id="send-prompt"):
            yield Label(title, classes="dialog-title")
            yield Static(Text("Composing…"), id="send-head")
            with VerticalScroll(id="send-message"):
                yield Static(Text(""), id="send-body")
            yield Static(
                Text("Copying or saving logs nothing: once it is sent, press l to log it."),
                id="send-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy", id="copy")
                yield Button("Save to file", id="save")
                yield Button("Mark as sent", variant="primary", id="mark-sent")
                yield Button("Close", id="close")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#send-message").focus()
        self.run_worker(self._load_message, thread=True, exclusive=True, group="prompt-compose")

    def _load_message(self) -> None:
        app = self.td
        try:
            message = app.fetch(compose, app.coach, self.prompt.prompt_id, self.client_id)
        except PromptError as exc:
            app.call_from_thread(self._failed, str(exc))
            return
        except StoreError as exc:
            app.call_from_thread(self._failed, f"Could not compose the message: {exc}")
            return
        app.call_from_thread(self._show, message)

    def _failed(self, why: str) -> None:
        self.app.notify(why, severity="warning", markup=False)
        if self.is_current:
            self.dismiss(False)

    def _show(self, message: ComposedMessage) -> None:
        if not self.is_attached:
            return
        self.message = message
        head = Text()
        head.append("To:      ", "bold")
        if message.to_email:
            head.append(visible(message.to_email))
        else:
            head.append("no email address on file", "dim italic")
        head.append("\nSubject: ", "bold")
        head.append(visible(message.subject))
        self.query_one("#send-head", Static).update(head)
        self.query_one("#send-body", Static).update(paragraphs(message.body))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy", "save", "mark_sent"):
            if self.message is None:
                return None
            if action == "mark_sent" and self.marked:
                return None
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "copy": self.action_copy,
            "save": self.action_save,
            "mark-sent": self.action_mark_sent,
            "close": self.action_close,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    # --- actions -------------------------------------------------------------------

    def action_copy(self) -> None:
        if self.message is None:
            return
        self.app.copy_to_clipboard(self.message.text)
        self.app.notify(
            "Copied to your clipboard (if your terminal allows it). Press l once you have sent it.",
            markup=False,
        )

    def action_save(self) -> None:
        message = self.message
        if message is None:
            return
        app = self.td
        form = FormScreen(
            "Save the message to a file",
            [
                Field(
                    "path",
                    "File (a new one; only you can read it)",
                    default=default_file(self.client_name, app.today),
                    required=True,
                )
            ],
            save="Save",
        )

        def chosen(values: dict | None) -> None:
            if values:
                path = Path(os.path.expanduser(values["path"].strip()))
                app.run_worker(
                    lambda: save_message(app, path, message),
                    thread=True,
                    group="prompt-save",
                    exit_on_error=False,
                )

        app.push_screen(form, chosen)

    def action_mark_sent(self) -> None:
        if self.message is None or self.marked:
            return
        self.marked = True
        app = self.td
        today = app.today
        prompt_id, client_id = self.prompt.prompt_id, self.client_id
        perform(
            app,
            lambda: send_prompt(app.coach, prompt_id, client_id, today),
            f"Logged: prompt sent to {visible(self.client_name)}",
            self.done,
        )
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(self.marked)


# --- the flows the rest of the app calls ----------------------------------------------------


def send_prompt_flow(
    app: TrustdeskApp, client_id: int, client_name: str, done: Done | None
) -> None:
    """Pick a prompt, then show the message to copy, save and mark as sent."""

    def picked(item: PromptItem | None) -> None:
        if item is not None:
            app.push_screen(SendPromptScreen(client_id, client_name, item, done))

    app.push_screen(PromptPicker(client_name), picked)


def log_reply_flow(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    """Ask which of the prompts awaiting this client's reply they answered, and log it."""
    today = app.today

    def load() -> None:
        try:
            waiting = app.fetch(awaiting_reply, app.coach, today, client_id=client_id)
        except StoreError as exc:
            app.call_from_thread(app.notify, _db_message(exc), severity="error", markup=False)
            return
        app.call_from_thread(ask, waiting)

    def ask(waiting: list[AwaitingReply]) -> None:
        name = visible(client_name)
        if not waiting:
            app.notify(f"No prompt sent to {name} is awaiting a reply.", markup=False)
            return
        latest_first = sorted(waiting, key=lambda w: (w.sent_on, w.prompt_id), reverse=True)
        choices = []
        for w in latest_first:
            label = line(w.prompt_title)
            label.append(f"  · sent {w.sent_on:%d %b}, {w.days_waiting}d ago", "dim")
            choices.append((label, w.prompt_id))
        form = FormScreen(
            f"Log a reply from {name}",
            [
                Field("prompt", "Which prompt did they answer?", kind="choice", choices=choices,
                      default=latest_first[0].prompt_id, required=True),
                Field("summary", "In a line: what did they say? (optional)"),
            ],
            intro="Logged today as their reply, linked to the prompt.",
        )  # fmt: skip

        def saved(values: dict | None) -> None:
            if values:
                perform(
                    app,
                    lambda: log_reply(
                        app.coach, client_id, values["prompt"], today, values["summary"] or ""
                    ),
                    f"Logged a reply from {name}",
                    done,
                )

        app.push_screen(form, saved)

    app.run_worker(load, thread=True, group="prompt-replies", exit_on_error=False)
