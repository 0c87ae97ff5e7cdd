"""Proof of integrity, sessions: punctuality, the week's sessions, and scheduling, moving
and recording what happened to a session.

Reads run a fixed number of queries and aggregate in the database. Each write checks
what it is given, runs in one transaction, and refuses with one plain line (ActionError);
a session changed elsewhere since it was read is refused, not written over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import Case, IntegrityError, fn

from trustdesk import config
from trustdesk.store.models import CANCELLED_BY, Client, Coach, Session, Touch, db, minutes_late
from trustdesk.store.practice import delete_rows
from trustdesk.store.states import ClientStatus, SessionStatus
from trustdesk.trust.common import (
    ActionError,
    ChangedElsewhere,
    Rate,
    as_datetime,
    coach_client,
    rates,
    unchanged_since,
)

PUNCTUALITY_DAYS = 90


@dataclass(frozen=True)
class Punctuality:
    """Held sessions that started within the grace of their scheduled time."""

    window_start: dt.date
    window_end: dt.date
    grace_minutes: int
    practice: Rate
    by_client: dict[int, Rate] = field(default_factory=dict)


@dataclass(frozen=True)
class WeekSession:
    session_id: int
    client_id: int
    client_name: str
    scheduled_start: dt.datetime
    status: SessionStatus


@dataclass(frozen=True)
class SessionItem:
    """One of a client's sessions, as the workspace lists it."""

    session_id: int
    scheduled_start: dt.datetime
    actual_start: dt.datetime | None
    late_minutes: int | None
    duration_minutes: int
    status: SessionStatus
    version: int = 1  # as read; a save from this copy is refused once it has changed
    cancelled_by: str | None = None  # "client" or "coach", for a (late) cancelled one

    def allows(self, status: str) -> bool:
        """Whether this session may be marked `status` (a held one only held again)."""
        return self.status.allows(status)

    @property
    def can_move(self) -> bool:
        """Only a session still to happen can be moved to another time."""
        return self.status.can_move


# --- reads ---------------------------------------------------------------------------


def punctuality_parts(coach: Coach, today: dt.date, grace_minutes: int, days: int):
    """(window start, which held sessions count, whether each began on time)."""
    start = today - dt.timedelta(days=days - 1)
    window_start = dt.datetime.combine(start, dt.time.min)
    window_end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    on_time = Case(None, [(Session.late_minutes <= grace_minutes, 1)], 0)
    where = (
        (Session.coach == coach)
        & (Session.status == SessionStatus.HELD)
        & (Session.late_minutes.is_null(False))
        & (Session.scheduled_start >= window_start)
        & (Session.scheduled_start < window_end)
    )
    return start, where, on_time


def punctuality(
    coach: Coach,
    today: dt.date,
    *,
    grace_minutes: int = 5,
    days: int = PUNCTUALITY_DAYS,
    practice_only: bool = False,
) -> Punctuality:
    """Held sessions over the last `days` days that began no later than the grace allows.

    A held session with no recorded start time is left out rather than guessed at.
    """
    start, where, on_time = punctuality_parts(coach, today, grace_minutes, days)
    if practice_only:
        kept_n, counted_n = (
            Session.select(fn.SUM(on_time), fn.COUNT(Session.id)).where(where).tuples()[0]
        )
        return Punctuality(start, today, grace_minutes, Rate(int(kept_n or 0), int(counted_n)))
    query = (
        Session.select(Session.client, fn.SUM(on_time), fn.COUNT(Session.id))
        .where(where)
        .group_by(Session.client)
    )
    by_client, practice = rates(query)
    return Punctuality(start, today, grace_minutes, practice, by_client)


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday of the week that holds `today`."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def sessions_this_week(coach: Coach, today: dt.date) -> list[WeekSession]:
    """Sessions scheduled, held or missed this week (Monday to Sunday), in time order."""
    monday, sunday = week_of(today)
    start = dt.datetime.combine(monday, dt.time.min)
    end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min)
    query = (
        Session.select(Session.id, Session.client, Client.name, Session.scheduled_start,
                       Session.status)
        .join(Client)
        .where((Session.coach == coach) & (Session.scheduled_start >= start)
               & (Session.scheduled_start < end) & (Session.status != SessionStatus.CANCELLED)
               & (Client.status != ClientStatus.ARCHIVED))
        .order_by(Session.scheduled_start, Session.id)
    )  # fmt: skip
    return [
        WeekSession(sid, cid, name, as_datetime(at), SessionStatus(status))
        for sid, cid, name, at, status in query.tuples()
    ]


