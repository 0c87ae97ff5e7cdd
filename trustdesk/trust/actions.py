"""What a coach does from the dashboard: keep, renegotiate or drop a promise, log a touch, snooze.

Each action checks what it is given, writes in one transaction, and refuses with one
plain line (ActionError) rather than guessing. A promise that was closed elsewhere
since the screen loaded it is refused, not silently changed again.
"""

from __future__ import annotations

import datetime as dt

from trustdesk import config
from trustdesk.store.models import (
    COMMITMENT_OWNERS,
    SESSION_STATUSES,
    TOUCH_CHANNELS,
    TOUCH_DIRECTIONS,
    Client,
    Coach,
    Commitment,
    Session,
    Touch,
    db,
    minutes_late,
)
from trustdesk.store.practice import delete_rows

MAX_TEXT = 2000


class ActionError(Exception):
    """The action was not carried out; the message says why in one line."""


class ChangedElsewhere(ActionError):
    """The record was saved elsewhere (another window or terminal) after this copy was read.

    Refused rather than written over: the coach reloads, sees what was saved, and edits again.
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Not saved: {what} was changed elsewhere after you opened it. "
            "It has been reloaded; make your change again."
        )
        self.what = what


def unchanged_since(model, version: int | None):
    """The part of a WHERE that holds only if the row is still at the version that was read.

    None (a caller that read nothing, such as a script) skips the check.
    """
    return True if version is None else (model.version == version)


def refuse_if_changed(model, row_id, coach: Coach, version: int | None, what: str) -> None:
    """After a guarded write matched no row: say whether it was changed or is gone."""
    if (
        version is not None
        and model.select().where((model.id == row_id) & (model.coach == coach)).exists()
    ):
        raise ChangedElsewhere(what)


def change_unless_changed(
    model, row_id, coach: Coach, version: int | None, what: str, gone: ActionError, **changes
) -> None:
    """UPDATE one of the coach's rows, unless it changed since `version` or is gone.

    Refused with ChangedElsewhere, or with `gone` (in the caller's own words).
    """
    updated = (
        model.update(**changes)
        .where((model.id == row_id) & (model.coach == coach) & unchanged_since(model, version))
        .execute()
    )
    if updated != 1:
        refuse_if_changed(model, row_id, coach, version, what)
        raise gone


def _client(coach: Coach, client_id: int) -> Client:
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise ActionError("that client no longer exists")
    return client


def no_nul(value: str, what: str, error: type[Exception] = ActionError) -> str:
    """NUL is the one character PostgreSQL cannot keep in text; refused the same everywhere."""
    if "\x00" in value:
        raise error(f"{what} holds a NUL character (\\x00), which cannot be stored; remove it")
    return value


def _text(value: str, what: str, *, required: bool = True) -> str:
    no_nul(value, what)
    if required and not value.strip():
        raise ActionError(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise ActionError(f"{what} is longer than {MAX_TEXT} characters")
    return value


def _open_commitment(coach: Coach, commitment_id: int) -> Commitment:
    promise = Commitment.get_or_none((Commitment.id == commitment_id) & (Commitment.coach == coach))
    if promise is None:
        raise ActionError("that promise no longer exists")
    if promise.status != "open":
        raise ActionError(f"that promise is already {promise.status}; the list has been refreshed")
    return promise


def _change_open(promise: Commitment, version: int | None = None, **changes) -> None:
    """Change (edit or close) an open promise, unless another window changed it first."""
    updated = (
        Commitment.update(**changes)
        .where(
            (Commitment.id == promise.id)
            & (Commitment.status == "open")
            & unchanged_since(Commitment, version)
        )
        .execute()
    )
    if updated != 1:
        raise ChangedElsewhere("that promise")


# --- promises ----------------------------------------------------------------------


def add_commitment(
    coach: Coach,
    client_id: int,
    *,
    owner: str,
    title: str,
    due_on: dt.date,
    promised_on: dt.date,
) -> int:
    client = _client(coach, client_id)
    if owner not in COMMITMENT_OWNERS:
        raise ActionError(f"a promise is owed by the coach or the client, not {owner!r}")
    _text(title, "what was promised")
    if due_on < promised_on:
        raise ActionError("the due date is before the day it was promised")
    with db.atomic():
        return Commitment.create(
            coach=coach,
            client=client,
            owner=owner,
            title=title,
            promised_on=promised_on,
            due_on=due_on,
        ).id


def edit_commitment(
    coach: Coach,
    commitment_id: int,
    *,
    title: str,
    due_on: dt.date,
    version: int | None = None,
) -> None:
    promise = _open_commitment(coach, commitment_id)
    _text(title, "what was promised")
    if due_on < promise.promised_on:
        raise ActionError("the due date is before the day it was promised")
    with db.atomic():
        _change_open(promise, version, title=title, due_on=due_on)


def mark_done(
    coach: Coach, commitment_id: int, done_on: dt.date, *, version: int | None = None
) -> None:
    promise = _open_commitment(coach, commitment_id)
    if done_on < promise.promised_on:
        raise ActionError("a promise cannot be kept before it was made")
    with db.atomic():
        _change_open(promise, version, status="done", done_on=done_on)


def renegotiate(
    coach: Coach,
    commitment_id: int,
    new_due: dt.date,
    today: dt.date,
    *,
    version: int | None = None,
) -> int:
    """Close the promise as renegotiated and open its successor with the new due date.

    The successor is the one follow-through counts; renegotiating is honest, not a failure.
    """
    promise = _open_commitment(coach, commitment_id)
    if new_due < today:
        raise ActionError("the new due date is in the past")
    if new_due == promise.due_on:
        raise ActionError("the new due date is the same as the old one")
    with db.atomic():
        _change_open(promise, version, status="renegotiated", done_on=today)
        return Commitment.create(
            coach=coach,
            client=promise.client_id,
            owner=promise.owner,
            title=promise.title,
            promised_on=today,
            due_on=new_due,
            renegotiated_from=promise.id,
        ).id


def drop(
    coach: Coach,
    commitment_id: int,
    reason: str,
    today: dt.date,
    *,
    version: int | None = None,
) -> None:
    promise = _open_commitment(coach, commitment_id)
    _text(reason, "the reason")
    with db.atomic():
        _change_open(promise, version, status="dropped", done_on=today, reason=reason)


# --- contact -------------------------------------------------------------------------


def _check_touch(
    channel: str, direction: str, summary: str, occurred_on: dt.date, today: dt.date, verb: str
) -> None:
    """What a new touch and a corrected one must both be."""
    if channel not in TOUCH_CHANNELS:
        raise ActionError(f"unknown channel {channel!r}")
    if direction not in TOUCH_DIRECTIONS:
        raise ActionError(f"unknown direction {direction!r}")
    _text(summary, "the summary", required=False)
    if occurred_on > today:
        raise ActionError(f"a touch cannot be {verb} in the future")


def log_touch(
    coach: Coach,
    client_id: int,
    *,
    channel: str,
    direction: str,
    summary: str,
    occurred_on: dt.date,
    today: dt.date,
    counts_for_cadence: bool = True,
) -> int:
    client = _client(coach, client_id)
    _check_touch(channel, direction, summary, occurred_on, today, "logged")
    with db.atomic():
        return Touch.create(
            coach=coach,
            client=client,
            occurred_on=occurred_on,
            channel=channel,
            direction=direction,
            summary=summary,
            counts_for_cadence=counts_for_cadence,
        ).id


def snooze(coach: Coach, client_id: int, until: dt.date | None, today: dt.date) -> None:
    """Hold a client's cadence until a date (through that day); None lifts the snooze."""
    client = _client(coach, client_id)
    if until is not None and until < today:
        raise ActionError("a snooze must end today or later")
    with db.atomic():
        Client.update(snoozed_until=until).where(Client.id == client.id).execute()


# --- sessions --------------------------------------------------------------------------


def schedule_session(
    coach: Coach, client_id: int, *, start: dt.datetime, duration_minutes: int = 60
) -> int:
    client = _client(coach, client_id)
    if not 5 <= duration_minutes <= 8 * 60:
        raise ActionError("a session lasts between 5 minutes and 8 hours")
    with db.atomic():
        return Session.create(
            coach=coach,
            client=client,
            scheduled_start=start.replace(second=0, microsecond=0),
            duration_minutes=duration_minutes,
            stage=client.stage_id,
        ).id


def set_session_status(
    coach: Coach,
    session_id: int,
    status: str,
    *,
    actual_start: dt.datetime | None = None,
    version: int | None = None,
) -> None:
    """Record what happened to a session; a held one keeps how late it started."""
    session = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    if session is None:
        raise ActionError("that session no longer exists")
    if status not in SESSION_STATUSES:
        raise ActionError(f"unknown session status {status!r}")
    if session.status == "held" and status != "held":
        # A held session's record (when it began, how late) is history; it is not undone here.
        raise ActionError("that session was held; its record stays as it is")
    changes: dict[str, object] = {"status": status, "actual_start": None, "late_minutes": None}
    if status == "held":
        actual = (actual_start or session.scheduled_start).replace(second=0, microsecond=0)
        if actual > config.now():
            raise ActionError("a session cannot be marked held before it has started")
        changes["actual_start"] = actual
        changes["late_minutes"] = minutes_late(session.scheduled_start, actual)
    with db.atomic():
        updated = (
            Session.update(**changes)
            .where(
                (Session.id == session.id)
                & (Session.status == session.status)
                & unchanged_since(Session, version)
            )
            .execute()
        )
    if updated != 1:
        raise ChangedElsewhere("that session")


def _scheduled_session(coach: Coach, session_id: int) -> Session:
    session = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    if session is None:
        raise ActionError("that session no longer exists")
    if session.status != "scheduled":
        word = session.status.replace("_", " ")
        raise ActionError(f"that session is already {word}; only a scheduled one can be moved")
    return session


def reschedule_session(
    coach: Coach,
    session_id: int,
    *,
    start: dt.datetime,
    duration_minutes: int,
    version: int | None = None,
) -> None:
    """Move a session that is still to happen (or length it); one that happened stays put."""
    session = _scheduled_session(coach, session_id)
    if not 5 <= duration_minutes <= 8 * 60:
        raise ActionError("a session lasts between 5 minutes and 8 hours")
    with db.atomic():
        updated = (
            Session.update(
                scheduled_start=start.replace(second=0, microsecond=0),
                duration_minutes=duration_minutes,
            )
            .where(
                (Session.id == session.id)
                & (Session.status == "scheduled")
                & unchanged_since(Session, version)
            )
            .execute()
        )
    if updated != 1:
        raise ChangedElsewhere("that session")


# --- contact, corrected ----------------------------------------------------------------------


def _touch(coach: Coach, touch_id: int) -> Touch:
    touch = Touch.get_or_none((Touch.id == touch_id) & (Touch.coach == coach))
    if touch is None:
        raise ActionError("that touch no longer exists")
    return touch


def edit_touch(
    coach: Coach,
    touch_id: int,
    *,
    channel: str,
    direction: str,
    summary: str,
    occurred_on: dt.date,
    today: dt.date,
    counts_for_cadence: bool,
    version: int | None = None,
) -> None:
    """Correct a logged touch: checked as log_touch checks a new one."""
    touch = _touch(coach, touch_id)
    _check_touch(channel, direction, summary, occurred_on, today, "dated")
    if not isinstance(counts_for_cadence, bool):
        raise ActionError("whether a touch counts for cadence is yes or no")
    with db.atomic():
        change_unless_changed(
            Touch,
            touch.id,
            coach,
            version,
            "that touch",
            ActionError("that touch no longer exists"),
            channel=channel,
            direction=direction,
            summary=summary,
            occurred_on=occurred_on,
            counts_for_cadence=counts_for_cadence,
        )


def remove_touch(coach: Coach, touch_id: int, *, version: int | None = None) -> None:
    """Take back a touch logged by mistake (not one corrected elsewhere meanwhile)."""
    touch = _touch(coach, touch_id)
    with db.atomic():
        removed = delete_rows(
            Touch, (Touch.id == touch.id) & (Touch.coach == coach) & unchanged_since(Touch, version)
        )
    if removed != 1:
        refuse_if_changed(Touch, touch.id, coach, version, "that touch")
        raise ActionError("that touch no longer exists")
