"""The forms every flow asks with: fields checked as they are typed, a confirmation, a note.

A bad value is marked on its field with a plain sentence under it, and nothing is
returned (so nothing is saved) until every field is valid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.trust.dates import DateError, parse_day, parse_moment
from trustdesk.tui.formatting import day as shown_day
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.widgets import SafeInput, SafeTextArea, visible_keeping_lines

COMPACT_BELOW = 32  # terminal rows under which forms draw their fields one line high


class Invalid(ValueError):
    """A field's value cannot be used; the message is shown under the field."""


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"  # text, date, choice, number, long, datetime
    default: Any = ""
    required: bool = False
    choices: Sequence[tuple[str, Any]] = ()
    check: Callable[[Any], None] | None = None
    max_length: int = 2000
    minimum: int | None = None
    maximum: int | None = None


def parse_date(text: str) -> dt.date:
    """A date as people type it (`fri`, `+2w`, `3 dec`, ISO), counted from the app's today."""
    try:
        return parse_day(text, config.today())
    except DateError as exc:
        raise Invalid(str(exc)) from None


def parse_datetime(text: str) -> dt.datetime:
    """A day and a time (`fri 10:00`, `3 dec 9.30`, `2026-12-03 14:00`)."""
    try:
        return parse_moment(text, config.today())
    except DateError as exc:
        raise Invalid(str(exc)) from None