def session_item(s: Session) -> SessionItem:
    return SessionItem(s.id, s.scheduled_start, s.actual_start, s.late_minutes,
                       s.duration_minutes, SessionStatus(s.status), s.version,
                       s.cancelled_by)  # fmt: skip


def client_sessions(client_id: int) -> tuple[SessionItem, ...]:
    """A client's sessions, the latest first."""
    return tuple(
        session_item(s)
        for s in Session.select().where(Session.client == client_id)
        .order_by(Session.scheduled_start.desc())
    )  # fmt: skip


def saved_session(coach: Coach, session_id: int) -> SessionItem | None:
    """A session as it is saved now, or None once it is gone."""
    row = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    return None if row is None else session_item(row)


# --- writes --------------------------------------------------------------------------


def schedule_session(
    coach: Coach, client_id: int, *, start: dt.datetime, duration_minutes: int = 60
) -> int:
    client = coach_client(coach, client_id)
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


CANCELLING = (SessionStatus.CANCELLED, SessionStatus.LATE_CANCEL)
HELD_TOUCH_SUMMARY = "Session held"


def set_session_status(
    coach: Coach,
    session_id: int,
    status: str,
    *,
    actual_start: dt.datetime | None = None,
    version: int | None = None,
    cancelled_by: str | None = None,
) -> None:
    """Record what happened to a session; a held one keeps how late it started.

    A held session is contact: the same transaction writes its one counted touch (channel
    "session", on the day it began), and marking it anything else takes that touch back.
    A cancelled one keeps who called it off, when that is known.
    """
    session = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    if session is None:
        raise ActionError("that session no longer exists")
    if status not in tuple(SessionStatus):
        raise ActionError(f"unknown session status {status!r}")
    if not SessionStatus(session.status).allows(status):
        raise ActionError(f"that session is already {status.replace('_', ' ')}")
    if cancelled_by is not None:
        if status not in CANCELLING:
            raise ActionError("only a cancelled session records who cancelled it")
        if cancelled_by not in CANCELLED_BY:
            raise ActionError(
                f"a session is cancelled by the client or the coach, not {cancelled_by!r}"
            )
    changes: dict[str, object] = {
        "status": status,
        "actual_start": None,
        "late_minutes": None,
        "cancelled_by": cancelled_by,
    }
    actual = None
    if status == SessionStatus.HELD:
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
        if actual is not None:
            _hold_as_contact(coach, session, actual.date())
        elif session.status == SessionStatus.HELD:
            _take_back_contact(coach, session.id)


def _held_touch(coach: Coach, session_id: int) -> Touch | None:
    return Touch.get_or_none((Touch.coach == coach) & (Touch.session == session_id))


def _hold_as_contact(coach: Coach, session: Session, day: dt.date) -> None:
    """The held session's touch: written once, dated the day it began (a corrected start
    moves it). The unique (coach, session) key settles two terminals holding it at once:
    the second insert is refused and that terminal dates the first one instead."""
    touch = _held_touch(coach, session.id)
    if touch is None:
        try:
            with db.atomic():  # a savepoint: a refused insert leaves the write going on
                Touch.create(
                    coach=coach,
                    client=session.client_id,
                    occurred_on=day,
                    channel="session",
                    direction="outbound",
                    counts_for_cadence=True,
                    summary=HELD_TOUCH_SUMMARY,
                    session=session.id,
                )
            return
        except IntegrityError:
            touch = _held_touch(coach, session.id)
            if touch is None:
                raise
    if touch.occurred_on != day:
        Touch.update(occurred_on=day).where(Touch.id == touch.id).execute()


def _take_back_contact(coach: Coach, session_id: int) -> None:
    touch = _held_touch(coach, session_id)
    if touch is not None:
        delete_rows(Touch, (Touch.id == touch.id) & (Touch.coach == coach))


def _scheduled_session(coach: Coach, session_id: int) -> Session:
    session = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    if session is None:
        raise ActionError("that session no longer exists")
    if not SessionStatus(session.status).can_move:
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
                & (Session.status == SessionStatus.SCHEDULED)
                & unchanged_since(Session, version)
            )
            .execute()
        )
    if updated != 1:
        raise ChangedElsewhere("that session")


