"""`trustdesk today [--json]`: the agenda, what needs the coach today.

Today's sessions with their times, promises due today and in the week ahead (the coach's
own first), clients due for contact, sessions whose time is over that still wait for an
outcome, and clients who fell. One line when there is nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, _fit_terminal, _open, _out, _out_data

WEEK_DAYS = 7


def register(sub, common) -> dict:
    today = sub.add_parser(
        "today",
        parents=[common],
        help="the agenda: sessions, promises due, who to contact, what waits for an outcome",
    )
    today.add_argument("--json", action="store_true", help="machine-readable output")
    return {"today": cmd_today}


@dataclass(frozen=True)
class DuePromise:
    commitment_id: int
    client_id: int
    client_name: str
    owner: str
    title: str
    due_on: dt.date


@dataclass(frozen=True)
class Agenda:
    today: dt.date
    sessions: list
    due_today: list[DuePromise]
    due_this_week: list[DuePromise]
    due_for_contact: list
    awaiting_outcome: list
    fell: list

    @property
    def empty(self) -> bool:
        return not (
            self.sessions or self.due_today or self.due_this_week or self.due_for_contact
            or self.awaiting_outcome or self.fell
        )  # fmt: skip


def promises_due(coach, first: dt.date, last: dt.date) -> list[DuePromise]:
    """Open promises due from `first` to `last`: the coach's own first, then by due day.

    (A small query of this command's own; the promises rules gain a "due soon" of theirs.)
    """
    from peewee import Case

    from trustdesk.store.models import Client, Commitment
    from trustdesk.store.states import ClientStatus, PromiseState

    mine_first = Case(None, [(Commitment.owner == "coach", 0)], 1)
    query = (
        Commitment.select(Commitment.id, Commitment.client, Client.name, Commitment.owner,
                          Commitment.title, Commitment.due_on)
        .join(Client)
        .where((Commitment.coach == coach) & (Commitment.status == PromiseState.OPEN)
               & (Commitment.due_on >= first) & (Commitment.due_on <= last)
               & (Client.status != ClientStatus.ARCHIVED))
        .order_by(mine_first, Commitment.due_on, Client.sort_name, Commitment.id)
    )  # fmt: skip
    from trustdesk.trust.common import as_date

    return [
        DuePromise(pid, cid, name, owner, title, as_date(due))
        for pid, cid, name, owner, title, due in query.tuples()
    ]


def build_agenda(coach, today: dt.date, now: dt.datetime) -> Agenda:
    from trustdesk.trust import contact, sessions

    return Agenda(
        today=today,
        sessions=sessions.sessions_on(coach, today),
        due_today=promises_due(coach, today, today),
        due_this_week=promises_due(
            coach, today + dt.timedelta(days=1), today + dt.timedelta(days=WEEK_DAYS)
        ),
        due_for_contact=[c for c in contact.cadence(coach, today) if c.needs_contact],
        awaiting_outcome=sessions.awaiting_outcome(coach, now),
        fell=contact.falls(coach, today),
    )


def cmd_today(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    database = _open(args)
    try:
        agenda = build_agenda(current_coach(), config.today(), config.now())
    finally:
        database.close()
    if args.json:
        from trustdesk.literal import json_text

        _out_data(json_text(agenda_json(agenda)) + "\n")
    else:
        _out(_fit_terminal(agenda_text(agenda)) + "\n")
    return EXIT_OK


def day_words(day: dt.date, today: dt.date) -> str:
    """'Tue 24 Nov', with the year when it is not this year's."""
    return day.strftime("%a %d %b" if day.year == today.year else "%a %d %b %Y")


def _promise_json(p: DuePromise) -> dict[str, object]:
    return {
        "id": p.commitment_id,
        "client_id": p.client_id,
        "client": p.client_name,
        "owner": p.owner,
        "title": p.title,
        "due_on": p.due_on.isoformat(),
    }


def agenda_json(agenda: Agenda) -> dict[str, object]:
    """The agenda for scripts; the keys are documented and stable."""
    from trustdesk.cli.sessions import session_json

    return {
        "today": agenda.today.isoformat(),
        "sessions": [session_json(s) for s in agenda.sessions],
        "promises_due_today": [_promise_json(p) for p in agenda.due_today],
        "promises_due_this_week": [_promise_json(p) for p in agenda.due_this_week],
        "due_for_contact": [
            {
                "client_id": c.client_id,
                "client": c.client_name,
                "state": str(c.state),
                "days_since_contact": c.days_since_touch,
                "last_contact_on": None if c.last_touch_on is None else c.last_touch_on.isoformat(),
            }
            for c in agenda.due_for_contact
        ],
        "awaiting_outcome": [session_json(s) for s in agenda.awaiting_outcome],
        "fell": [
            {
                "client_id": f.client_id,
                "client": f.client_name,
                "what": f.kind,
                "on": f.on.isoformat(),
                "promise": f.promise_title or None,
                "words": f.told(agenda.today),
            }
            for f in agenda.fell
        ],
    }


def _promise_line(p: DuePromise, today: dt.date, *, with_day: bool) -> str:
    who = f"you owe {p.client_name}" if p.owner == "coach" else f"{p.client_name} owes you"
    when = f"{day_words(p.due_on, today)}  " if with_day else ""
    return f"  {when}{who}: {p.title}  (promise {p.commitment_id})"


def agenda_text(agenda: Agenda) -> str:
    today = agenda.today
    if agenda.empty:
        return "Nothing needs you today."
    lines = [f"Today, {today:%a %d %b %Y}"]

    def section(title: str, rows: list[str]) -> None:
        if rows:
            lines.extend(["", title, *rows])

    section(
        "Sessions",
        [
            f"  {s.scheduled_start:%H:%M}–{s.ends:%H:%M}  {s.client_name}"
            + ("" if s.status == "scheduled" else f"  ({str(s.status).replace('_', ' ')})")
            + f"  (session {s.session_id})"
            for s in agenda.sessions
        ],
    )
    section(
        "Waiting for an outcome (trustdesk session held|cancel --late|no-show ID)",
        [
            f"  {day_words(s.scheduled_start.date(), today)} {s.scheduled_start:%H:%M}  "
            f"{s.client_name}  (session {s.session_id})"
            for s in agenda.awaiting_outcome
        ],
    )
    section(
        "Fell (no contact since)",
        [f"  {f.client_name}: {f.told(today)}" for f in agenda.fell],
    )
    section(
        "Promises due today",
        [_promise_line(p, today, with_day=False) for p in agenda.due_today],
    )
    section(
        "Promises due this week",
        [_promise_line(p, today, with_day=True) for p in agenda.due_this_week],
    )
    section(
        "Due for contact",
        [
            f"  {c.client_name}: {str(c.state)}, {c.days_since_touch} days since contact"
            for c in agenda.due_for_contact
        ],
    )
    return "\n".join(lines)