def parse_number(text: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise Invalid("a whole number, please")
    return int(text)


def not_before(day: dt.date, what: str) -> Callable[[dt.date], None]:
    def check(value: dt.date) -> None:
        if value < day:
            raise Invalid(f"must not be before {what} ({shown_day(day)})")

    return check


def not_after(day: dt.date, what: str) -> Callable[[dt.date], None]:
    def check(value: dt.date) -> None:
        if value > day:
            raise Invalid(f"must not be after {what} ({shown_day(day)})")

    return check


class FormScreen(ModalScreen[dict[str, Any] | None]):
    """A modal form; dismisses with the parsed values, or None when cancelled.

    Given a `writer` (`keep_open_while_saving`), Save hands the values to it and the form
    stays open until the write is done: a write the rules refuse shows why on the field it
    is about (or at the top), and everything typed stays as it was.
    """

    DEFAULT_CSS = """
    FormScreen .dialog-title {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    FormScreen #form-refused {
        color: $error;
        height: auto;
        padding: 0 0 1 0;
    }
    FormScreen #form-refused.-empty {
        display: none;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form_cancel"),
        Binding("ctrl+s", "save", "Save", id="form_save"),
    ]

    def __init__(self, title: str, fields: Sequence[Field], *, intro: str = "", save: str = "Save"):
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.intro = intro
        self.save_label = save
        self._errors: dict[str, str] = {}
        # Stored text holding control characters is shown escaped; untouched, it is kept as is.
        self._shown_as: dict[str, tuple[str, str]] = {}
        self._writer: Callable[[dict[str, Any]], None] | None = None
        self.saving: dict[str, Any] | None = None  # the values being written, while they are

    def keep_open_while_saving(self, writer: Callable[[dict[str, Any]], None]) -> None:
        """Save calls `writer(values)`; it answers with `saved()` or `refused(...)`."""
        self._writer = writer

    def refilled(self, values: dict[str, Any], intro: str) -> FormScreen:
        """This form again, holding what the coach typed (`values`), under a new intro."""
        fields = [replace(f, default=values.get(f.key, f.default)) for f in self.fields]
        return self._again(fields, intro)

    def _again(self, fields: list[Field], intro: str) -> FormScreen:
        return FormScreen(self.form_title, fields, intro=intro, save=self.save_label)

    @property
    def compact(self) -> bool:
        """On a short terminal (80x24) fields take one line each, so Save stays on screen."""
        return self.app.size.height < COMPACT_BELOW

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="dialog"):
            yield Label(self.form_title, classes="dialog-title", markup=False)
            if self.intro:
                yield Static(self.intro, classes="dialog-intro", markup=False)
            yield Static("", id="form-refused", classes="-empty", markup=False)
            with VerticalScroll(classes="form-fields"):
                for f in self.fields:
                    yield Label(f.label, classes="field-label", markup=False)
                    yield self._widget(f)
                    yield Static(
                        "", id=f"error-{f.key}", classes="field-error -empty", markup=False
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.save_label, variant="primary", id="save", compact=self.compact)
                yield Button("Cancel", id="cancel", compact=self.compact)
        yield Footer(compact=True)

    def _widget(self, f: Field):
        wid = f"field-{f.key}"
        if f.kind == "choice":
            return Select(
                [(label, value) for label, value in f.choices],
                value=f.default if f.default is not None else Select.NULL,
                allow_blank=not f.required,
                id=wid,
                compact=self.compact,
            )
        if f.kind == "long":
            original = str(f.default or "")
            shown = visible_keeping_lines(original)
            if shown != original:
                self._shown_as[f.key] = (shown, original)
            return SafeTextArea(
                shown, id=wid, soft_wrap=True, show_line_numbers=False, compact=self.compact
            )
        default = f.default
        if isinstance(default, dt.datetime):
            default = default.strftime("%Y-%m-%d %H:%M")
        elif isinstance(default, dt.date):
            default = default.isoformat()
        original = "" if default is None else str(default)
        shown = visible(original)
        if shown != original:
            self._shown_as[f.key] = (shown, original)
        return SafeInput(
            value=shown,
            max_length=max(f.max_length, len(shown)),
            id=wid,
            compact=self.compact,
        )

    def on_mount(self) -> None:
        first = self.query(".form-fields > Input, .form-fields > Select, .form-fields > TextArea")
        if first:
            first.first().focus()

    def _raw(self, f: Field) -> Any:
        widget = self.query_one(f"#field-{f.key}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        value = widget.text if isinstance(widget, TextArea) else widget.value
        shown, original = self._shown_as.get(f.key, (None, None))
        return original if value == shown else value

    def _parse(self, f: Field) -> Any:
        raw = self._raw(f)
        if f.kind == "choice":
            if raw is None and f.required:
                raise Invalid("choose one")
            value = raw
        elif isinstance(raw, str) and not raw.strip():
            if f.required:
                raise Invalid("this cannot be empty")
            return None
        elif f.kind == "date":
            value = parse_date(raw)
        elif f.kind == "datetime":
            value = parse_datetime(raw)
        elif f.kind == "number":
            value = parse_number(raw)
            if f.minimum is not None and value < f.minimum:
                raise Invalid(f"at least {f.minimum}")
            if f.maximum is not None and value > f.maximum:
                raise Invalid(f"at most {f.maximum}")
        else:
            value = raw
            if len(value) > f.max_length:
                raise Invalid(f"at most {f.max_length} characters (this has {len(value)})")
        if f.check is not None and value is not None:
            f.check(value)
        return value

    def _validate(self, f: Field) -> Any:
        error = self.query_one(f"#error-{f.key}", Static)
        widget = self.query_one(f"#field-{f.key}")
        try:
            value = self._parse(f)
        except Invalid as exc:
            self._errors[f.key] = str(exc)
            error.update(str(exc))
            error.remove_class("-empty")
            self.call_after_refresh(error.scroll_visible, animate=False)
            widget.add_class("-invalid-field")
            return None
        self._errors.pop(f.key, None)
        error.update("")
        error.add_class("-empty")
        widget.remove_class("-invalid-field")
        return value

    def _field_for(self, widget_id: str | None) -> Field | None:
        for f in self.fields:
            if widget_id == f"field-{f.key}":
                return f
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        f = self._field_for(event.input.id)
        if f is not None and (event.value or f.key in self._errors):
            self._validate(f)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        if self.saving is not None:
            return  # already on its way: one Save, one write
        values = {f.key: self._validate(f) for f in self.fields}
        if self._errors:
            first = next(iter(self._errors))
            self.query_one(f"#field-{first}").focus()
            self.app.bell()
            return
        if self._writer is None:
            self.dismiss(values)
            return
        self._show_refusal("")
        self.saving = values
        self.query_one("#save", Button).disabled = True
        self._writer(values)

    def saved(self) -> None:
        """The write went through: the form closes with the values it wrote."""
        values, self.saving = self.saving, None
        if self.is_attached:
            self.dismiss(values)

    def closed_unsaved(self) -> None:
        """The write cannot go ahead from this copy: the form closes with nothing saved."""
        self.saving = None
        if self.is_attached:
            self.dismiss(None)

    def refused(self, message: str, field: str | None = None) -> None:
        """The write was refused: say why on `field` (or at the top) and keep the form open."""
        self.saving = None
        if not self.is_attached:
            return
        self.query_one("#save", Button).disabled = False
        if field is not None and any(f.key == field for f in self.fields):
            self._errors[field] = message
            error = self.query_one(f"#error-{field}", Static)
            error.update(message)
            error.remove_class("-empty")
            widget = self.query_one(f"#field-{field}")
            widget.add_class("-invalid-field")
            widget.focus()
            self.call_after_refresh(error.scroll_visible, animate=False)
        else:
            self._show_refusal(message)
        self.app.bell()

    def _show_refusal(self, message: str) -> None:
        line = self.query_one("#form-refused", Static)
        line.update(message)
        line.set_class(not message, "-empty")

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmForm(FormScreen):
    """A form with no fields: a sentence and a button, which has the focus so Enter confirms."""

    def __init__(self, title: str, intro: str, *, save: str) -> None:
        super().__init__(title, [], intro=intro, save=save)

    def _again(self, fields: list[Field], intro: str) -> FormScreen:
        return ConfirmForm(self.form_title, intro, save=self.save_label)

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()


NOTE_FORM_LOCKED = (
    "The notes locked: the words are hidden, not lost. "
    "Save asks for the passphrase, then saves them; Cancel discards them."
)


class NoteForm(FormScreen):
    """A note's words in a form.

    While the notes are locked the words are hidden (kept in memory, never written
    anywhere), and saving asks for the passphrase first with the form still open, so
    cancelling the unlock loses nothing.
    """

    async def on_mount(self) -> None:
        super().on_mount()
        notice = Static(NOTE_FORM_LOCKED, id="note-form-locked", classes="dialog-intro")
        await self.query_one("#form").mount(notice, before=self.query_one(".form-fields"))
        self._show_lock(self.app.vault.unlocked)

    def _show_lock(self, unlocked: bool) -> None:
        fields = self.query_one(".form-fields")
        was_hidden = not fields.display
        fields.display = unlocked
        self.query_one("#note-form-locked").display = not unlocked
        if not unlocked:
            self.query_one("#save", Button).focus()
        elif was_hidden:
            self.query_one(".form-fields > TextArea").focus()

    def on_notes_lock_changed(self, message: NotesLockChanged) -> None:
        if self.is_attached and self.query("#note-form-locked"):
            self._show_lock(message.status.unlocked)

    def action_save(self) -> None:
        if not self.app.vault.unlocked:
            self.app.request_unlock(then=self._save_once_unlocked)
            return
        super().action_save()

    def _save_once_unlocked(self) -> None:
        if self.is_attached and self.is_current:
            super().action_save()
