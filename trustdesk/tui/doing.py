"""The coach's actions as the screens offer them: ask with a form, write off the UI thread, say so.

Each function opens the right form, and when it is saved runs the `trust.actions` call
in a thread worker; the outcome is a notification, and `done` refreshes whatever the
calling screen shows. A refusal (ActionError) or a database error is shown as a
message; nothing ever ends in a traceback.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from textual.widgets import Button, Static

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.store import StoreBusy, StoreError
from trustdesk.store.models import NOTE_KINDS, TOUCH_CHANNELS, TOUCH_DIRECTIONS
from trustdesk.trust import actions, workspace
from trustdesk.trust.notes import NoteBody, NoteError, add_note, read_note, save_note_edit
from trustdesk.trust.workspace import PromiseItem, SessionItem, TouchItem
from trustdesk.tui.failures import failure_line
from trustdesk.tui.messages import NotesLockChanged
from trustdesk.tui.screens.form import Field, FormScreen, Invalid, not_after, not_before
from trustdesk.vault import KeyChanged, SealError, VaultError, VaultLocked

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

Done = Callable[[], None]


class _Saved(Protocol):
    version: int


T = TypeVar("T", bound=_Saved)

CHANNEL_LABELS = {
    "email": "Email",
    "call": "Call",
    "message": "Message",
    "journal_prompt": "Journal prompt",
    "reply": "Reply",
    "session": "Session",
}
NOTE_KIND_LABELS = {
    "goal": "Goal",
    "regret": "Regret",
    "struggle": "Struggle",
    "past_experience": "Past experience",
    "belief": "Belief",
    "session": "Session",
}


def perform(
    app: TrustdeskApp,
    work: Callable[[], Any],
    success: str,
    done: Done | None,
    *,
    changed: Callable[[actions.ChangedElsewhere], str] | None = None,
) -> None:
    """Run a write in a thread worker with its own connection; report on the UI thread.

    `changed`, if given, is run (on the worker thread) when the write is refused because
    the record changed elsewhere, instead of asking the coach to start again; it returns
    what to tell them.
    """

    def run() -> None:
        try:
            app.fetch(work)
        except actions.ChangedElsewhere as exc:
            message = str(exc) if changed is None else changed(exc)
            app.call_from_thread(app.notify, message, severity="warning", markup=False)
        except (actions.ActionError, NoteError, VaultError) as exc:
            app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
        except StoreBusy as exc:
            message = f"Not saved: the database is busy or locked ({exc}). Try again."
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        except StoreError as exc:
            message = f"Not saved: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        except Exception as exc:  # noqa: BLE001 - a note's words must not reach a traceback
            message = f"Not saved: {failure_line(exc, doing='save it')}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        else:
            app.call_from_thread(app.notify, success, markup=False)
        if done is not None:
            app.call_from_thread(done)

    app.run_worker(run, thread=True, group="write", exit_on_error=False)


def ask_then_perform(
    app: TrustdeskApp,
    form: FormScreen,
    work: Callable[[dict], Any],
    success: str | Callable[[dict], str],
    done: Done | None,
    *,
    changed: Callable[[dict], Callable[[actions.ChangedElsewhere], str]] | None = None,
) -> None:
    """Open a form; once it is saved, run the write it asks for with its values (`perform`).

    `changed`, given the values, makes `perform`'s answer to a record changed elsewhere.
    """

    def saved(values: dict | None) -> None:
        if values is not None:
            message = success(values) if callable(success) else success
            refused = changed(values) if changed is not None else None
            perform(app, lambda: work(values), message, done, changed=refused)

    app.push_screen(form, saved)


@dataclass(frozen=True)
class SavedRecord(Generic[T]):
    """How a form's record is read again as saved now, and laid under the coach's changes."""

    read: Callable[[], T | None]  # on a worker thread; None once the change cannot apply
    describe: Callable[[T], str]  # a line for the coach about what is saved
    fields: Callable[[T], dict[str, Any]] = lambda now: {}  # the form's values for it


def _unchanged(typed: Any, base: Any) -> bool:
    return typed == base or (typed is None and base in ("", None))


def ask_then_change(
    app: TrustdeskApp,
    form: FormScreen,
    change: Callable[[dict, int | None], Any],
    success: str | Callable[[dict], str],
    done: Done | None,
    *,
    version: int | None,
    record: SavedRecord[T],
    base: dict[str, Any] | None = None,
) -> None:
    """`ask_then_perform` for a change to a record the form was filled from (`version`).

    If another window or terminal saved the record meanwhile, nothing is written over
    and nothing the coach typed is lost. The form comes back filled with what is saved
    now, with every field the coach changed (from `base`, what the form first showed)
    kept as they typed it; it says what was saved, and saving again applies their
    changes to that copy.
    """
    shown = base if base is not None else {f.key: f.default for f in form.fields}

    def changed(values: dict) -> Callable[[actions.ChangedElsewhere], str]:
        def answer(refused: actions.ChangedElsewhere) -> str:
            try:
                now = app.fetch(record.read)
            except StoreError:
                now = None
            if now is None:
                return (
                    f"Not saved: {refused.what} was changed elsewhere and can no longer take "
                    "this change. It has been reloaded."
                )
            app.call_from_thread(again, values, now)
            return f"Not saved yet: {refused.what} was changed elsewhere after you opened it."

        return answer

    def again(values: dict, now: T) -> None:
        fresh = record.fields(now)
        merged = {
            key: fresh[key] if key in fresh and _unchanged(typed, shown.get(key)) else typed
            for key, typed in values.items()
        }
        intro = (
            f"Changed elsewhere while you were editing; saved now: {record.describe(now)}. "
            "Below is that, with your changes kept: save to apply them, or cancel."
        )
        ask_then_change(
            app,
            form.refilled(merged, intro),
            change,
            success,
            done,
            version=now.version,
            record=record,
            base={**values, **fresh},
        )

    ask_then_perform(
        app, form, lambda values: change(values, version), success, done, changed=changed
    )


def _name(name: str) -> str:
    return visible(name)


# --- promises ----------------------------------------------------------------------


def promise_words(promise: PromiseItem) -> str:
    return f"“{visible(promise.title)}”, due {promise.due_on:%d %b %Y}"


def _open_promise(app: TrustdeskApp, commitment_id: int) -> SavedRecord[PromiseItem]:
    """The promise as saved now, while it is still open (a closed one cannot change)."""

    def read() -> PromiseItem | None:
        now = workspace.promise(app.coach, commitment_id)
        return now if now is not None and now.status == "open" else None

    return SavedRecord(read, promise_words, lambda now: {"title": now.title, "due_on": now.due_on})


def mark_done(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    today = app.today
    perform(
        app,
        lambda: actions.mark_done(app.coach, commitment_id, today, version=version),
        f"Done: {visible(title)}",
        done,
    )


def renegotiate(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    due_on: dt.date,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    today = app.today
    form = FormScreen(
        "Renegotiate a promise",
        [
            Field(
                "due_on",
                "New due date (YYYY-MM-DD)",
                kind="date",
                default=max(today, due_on) + dt.timedelta(days=7),
                required=True,
                check=not_before(today, "today"),
            )
        ],
        intro=f"{visible(title)} (was due {due_on.isoformat()})",
    )

    ask_then_change(
        app,
        form,
        lambda values, version: actions.renegotiate(
            app.coach, commitment_id, values["due_on"], today, version=version
        ),
        lambda values: f"Renegotiated, now due {values['due_on'].isoformat()}",
        done,
        version=version,
        record=_open_promise(app, commitment_id),
    )


def drop(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    today = app.today
    form = FormScreen(
        "Drop a promise",
        [Field("reason", "Why is it dropped?", required=True)],
        intro=visible(title),
        save="Drop it",
    )

    ask_then_change(
        app,
        form,
        lambda values, version: actions.drop(
            app.coach, commitment_id, values["reason"], today, version=version
        ),
        f"Dropped: {visible(title)}",
        done,
        version=version,
        record=_open_promise(app, commitment_id),
    )


def add_promise(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    today = app.today
    form = FormScreen(
        f"New promise for {_name(client_name)}",
        [
            Field(
                "owner",
                "Who owes it?",
                kind="choice",
                choices=[("I do (the coach)", "coach"), ("The client", "client")],
                default="coach",
                required=True,
            ),
            Field("title", "What was promised?", required=True),
            Field(
                "due_on",
                "Due (YYYY-MM-DD)",
                kind="date",
                default=today + dt.timedelta(days=7),
                required=True,
                check=not_before(today, "today"),
            ),
        ],
    )

    ask_then_perform(
        app,
        form,
        lambda values: actions.add_commitment(
            app.coach,
            client_id,
            owner=values["owner"],
            title=values["title"],
            due_on=values["due_on"],
            promised_on=today,
        ),
        "Promise added",
        done,
    )


def edit_promise(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    promised_on: dt.date,
    due_on: dt.date,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    form = FormScreen(
        "Edit a promise",
        [
            Field("title", "What was promised?", default=title, required=True),
            Field(
                "due_on",
                "Due (YYYY-MM-DD)",
                kind="date",
                default=due_on,
                required=True,
                check=not_before(promised_on, "the day it was promised"),
            ),
        ],
    )

    ask_then_change(
        app,
        form,
        lambda values, version: actions.edit_commitment(
            app.coach,
            commitment_id,
            title=values["title"],
            due_on=values["due_on"],
            version=version,
        ),
        "Promise saved",
        done,
        version=version,
        record=_open_promise(app, commitment_id),
    )


# --- contact ---------------------------------------------------------------------------


def _touch_fields(
    today: dt.date, *, channel: str | None, direction: str | None, summary: str, on: dt.date
) -> list[Field]:
    """The fields a new touch and a corrected one share, filled with these values."""
    return [
        Field(
            "channel",
            "Channel",
            kind="choice",
            choices=[(CHANNEL_LABELS[c], c) for c in TOUCH_CHANNELS],
            default=channel,
            required=True,
        ),
        Field(
            "direction",
            "Direction",
            kind="choice",
            choices=[("I reached out", "outbound"), ("They reached out", "inbound")],
            default=direction,
            required=True,
        ),
        Field("summary", "In a line: what was it about?", default=summary),
        Field(
            "occurred_on",
            "When (YYYY-MM-DD)",
            kind="date",
            default=on,
            required=True,
            check=not_after(today, "today"),
        ),
    ]


def log_touch(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    today = app.today
    form = FormScreen(
        f"Log a touch with {_name(client_name)}",
        _touch_fields(today, channel="email", direction="outbound", summary="", on=today),
    )

    ask_then_perform(
        app,
        form,
        lambda values: actions.log_touch(
            app.coach,
            client_id,
            channel=values["channel"],
            direction=values["direction"],
            summary=values["summary"] or "",
            occurred_on=values["occurred_on"],
            today=today,
        ),
        f"Logged a touch with {_name(client_name)}",
        done,
    )


def snooze(
    app: TrustdeskApp,
    client_id: int,
    client_name: str,
    snoozed_until: dt.date | None,
    done: Done | None,
) -> None:
    today = app.today
    form = FormScreen(
        f"Snooze {_name(client_name)}",
        [
            Field(
                "until",
                "Snooze until (YYYY-MM-DD); leave empty to lift the snooze",
                kind="date",
                default=snoozed_until or today + dt.timedelta(days=14),
                check=not_before(today, "today"),
            )
        ],
        intro="While snoozed, a client is never due for contact.",
    )

    def said(values: dict) -> str:
        until = values["until"]
        if until:
            return f"{_name(client_name)} snoozed until {until.isoformat()}"
        return f"Snooze lifted for {_name(client_name)}"

    ask_then_perform(
        app,
        form,
        lambda values: actions.snooze(app.coach, client_id, values["until"], today),
        said,
        done,
    )


# --- sessions ----------------------------------------------------------------------------


def schedule_session(
    app: TrustdeskApp, client_id: int, client_name: str, done: Done | None
) -> None:
    start = dt.datetime.combine(app.today + dt.timedelta(days=7), dt.time(10, 0))
    form = FormScreen(
        f"Schedule a session with {_name(client_name)}",
        [
            Field("start", "Starts (YYYY-MM-DD HH:MM)", kind="datetime", default=start,
                  required=True),
            Field("duration", "Minutes", kind="number", default=60, required=True,
                  minimum=5, maximum=480),
        ],
    )  # fmt: skip

    ask_then_perform(
        app,
        form,
        lambda values: actions.schedule_session(
            app.coach, client_id, start=values["start"], duration_minutes=values["duration"]
        ),
        lambda values: f"Session scheduled for {values['start']:%a %d %b %H:%M}",
        done,
    )


def _held_start(session: SessionItem) -> dt.datetime:
    """When a held session started, as the form offers it: as recorded, or as scheduled."""
    return session.actual_start or session.scheduled_start


def mark_session_held(app: TrustdeskApp, session: SessionItem, done: Done | None) -> None:
    now = config.now()
    start = _held_start(session)
    form = FormScreen(
        "Session held",
        [
            Field("actual", "Started at (YYYY-MM-DD HH:MM)", kind="datetime", default=start,
                  required=True, check=not_after_moment(now)),
        ],
        intro=f"Scheduled for {session.scheduled_start:%a %d %b %H:%M}.",
    )  # fmt: skip

    ask_then_change(
        app,
        form,
        lambda values, version: actions.set_session_status(
            app.coach, session.session_id, "held", actual_start=values["actual"], version=version
        ),
        "Session marked held",
        done,
        version=session.version,
        record=_session_unless(
            app, session.session_id, "held", fields=lambda now: {"actual": _held_start(now)}
        ),
    )


def session_words(session: SessionItem) -> str:
    status = SESSION_STATUS_WORDS.get(session.status, session.status)
    return (
        f"{session.scheduled_start:%a %d %b %Y %H:%M}, {session.duration_minutes} minutes, {status}"
    )


def _session_unless(
    app: TrustdeskApp,
    session_id: int,
    *ended: str,
    fields: Callable[[SessionItem], dict[str, Any]],
) -> SavedRecord[SessionItem]:
    """The session as saved now, unless it has reached one of the `ended` states."""

    def read() -> SessionItem | None:
        now = workspace.session(app.coach, session_id)
        return now if now is not None and now.status not in ended else None

    return SavedRecord(read, session_words, fields)


def not_after_moment(moment: dt.datetime):
    def check(value: dt.datetime) -> None:
        if value > moment:
            raise Invalid("a session cannot have started in the future")

    return check


SESSION_STATUS_WORDS = {
    "scheduled": "scheduled",
    "held": "held",
    "late_cancel": "late cancel",
    "no_show": "no-show",
    "cancelled": "cancelled",
}


def set_session_status(
    app: TrustdeskApp,
    session_id: int,
    status: str,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    perform(
        app,
        lambda: actions.set_session_status(app.coach, session_id, status, version=version),
        f"Session marked {SESSION_STATUS_WORDS[status]}",
        done,
    )


# --- notes ----------------------------------------------------------------------------------


def write_note(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    """Ask for the note only once the notes are unlocked: it is sealed as it is saved."""
    today = app.today

    def ask() -> None:
        # A NoteForm: if the notes lock while the coach writes, the words are hidden and
        # the form says so; saving asks for the passphrase first, so nothing is lost.
        form = NoteForm(
            f"New private note about {_name(client_name)}",
            [
                Field(
                    "kind",
                    "Kind",
                    kind="choice",
                    choices=[(NOTE_KIND_LABELS[k], k) for k in NOTE_KINDS],
                    default="session",
                    required=True,
                ),
                Field("body", "Note (sealed before it is stored)", kind="long", required=True),
            ],
        )

        def saved(values: dict | None) -> None:
            if not values:
                return

            def save() -> None:
                perform(
                    app,
                    lambda: add_note(
                        app.vault, client_id, values["kind"], values["body"], written_on=today
                    ),
                    "Note sealed and saved",
                    done,
                )

            # If the notes locked while the coach was writing, unlock first: the words are
            # still here in memory, and nothing is lost.
            app.request_unlock(then=save)

        app.push_screen(form, saved)

    app.request_unlock(then=ask)


# --- asking before a change that cannot be undone ---------------------------------------


class ConfirmForm(FormScreen):
    """A form with no fields: a sentence and a button, which has the focus so Enter confirms."""

    def __init__(self, title: str, intro: str, *, save: str) -> None:
        super().__init__(title, [], intro=intro, save=save)

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()


# --- sessions, moved -------------------------------------------------------------------------


def _timing(session: SessionItem) -> dict[str, Any]:
    """A session's start and length, as the reschedule form holds them."""
    return {"start": session.scheduled_start, "duration": session.duration_minutes}


