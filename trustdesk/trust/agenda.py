"""The agenda: what needs the coach today, read in one place for `trustdesk today` (and
anything else that tells the coach their day).

Today's sessions with their times, promises due today and in the week ahead (the coach's
own first), clients due for contact, sessions whose time is over that still wait for an
outcome, and clients who fell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trustdesk.store.models import Coach
from trustdesk.trust import contact, sessions
from trustdesk.trust.promises import DueSoonPromise, due_soon

WEEK_DAYS = 7


@dataclass(frozen=True)
class Agenda:
    today: dt.date
    sessions: tuple
    due_today: tuple[DueSoonPromise, ...]
    due_this_week: tuple[DueSoonPromise, ...]
    due_for_contact: tuple
    awaiting_outcome: tuple
    fell: tuple

    @property
    def empty(self) -> bool:
        return not (
            self.sessions or self.due_today or self.due_this_week or self.due_for_contact
            or self.awaiting_outcome or self.fell
        )  # fmt: skip


def build_agenda(coach: Coach, today: dt.date, now: dt.datetime) -> Agenda:
    due = due_soon(coach, today, WEEK_DAYS)
    return Agenda(
        today=today,
        sessions=tuple(sessions.sessions_on(coach, today)),
        due_today=tuple(p for p in due if p.days_left == 0),
        due_this_week=tuple(p for p in due if p.days_left > 0),
        due_for_contact=tuple(contact.cadence(coach, today, needing_contact=True)),
        awaiting_outcome=tuple(sessions.awaiting_outcome(coach, now)),
        fell=tuple(contact.falls(coach, today)),
    )
