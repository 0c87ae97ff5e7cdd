"""Sessions (proof of integrity: punctuality): schedule, reschedule, and say how one went.

A session that has ended (held, cancelled, no-show) is not moved; marking one held
asks when it really started, never later than now; cancelling one asks who called it
off. A new or moved session that overlaps another is saved, with a warning that says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.trust import SessionStatus, sessions
from trustdesk.trust.sessions import AgendaSession, SessionItem
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, ask_then_perform, perform
from trustdesk.tui.formatting import day
from trustdesk.tui.forms import Field, FormScreen, Invalid
from trustdesk.tui.labels import CANCELLED_BY_WORDS, SESSION_STATUS_WORDS

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def schedule_session(
    app: TrustdeskApp, client_id: int, client_name: str, done: Done | None
) -> None:
    start = dt.datetime.combine(app.today + dt.timedelta(days=7), dt.time(10, 0))
    form = FormScreen(
        f"Schedule a session with {visible(client_name)}",
        [
            Field("start", "Starts (e.g. fri 10:00)", kind="datetime", default=start,
                  required=True),
            Field("duration", "Minutes", kind="number", default=60, required=True,
                  minimum=5, maximum=480),
        ],
    )  # fmt: skip

    def work(values: dict) -> None:
        start, minutes = values["start"], values["duration"]
        made = sessions.schedule_session(
            app.coach, client_id, start=start, duration_minutes=minutes
        )
        warn_of_overlaps(app, start, minutes, made)

    ask_then_perform(
        app,
        form,
        work,
        lambda values: f"Session scheduled for {when(values['start'], app.today)}",
        done,
    )


def when(at: dt.datetime, today: dt.date) -> str:
    """'Wed 02 Dec 10:00', with the year when it is not this year's."""
    return day(at, today, weekday=True, clock=True)


def overlap_words(others: list[AgendaSession], today: dt.date) -> str:
    """The warning a new or moved session gets when it shares time with others."""
    said = "; ".join(
        f"{visible(o.client_name)}, {when(o.scheduled_start, today)}–{o.ends:%H:%M}"
        for o in others[:3]
    )
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return f"It overlaps your session with {said}{more}."


def warn_of_overlaps(app: TrustdeskApp, start: dt.datetime, minutes: int, session_id: int) -> None:
    """After a save (on the worker thread): say so if the session shares time with another."""
    others = sessions.overlapping(app.coach, start, minutes, leave_out=session_id)
    if others:
        message = overlap_words(others, app.today)
        app.call_from_thread(app.notify, message, severity="warning", markup=False)


def _held_start(session: SessionItem) -> dt.datetime:
    """When a held session started, as the form offers it: as recorded, or as scheduled."""
    return session.actual_start or session.scheduled_start


def mark_session_held(app: TrustdeskApp, session: SessionItem, done: Done | None) -> None:
    now = config.now()
    start = _held_start(session)
    form = FormScreen(
        "Session held",
        [
            Field("actual", "Started at (e.g. today 10:05)", kind="datetime", default=start,
                  required=True, check=not_after_moment(now)),
        ],
        intro=f"Scheduled for {day(session.scheduled_start, clock=True)}.",
    )  # fmt: skip

    ask_then_change(
        app,
        form,
        lambda values, version: sessions.set_session_status(
            app.coach, session.session_id, "held", actual_start=values["actual"], version=version
        ),
        "Session marked held",
        done,
        version=session.version,
        record=_session_while(
            app,
            session.session_id,
            lambda now: now.status is not SessionStatus.HELD,
            fields=lambda now: {"actual": _held_start(now)},
        ),
    )


def session_words(session: SessionItem) -> str:
    status = SESSION_STATUS_WORDS.get(session.status, session.status)
    return (
        f"{day(session.scheduled_start, clock=True)}, {session.duration_minutes} minutes, {status}"
    )


def _session_while(
    app: TrustdeskApp,
    session_id: int,
    still: Callable[[SessionItem], bool],
    fields: Callable[[SessionItem], dict[str, Any]],
) -> SavedRecord[SessionItem]:
    """The session as saved now, while the change asked for still applies to it."""

    def read() -> SessionItem | None:
        now = sessions.saved_session(app.coach, session_id)
        return now if now is not None and still(now) else None

    return SavedRecord(read, session_words, fields)


def not_after_moment(moment: dt.datetime):
    def check(value: dt.datetime) -> None:
        if value > moment:
            raise Invalid("a session cannot have started in the future")

    return check


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
        lambda: sessions.set_session_status(app.coach, session_id, status, version=version),
        f"Session marked {SESSION_STATUS_WORDS[status]}",
        done,
    )


def _timing(session: SessionItem) -> dict[str, Any]:
    """A session's start and length, as the reschedule form holds them."""
    return {"start": session.scheduled_start, "duration": session.duration_minutes}


def reschedule_session(app: TrustdeskApp, session: SessionItem, done: Done | None) -> None:
    """Move a session that is still scheduled to another time, or change how long it is."""
    timing = _timing(session)
    form = FormScreen(
        "Reschedule a session",
        [
            Field("start", "Starts (e.g. fri 10:00)", kind="datetime", default=timing["start"],
                  required=True),
            Field("duration", "Minutes", kind="number", default=timing["duration"],
                  required=True, minimum=5, maximum=480),
        ],
        intro=f"Now {day(timing['start'], clock=True)}, {timing['duration']} minutes.",
        save="Reschedule",
    )  # fmt: skip

    def change(values: dict, version: int | None) -> None:
        start, minutes = values["start"], values["duration"]
        sessions.reschedule_session(
            app.coach, session.session_id, start=start, duration_minutes=minutes, version=version
        )
        warn_of_overlaps(app, start, minutes, session.session_id)

    ask_then_change(
        app,
        form,
        change,
        lambda values: f"Session moved to {when(values['start'], app.today)}",
        done,
        version=session.version,
        record=_session_while(app, session.session_id, lambda now: now.can_move, fields=_timing),
    )


CANCELLING = {"cancelled": "Session cancelled", "late_cancel": "Late cancel"}


def cancel_session(app: TrustdeskApp, session: SessionItem, status: str, done: Done | None) -> None:
    """Mark a session cancelled (or cancelled late), saying who called it off."""
    form = FormScreen(
        CANCELLING[status],
        [
            Field("by", "Who called it off?", kind="choice", default=session.cancelled_by
                  or "client", required=True,
                  choices=[(CANCELLED_BY_WORDS[w], w) for w in ("client", "coach")]),
        ],
        intro=f"{session_words(session)}.",
        save="Mark cancelled" if status == "cancelled" else "Mark late cancel",
    )  # fmt: skip
    word = SESSION_STATUS_WORDS[status]
    ask_then_change(
        app,
        form,
        lambda values, version: sessions.set_session_status(
            app.coach, session.session_id, status, cancelled_by=values["by"], version=version
        ),
        lambda values: f"Session marked {word} (by {CANCELLED_BY_WORDS[values['by']].lower()})",
        done,
        version=session.version,
        record=_session_while(
            app,
            session.session_id,
            lambda now: now.allows(status),
            fields=lambda now: {"by": now.cancelled_by or "client"},
        ),
    )
