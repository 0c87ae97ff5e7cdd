"""`trustdesk session add|held|cancel|no-show|list`: sessions from the command line.

What the Sessions tab does to a session, for quick capture and scripts. Each write is
one rule of trust.sessions in one transaction; an error is one line and writes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt

from trustdesk import config
from trustdesk.cli.common import (
    EXIT_OK,
    Parser,
    UsageError,
    _fit_terminal,
    _open,
    _out,
    _out_data,
    _positive_int,
    _say,
    moment_option,
    shown_day,
)

HELP = "schedule sessions and say how they went"


def register(sub, common) -> dict:
    session = sub.add_parser("session", parents=[common], help=HELP)
    actions = session.add_subparsers(dest="session_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    add = actions.add_parser("add", parents=[common], help="schedule a session with a client")
    add.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    add.add_argument(
        "--at", required=True, metavar='"DATE HH:MM"', help='when it starts: "fri 10:00"'
    )
    add.add_argument(
        "--minutes", type=_positive_int, default=60, help="how long it lasts (default 60)"
    )

    held = actions.add_parser("held", parents=[common], help="the session took place")
    held.add_argument("id", type=_positive_int, metavar="ID", help="the session's id")
    held.add_argument(
        "--started", metavar="HH:MM", help="when it really began (default: as scheduled)"
    )

    cancel = actions.add_parser("cancel", parents=[common], help="the session was called off")
    cancel.add_argument("id", type=_positive_int, metavar="ID", help="the session's id")
    cancel.add_argument("--late", action="store_true", help="called off too late (a late cancel)")
    cancel.add_argument(
        "--by", choices=("client", "coach"), help="who called it off (default: not recorded)"
    )

    no_show = actions.add_parser("no-show", parents=[common], help="the client did not come")
    no_show.add_argument("id", type=_positive_int, metavar="ID", help="the session's id")

    listing = actions.add_parser(
        "list", parents=[common], help="sessions to come (--week: this week's)"
    )
    listing.add_argument(
        "--week",
        action="store_true",
        help="this week's sessions, Monday to Sunday, however they went",
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    return {"session": cmd_session}


def cmd_session(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    # Dates are read before the database is opened: a typo opens nothing.
    start = moment_option(args.at, "--at") if args.session_command == "add" else None
    database = _open(args)
    try:
        coach = current_coach()
        if args.session_command == "add":
            return _add(args, coach, start)
        if args.session_command == "held":
            return _held(args, coach)
        if args.session_command == "cancel":
            return _status(
                coach, args.id, "late_cancel" if args.late else "cancelled", cancelled_by=args.by
            )
        if args.session_command == "no-show":
            return _status(coach, args.id, "no_show")
        return _list(args, coach)
    finally:
        database.close()


def when_words(at: dt.datetime, today: dt.date) -> str:
    """'Wed 02 Dec 10:00', with the year when it is not this year's."""
    return shown_day(at, today, clock=True)


def _add(args: argparse.Namespace, coach, start: dt.datetime) -> int:
    from trustdesk.trust import sessions
    from trustdesk.trust.clients import find_client

    client = find_client(coach, args.client)
    session_id = sessions.schedule_session(
        coach, client.id, start=start, duration_minutes=args.minutes
    )
    today = config.today()
    for other in sessions.overlapping(coach, start, args.minutes, leave_out=session_id):
        _say(
            f"trustdesk: warning: it overlaps session {other.session_id} with "
            f"{other.client_name}, {when_words(other.scheduled_start, today)}–"
            f"{other.ends:%H:%M}"
        )
    _say(
        f"Scheduled session {session_id} with {client.name}: "
        f"{when_words(start, today)}, {args.minutes} minutes"
    )
    _out(f"{session_id}\n")
    return EXIT_OK


def _started(text: str, scheduled: dt.datetime) -> dt.datetime:
    """--started: a time on the session's own day, or a day and a time."""
    from trustdesk.trust.dates import DateError, parse_time

    try:
        return dt.datetime.combine(scheduled.date(), parse_time(text))
    except DateError:
        if " " not in text.strip():
            raise UsageError(
                f"--started: {text!r} is not a time; type it as 10:05 (or a day and a time)"
            ) from None
    return moment_option(text, "--started")


def _held(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust import sessions

    saved = sessions.saved_session(coach, args.id)
    if saved is None:
        raise UsageError(f"no session {args.id}; see: trustdesk session list")
    actual = _started(args.started, saved.scheduled_start) if args.started else None
    sessions.set_session_status(coach, args.id, "held", actual_start=actual)
    now = sessions.saved_session(coach, args.id)
    late = "" if now is None or now.late_minutes is None else _late_words(now.late_minutes)
    _say(f"Session {args.id} marked held{late}; it counts as contact")
    return EXIT_OK


def _late_words(minutes: int) -> str:
    if minutes > 0:
        return f", {minutes} min late"
    if minutes < 0:
        return f", {-minutes} min early"
    return ", on time"


STATUS_WORDS = {"cancelled": "cancelled", "late_cancel": "a late cancel", "no_show": "a no-show"}


def _status(coach, session_id: int, status: str, *, cancelled_by: str | None = None) -> int:
    from trustdesk.trust import sessions

    if sessions.saved_session(coach, session_id) is None:
        raise UsageError(f"no session {session_id}; see: trustdesk session list")
    sessions.set_session_status(coach, session_id, status, cancelled_by=cancelled_by)
    by = f" (by the {cancelled_by})" if cancelled_by else ""
    _say(f"Session {session_id} marked {STATUS_WORDS[status]}{by}")
    return EXIT_OK


def session_json(s) -> dict[str, object]:
    """One session in --json output; the keys are documented and stable."""
    return {
        "id": s.session_id,
        "client_id": s.client_id,
        "client": s.client_name,
        "start": s.scheduled_start.isoformat(timespec="minutes"),
        "end": s.ends.isoformat(timespec="minutes"),
        "minutes": s.duration_minutes,
        "status": str(s.status),
        "cancelled_by": s.cancelled_by,
    }


def session_line(s, today: dt.date) -> str:
    """'  12  Wed 02 Dec 10:00–11:00  Ann Lee  scheduled'"""
    status = str(s.status).replace("_", " ")
    if s.cancelled_by:
        status += f" by {s.cancelled_by}"
    return (
        f"{s.session_id:>5}  {when_words(s.scheduled_start, today)}–{s.ends:%H:%M}  "
        f"{s.client_name}  {status}"
    )


def _list(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust import sessions

    today = config.today()
    if args.week:
        monday, sunday = sessions.week_of(today)
        start = dt.datetime.combine(monday, dt.time.min)
        rows = sessions.sessions_between(coach, start, start + dt.timedelta(days=7))
        empty = f"No sessions this week ({monday:%d %b}–{sunday:%d %b})."
    else:
        rows = sessions.upcoming_sessions(coach, config.now())
        empty = 'No sessions to come. Schedule one: trustdesk session add CLIENT --at "DATE HH:MM"'
    if args.json:
        _out_data(json_text({"sessions": [session_json(s) for s in rows]}) + "\n")
    elif not rows:
        _out(empty + "\n")
    else:
        _out(_fit_terminal("\n".join(session_line(s, today) for s in rows)) + "\n")
    return EXIT_OK