def reschedule_session(app: TrustdeskApp, session: SessionItem, done: Done | None) -> None:
    """Move a session that is still scheduled to another time, or change how long it is."""
    timing = _timing(session)
    form = FormScreen(
        "Reschedule a session",
        [
            Field("start", "Starts (YYYY-MM-DD HH:MM)", kind="datetime", default=timing["start"],
                  required=True),
            Field("duration", "Minutes", kind="number", default=timing["duration"],
                  required=True, minimum=5, maximum=480),
        ],
        intro=f"Now {timing['start']:%a %d %b %Y %H:%M}, {timing['duration']} minutes.",
        save="Reschedule",
    )  # fmt: skip

    ask_then_change(
        app,
        form,
        lambda values, version: actions.reschedule_session(
            app.coach,
            session.session_id,
            start=values["start"],
            duration_minutes=values["duration"],
            version=version,
        ),
        lambda values: f"Session moved to {values['start']:%a %d %b %H:%M}",
        done,
        version=session.version,
        record=_session_unless(
            app,
            session.session_id,
            *SESSION_STATUS_WORDS.keys() - {"scheduled"},
            fields=_timing,
        ),
    )


# --- contact, corrected --------------------------------------------------------------------


def touch_words(touch: TouchItem) -> str:
    """'Call, they reached out, 12 Mar 2026: <summary>' for a sentence about one touch."""
    way = "I reached out" if touch.direction == "outbound" else "they reached out"
    words = f"{CHANNEL_LABELS.get(touch.channel, touch.channel)}, {way}, "
    words += f"{touch.occurred_on:%d %b %Y}"
    if touch.summary:
        words += f": {visible(touch.summary)}"
    return words


