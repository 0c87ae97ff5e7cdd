"""Proof of integrity, sessions: punctuality, the week's sessions, and scheduling, moving
and recording what happened to a session.

Reads run a fixed number of queries and aggregate in the database. Each write checks
what it is given, runs in one transaction, and refuses with one plain line (ActionError);
a session changed elsewhere since it was read is refused, not written over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import Case, fn

from trustdesk import config
from trustdesk.store.models import Client, Coach, Session, db, minutes_late
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
                       s.duration_minutes, SessionStatus(s.status), s.version)  # fmt: skip


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
    if status not in tuple(SessionStatus):
        raise ActionError(f"unknown session status {status!r}")
    if not SessionStatus(session.status).allows(status):
        # A held session's record (when it began, how late) is history; it is not undone here.
        raise ActionError("that session was held; its record stays as it is")
    changes: dict[str, object] = {"status": status, "actual_start": None, "late_minutes": None}
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
