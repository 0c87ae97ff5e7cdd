"""A calendar file of what is coming: scheduled sessions and the due dates of open promises.

Text values never hold control characters (RFC 5545 does not allow them): they are
shown as escapes, the way every screen shows them. Written with `icalendar`, so any
calendar can subscribe to or import it. Session times are written as floating local
times, the way the coach typed them. Each event keeps a stable UID, so importing a
newer file updates events rather than doubling them.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from trustdesk import __version__
from trustdesk.literal import visible
from trustdesk.store.models import Client, Coach, Commitment, Session
from trustdesk.store.states import PromiseState, SessionStatus


def _uid(kind: str, row_id: int, coach: Coach) -> str:
    return f"{kind}-{row_id}-coach-{coach.id}@trustdesk"


def practice_calendar(coach: Coach, today: dt.date) -> Calendar:
    """Sessions still scheduled from today on, and open promises with their due dates."""
    calendar = Calendar()
    calendar.add("prodid", f"-//trustdesk//trustdesk {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"trustdesk: {visible(coach.name)}")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start_of_today = dt.datetime.combine(today, dt.time.min)

    sessions = (
        Session.select(Session, Client.name)
        .join(Client)
        .where(
            (Session.coach == coach)
            & (Session.status == SessionStatus.SCHEDULED)
            & (Session.scheduled_start >= start_of_today)
        )
        .order_by(Session.scheduled_start)
    )
    for session in sessions:
        event = Event()
        event.add("uid", _uid("session", session.id, coach))
        event.add("dtstamp", stamp)
        event.add("dtstart", session.scheduled_start)
        event.add("dtend", session.scheduled_start + dt.timedelta(minutes=session.duration_minutes))
        event.add("summary", f"Coaching session: {visible(session.client.name)}")
        event.add("categories", ["coaching session"])
        calendar.add_component(event)

    promises = (
        Commitment.select(Commitment, Client.name)
        .join(Client)
        .where((Commitment.coach == coach) & (Commitment.status == PromiseState.OPEN))
        .order_by(Commitment.due_on)
    )
    for promise in promises:
        if promise.owner == "coach":
            description = f"You promised {visible(promise.client.name)}: {visible(promise.title)}"
        else:
            description = f"{visible(promise.client.name)} promised: {visible(promise.title)}"
        event = Event()
        event.add("uid", _uid("promise", promise.id, coach))
        event.add("dtstamp", stamp)
        event.add("dtstart", promise.due_on)
        event.add("dtend", promise.due_on + dt.timedelta(days=1))
        event.add("summary", f"Due: {visible(promise.title)}")
        event.add("description", description)
        event.add("categories", ["promise due"])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar


def practice_ics(coach: Coach, today: dt.date) -> bytes:
    return practice_calendar(coach, today).to_ical()
