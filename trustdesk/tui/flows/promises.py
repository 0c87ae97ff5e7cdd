"""Promises (proof of integrity): add, edit, keep, renegotiate and drop one.

Only an open promise can change: a change to one closed elsewhere meanwhile is refused,
and the form says so.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.trust import promises
from trustdesk.trust.promises import PromiseItem
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, ask_then_perform, perform
from trustdesk.tui.formatting import day
from trustdesk.tui.forms import Field, FormScreen, not_before

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
        lambda: promises.mark_done(app.coach, commitment_id, today, version=version),
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
        lambda values, version: promises.renegotiate(
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
        lambda values, version: promises.drop(
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
