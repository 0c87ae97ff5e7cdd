"""Private notes (depth of conversation): write one, rewrite one; sealed as they are saved.

A note is asked for only once the notes are unlocked, and if they lock while the coach
writes, the words are kept in memory and saving asks for the passphrase first: nothing
typed is lost, and nothing of it reaches a log or a traceback.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import common
from trustdesk.trust.notes import (
    NOTE_KINDS,
    NoteBody,
    NoteError,
    add_note,
    read_note,
    save_note_edit,
)
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows.base import Done, perform
from trustdesk.tui.forms import Field, NoteForm
from trustdesk.tui.labels import NOTE_KIND_LABELS
from trustdesk.vault import KeyChanged, SealError, VaultError, VaultLocked

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def write_note(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    """Ask for the note only once the notes are unlocked: it is sealed as it is saved."""
    today = app.today

    def ask() -> None:
        # A NoteForm: if the notes lock while the coach writes, the words are hidden and
        # the form says so; saving asks for the passphrase first, so nothing is lost.
        form = NoteForm(
            f"New private note about {visible(client_name)}",
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
            except (NoteError, SealError, VaultError, common.ActionError) as exc:
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
