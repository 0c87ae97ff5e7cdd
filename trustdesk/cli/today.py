"""`trustdesk today [--json]`: the agenda, what needs the coach today.

Today's sessions with their times, promises due today and in the week ahead (the coach's
own first), clients due for contact, sessions whose time is over that still wait for an
outcome, and clients who fell. One line when there is nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, _fit_terminal, _open, _out, _out_data, shown_day

if TYPE_CHECKING:
    from trustdesk.trust.agenda import Agenda
    from trustdesk.trust.promises import DueSoonPromise


HELP = "the agenda: sessions, promises due, who to contact, what waits for an outcome"


def register(sub, common) -> dict:
    today = sub.add_parser(
        "today",
        parents=[common],
        help=HELP,
    )
    today.add_argument("--json", action="store_true", help="machine-readable output")
    return {"today": cmd_today}


def cmd_today(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.trust.agenda import build_agenda

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


def _promise_json(p: DueSoonPromise) -> dict[str, object]:
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


def _promise_line(p: DueSoonPromise, today: dt.date, *, with_day: bool) -> str:
    who = f"you owe {p.client_name}" if p.owner == "coach" else f"{p.client_name} owes you"
    when = f"{shown_day(p.due_on, today)}  " if with_day else ""
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
            f"  {shown_day(s.scheduled_start.date(), today)} {s.scheduled_start:%H:%M}  "
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