# --- the agenda ----------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaSession:
    """A session as the agenda and `session list` show it: whose, when, how long, how it went."""

    session_id: int
    client_id: int
    client_name: str
    scheduled_start: dt.datetime
    duration_minutes: int
    status: SessionStatus
    cancelled_by: str | None = None
    version: int = 1  # as read; a save from this copy is refused once it has changed

    @property
    def ends(self) -> dt.datetime:
        return self.scheduled_start + dt.timedelta(minutes=self.duration_minutes)

    def item(self) -> SessionItem:
        """The session as the flows that record what happened take it."""
        return SessionItem(self.session_id, self.scheduled_start, None, None,
                           self.duration_minutes, self.status, self.version,
                           self.cancelled_by)  # fmt: skip


@dataclass(frozen=True)
class DayAgenda:
    """A day's sessions with their times, and the sessions still waiting for an outcome."""

    day: dt.date
    sessions: tuple[AgendaSession, ...]
    awaiting_outcome: tuple[AgendaSession, ...]


LONGEST_SESSION = dt.timedelta(minutes=8 * 60)


def _agenda_query(coach: Coach):
    return (
        Session.select(Session.id, Session.client, Client.name, Session.scheduled_start,
                       Session.duration_minutes, Session.status, Session.cancelled_by,
                       Session.version)
        .join(Client)
        .where((Session.coach == coach) & (Client.status != ClientStatus.ARCHIVED))
        .order_by(Session.scheduled_start, Session.id)
    )  # fmt: skip


def _agenda_rows(query) -> list[AgendaSession]:
    return [
        AgendaSession(sid, cid, name, as_datetime(at), minutes, SessionStatus(status), by, v)
        for sid, cid, name, at, minutes, status, by, v in query.tuples()
    ]


def sessions_between(
    coach: Coach, start: dt.datetime, end: dt.datetime | None, *, statuses=None
) -> list[AgendaSession]:
    """The coach's sessions that start in [start, end) (no end: from start on), in time
    order; archived clients' sessions are left out, as archived clients leave every list."""
    query = _agenda_query(coach).where(Session.scheduled_start >= start)
    if end is not None:
        query = query.where(Session.scheduled_start < end)
    if statuses is not None:
        query = query.where(Session.status << tuple(statuses))
    return _agenda_rows(query)


def sessions_on(coach: Coach, day: dt.date) -> list[AgendaSession]:
    """A day's sessions with their times, cancelled ones left out: the day's agenda."""
    start = dt.datetime.combine(day, dt.time.min)
    kept = [s for s in SessionStatus if s is not SessionStatus.CANCELLED]
    return sessions_between(coach, start, start + dt.timedelta(days=1), statuses=kept)


def upcoming_sessions(coach: Coach, now: dt.datetime) -> list[AgendaSession]:
    """Sessions still to come: scheduled, starting from now on."""
    return sessions_between(coach, now, None, statuses=(SessionStatus.SCHEDULED,))


def awaiting_outcome(coach: Coach, now: dt.datetime) -> list[AgendaSession]:
    """Sessions whose time is over but that still say "scheduled", oldest first: each waits
    for the coach to say how it went (held, cancelled late, a no-show). A session still
    under way is not waiting yet."""
    query = _agenda_query(coach).where(
        (Session.status == SessionStatus.SCHEDULED) & (Session.scheduled_start < now)
    )
    return [s for s in _agenda_rows(query) if s.ends <= now]


def overlapping(
    coach: Coach, start: dt.datetime, duration_minutes: int, *, leave_out: int | None = None
) -> list[AgendaSession]:
    """The coach's scheduled or held sessions that share any minute with this time.

    A warning, not a refusal: a coach may book two clients at once on purpose.
    """
    start = start.replace(second=0, microsecond=0)
    end = start + dt.timedelta(minutes=duration_minutes)
    near = sessions_between(
        coach,
        start - LONGEST_SESSION,
        end,
        statuses=(SessionStatus.SCHEDULED, SessionStatus.HELD),
    )
    return [
        s for s in near if s.session_id != leave_out and s.scheduled_start < end and s.ends > start
    ]


def day_agenda(coach: Coach, today: dt.date, now: dt.datetime) -> DayAgenda:
    """Today's sessions and those still waiting for an outcome (an earlier one of today's
    that is over is in both: it is on the day and waits to be recorded)."""
    return DayAgenda(today, tuple(sessions_on(coach, today)), tuple(awaiting_outcome(coach, now)))
