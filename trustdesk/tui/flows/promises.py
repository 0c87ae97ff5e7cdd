"""Promises (proof of integrity): add, edit, keep, renegotiate and drop one; undo a close.

Only an open promise can change: a change to one closed elsewhere meanwhile is refused,
and the form says so. Every close (done, dropped, renegotiated) made in this run of the
app can be undone with `u`, most recent first: one key never closes a promise for good.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import common, promises
from trustdesk.trust.promises import Closing, PromiseItem
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, ask_then_perform, perform
from trustdesk.tui.formatting import day
from trustdesk.tui.forms import Field, FormScreen, not_after, not_before

UNDO_HINT = "Press u to undo."

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def promise_words(promise: PromiseItem) -> str:
    return f"“{visible(promise.title)}”, due {day(promise.due_on)}"


def _open_promise(app: TrustdeskApp, commitment_id: int) -> SavedRecord[PromiseItem]:
    """The promise as saved now, while it is still open (a closed one cannot change)."""

    def read() -> PromiseItem | None:
        now = promises.saved_promise(app.coach, commitment_id)
        return now if now is not None and now.can_change else None

    return SavedRecord(read, promise_words, lambda now: {"title": now.title, "due_on": now.due_on})


def _closed(app: TrustdeskApp, closing: Closing) -> Closing:
    """Keep a close for `u`: called on the worker thread right after it was saved."""
    app.call_from_thread(_remember, app, closing)
    return closing


def _remember(app: TrustdeskApp, closing: Closing) -> None:
    app.closings.append(closing)
    app.refresh_bindings()


def _done_on_words(done_on: dt.date, today: dt.date) -> str:
    return "today" if done_on == today else f"on {day(done_on, today, weekday=True)}"


def mark_done(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    """Keep the promise today, at once; the toast says so and that `u` undoes it."""
    today = app.today
    perform(
        app,
        lambda: _closed(
            app, promises.mark_done(app.coach, commitment_id, today, version=version, today=today)
        ),
        f"Done today: {visible(title)}. {UNDO_HINT}",
        done,
    )


def mark_done_on(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    promised_on: dt.date,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    """Keep the promise on a day the coach chooses: not after today, not before it was made."""
    today = app.today
    form = FormScreen(
        "Mark a promise done",
        [
            Field(
                "done_on",
                "Done on",
                kind="date",
                default=today,
                required=True,
                check=_done_on_check(promised_on, today),
            )
        ],
        intro=visible(title),
        save="Mark done",
    )
    ask_then_change(
        app,
        form,
        lambda values, version: _closed(
            app,
            promises.mark_done(
                app.coach, commitment_id, values["done_on"], version=version, today=today
            ),
        ),
        lambda values: (
            f"Done {_done_on_words(values['done_on'], today)}: {visible(title)}. {UNDO_HINT}"
        ),
        done,
        version=version,
        record=_open_promise(app, commitment_id),
    )


def _done_on_check(promised_on: dt.date, today: dt.date):
    before, after = not_before(promised_on, "the day it was promised"), not_after(today, "today")

    def check(value: dt.date) -> None:
        before(value)
        after(value)

    return check


def correct_done_on(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    promised_on: dt.date,
    done_on: dt.date,
    done: Done | None,
    *,
    version: int | None = None,
) -> None:
    """Correct the day a kept promise was kept (follow-through counts it on that day)."""
    today = app.today

    def read() -> PromiseItem | None:
        now = promises.saved_promise(app.coach, commitment_id)
        return now if now is not None and now.can_correct_done_on else None

    form = FormScreen(
        "Correct the done date",
        [
            Field(
                "done_on",
                "Done on",
                kind="date",
                default=done_on,
                required=True,
                check=_done_on_check(promised_on, today),
            )
        ],
        intro=visible(title),
    )
    ask_then_change(
        app,
        form,
        lambda values, version: promises.correct_done_on(
            app.coach, commitment_id, values["done_on"], today, version=version
        ),
        lambda values: f"Now done {_done_on_words(values['done_on'], today)}: {visible(title)}",
        done,
        version=version,
        record=SavedRecord(
            read,
            lambda now: f"“{visible(now.title)}”, done {day(now.done_on)}",
            lambda now: {"done_on": now.done_on},
        ),
    )


def renegotiate(
    app: TrustdeskApp,
    commitment_id: int,
    title: str,
    due_on: dt.date,
    done: Done | None,
    *,
    version: int | None = None,
    owner: str = "coach",
) -> None:
    """A new due date, why, and who asked; whether it was in time follows from the day."""
    today = app.today
    in_time = "in time" if today <= due_on else f"{(today - due_on).days}d late"
    form = FormScreen(
        "Renegotiate a promise",
        [
            Field(
                "due_on",
                "New due date",
                kind="date",
                default=max(today, due_on) + dt.timedelta(days=7),
                required=True,
                check=not_before(today, "today"),
            ),
            Field("reason", "Why is it moved?", required=True),
            Field(
                "asked_by",
                "Who asked?",
                kind="choice",
                choices=[("The client", "client"), ("I did (the coach)", "coach")],
                default=owner if owner in promises.ASKERS else "coach",
                required=True,
            ),
        ],
        intro=f"{visible(title)} (due {day(due_on, today)}, {in_time})",
    )

    ask_then_change(
        app,
        form,
        lambda values, version: _closed(
            app,
            promises.renegotiate(
                app.coach,
                commitment_id,
                values["due_on"],
                today,
                version=version,
                reason=values["reason"],
                asked_by=values["asked_by"],
            ),
        ),
        lambda values: f"Renegotiated, now due {day(values['due_on'], today)}. {UNDO_HINT}",
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
        lambda values, version: _closed(
            app,
            promises.drop(app.coach, commitment_id, values["reason"], today, version=version),
        ),
        f"Dropped: {visible(title)}. {UNDO_HINT}",
        done,
        version=version,
        record=_open_promise(app, commitment_id),
    )


_UNDONE = {
    "done": "marked open again",
    "dropped": "no longer dropped: open again",
    "renegotiated": "back to its old due date; the renegotiated copy is gone",
}


def undo_last(app: TrustdeskApp, done: Done | None) -> None:
    """Undo the most recent close made in this run of the app, exactly.

    A close that can no longer be undone (changed since, here or in another terminal)
    leaves the list with a one-line reason; one the database was too busy for stays, to
    try again.
    """
    if not app.closings:
        app.notify("Nothing to undo: no promise was closed since trustdesk opened.", markup=False)
        return
    closing = app.closings.pop()
    app.refresh_bindings()

    def run() -> None:
        try:
            app.fetch(promises.undo_close, app.coach, closing)
        except common.ActionError as exc:
            app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
        except StoreError as exc:
            app.call_from_thread(_remember, app, closing)
            message = f"Not undone: {exc}. Try again."
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            message = f"Not undone: {failure_line(exc, doing='undo it')}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        else:
            message = f"Undone: “{visible(closing.title)}” {_UNDONE[closing.status]}."
            app.call_from_thread(app.notify, message, markup=False)
        if done is not None:
            app.call_from_thread(done)

    app.run_worker(run, thread=True, group="write", exit_on_error=False)


def add_promise(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    today = app.today
    form = FormScreen(
        f"New promise for {visible(client_name)}",
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
                "Due (e.g. fri, +2w, 3 dec)",
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
        lambda values: promises.add_commitment(
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
                "Due (e.g. fri, +2w, 3 dec)",
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
        lambda values, version: promises.edit_commitment(
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