def _touch_values(touch: TouchItem) -> dict[str, Any]:
    """A touch as the edit form holds it (a channel or direction it does not offer: none)."""
    return {
        "channel": touch.channel if touch.channel in TOUCH_CHANNELS else None,
        "direction": touch.direction if touch.direction in TOUCH_DIRECTIONS else None,
        "summary": touch.summary,
        "occurred_on": touch.occurred_on,
        "counts": "yes" if touch.counts_for_cadence else "no",
    }


def edit_touch(app: TrustdeskApp, touch: TouchItem, done: Done | None) -> None:
    today = app.today
    shown = _touch_values(touch)
    form = FormScreen(
        "Edit a touch",
        [
            *_touch_fields(
                today,
                channel=shown["channel"],
                direction=shown["direction"],
                summary=shown["summary"],
                on=shown["occurred_on"],
            ),
            Field(
                "counts",
                "Counts toward contact cadence?",
                kind="choice",
                # Not True/False: the form reads a Select's False as "nothing chosen".
                choices=[("Yes", "yes"), ("No, only on the record", "no")],
                default=shown["counts"],
                required=True,
            ),
        ],
    )

    ask_then_change(
        app,
        form,
        lambda values, version: actions.edit_touch(
            app.coach,
            touch.touch_id,
            channel=values["channel"],
            direction=values["direction"],
            summary=values["summary"] or "",
            occurred_on=values["occurred_on"],
            today=today,
            counts_for_cadence=values["counts"] == "yes",
            version=version,
        ),
        "Touch saved",
        done,
        version=touch.version,
        record=SavedRecord(
            lambda: workspace.touch(app.coach, touch.touch_id), touch_words, _touch_values
        ),
    )


def remove_touch(app: TrustdeskApp, touch: TouchItem, done: Done | None) -> None:
    """Take back a touch logged by mistake, once the coach has confirmed it."""
    form = ConfirmForm(
        "Remove a touch",
        f"{touch_words(touch)} will be removed. Contact cadence is counted again without it.",
        save="Remove",
    )

    ask_then_perform(
        app,
        form,
        lambda values: actions.remove_touch(app.coach, touch.touch_id, version=touch.version),
        "Touch removed",
        done,
    )


# --- notes, rewritten ------------------------------------------------------------------------

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


def edit_note(
    app: TrustdeskApp,
    note_id: uuid.UUID,
    kind: str,
    body_default: str | None,
    done: Done | None,
    version: int | None = None,
    client_id: int | None = None,
) -> None:
    """Rewrite a note's words; saving seals them again.

    With `body_default` None the stored words are read (after unlocking) and put in the
    form; otherwise the form opens with `body_default`, the words the coach typed before
    the notes locked under a save, so nothing typed is ever lost. If the note was saved
    elsewhere after it was read (`version`), the new words are kept as a note of their own.
    """
    read_version = {"version": version, "client_id": client_id}
    title = f"Edit a {NOTE_KIND_LABELS.get(kind, kind).lower()} note"

    def ask(body: str) -> None:
        form = NoteForm(
            title,
            [Field("body", "Note (sealed again when saved)", kind="long", default=body,
                   required=True, max_length=max(2000, len(body)))],
        )  # fmt: skip

        def saved(values: dict | None) -> None:
            if values:
                save(values["body"])

        app.push_screen(form, saved)

    def save(body: str) -> None:
        def run() -> None:
            try:
                kept_apart = app.fetch(
                    save_note_edit,
                    app.vault,
                    note_id,
                    body,
                    version=read_version["version"],
                    client_id=read_version["client_id"],
                    kind=kind,
                )
            except VaultLocked as exc:
                if isinstance(exc, KeyChanged):
                    app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
                # The notes locked between Save and the write: the words come back in the form.
                app.call_from_thread(
                    edit_note,
                    app,
                    note_id,
                    kind,
                    body,
                    done,
                    read_version["version"],
                    read_version["client_id"],
                )
                return
            except (NoteError, SealError, VaultError, actions.ActionError) as exc:
                app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
            except StoreError as exc:
                message = f"Not saved: {exc}"
                app.call_from_thread(app.notify, message, severity="error", markup=False)
            except Exception as exc:  # noqa: BLE001 - the words must not reach a traceback
                message = f"Not saved: {failure_line(exc, body, doing='seal it')}"
                app.call_from_thread(app.notify, message, severity="error", markup=False)
            else:
                if kept_apart is None:
                    app.call_from_thread(app.notify, "Note sealed and saved", markup=False)
                else:
                    message = (
                        "That note was changed or removed elsewhere after you opened it, so "
                        "your words were saved as a new note. Nothing was overwritten."
                    )
                    app.call_from_thread(app.notify, message, severity="warning", markup=False)
            if done is not None:
                app.call_from_thread(done)

        app.run_worker(run, thread=True, group="write", exit_on_error=False)

    def fetch() -> None:
        def run() -> None:
            try:
                note = app.fetch(read_note, app.vault, note_id)
            except VaultLocked:
                app.call_from_thread(app.request_unlock, fetch)
                return
            except (NoteError, SealError, VaultError) as exc:
                message = f"Cannot open that note: {exc}"
                app.call_from_thread(app.notify, message, severity="warning", markup=False)
                return
            except StoreError as exc:
                message = f"Cannot open that note: {exc}"
                app.call_from_thread(app.notify, message, severity="error", markup=False)
                return
            except Exception as exc:  # noqa: BLE001 - the words must not reach a traceback
                message = f"Cannot open that note: {failure_line(exc, doing='open it')}"
                app.call_from_thread(app.notify, message, severity="error", markup=False)
                return
            app.call_from_thread(opened, note)

        app.run_worker(run, thread=True, group="note", exit_on_error=False)

    def opened(note: NoteBody) -> None:
        # The notes may have locked while the words were on their way: ask, then read again.
        if not app.vault.unlocked:
            app.request_unlock(then=fetch)
            return
        read_version["version"] = note.version
        read_version["client_id"] = note.client_id
        ask(note.body)

    if body_default is None:
        app.request_unlock(then=fetch)
    else:
        ask(body_default)
