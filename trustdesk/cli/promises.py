"""`trustdesk promise ...`: add, keep, drop, renegotiate and list promises from a shell.

Quick capture and scripts, in taskwarrior's spirit: a client is named by any unambiguous
part of the name, a date as people type it. Every check runs before anything is written,
so an error is one line and leaves the practice as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt

from trustdesk import config
from trustdesk.cli.common import (
    EXIT_OK,
    Parser,
    _fit_terminal,
    _open,
    _out,
    _out_data,
    _positive_int,
    day_option,
    shown_day,
)

HELP = "add, keep, drop, renegotiate or list promises"


def register(sub, common) -> dict:
    promise = sub.add_parser("promise", parents=[common], help=HELP)
    actions = promise.add_subparsers(dest="promise_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    add = actions.add_parser("add", parents=[common], help="a new promise, yours or the client's")
    add.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    add.add_argument("title", metavar="TITLE", help="what was promised")
    add.add_argument("--due", required=True, metavar="DATE", help="when it is due (fri, +1w, …)")
    add.add_argument(
        "--client-owes", action="store_true", help="the client owes it (default: you do)"
    )
    add.add_argument("--json", action="store_true", help="print the new promise as JSON")

    done = actions.add_parser("done", parents=[common], help="mark a promise kept")
    done.add_argument("id", metavar="ID", type=_positive_int, help="the promise's id")
    done.add_argument("--on", metavar="DATE", help="the day it was kept (default: today)")

    drop = actions.add_parser("drop", parents=[common], help="let a promise go, saying why")
    drop.add_argument("id", metavar="ID", type=_positive_int, help="the promise's id")
    drop.add_argument("--reason", required=True, help="why it is dropped")

    moved = actions.add_parser(
        "renegotiate", parents=[common], help="move a promise to a new due date, saying why"
    )
    moved.add_argument("id", metavar="ID", type=_positive_int, help="the promise's id")
    moved.add_argument("--due", required=True, metavar="DATE", help="the new due date")
    moved.add_argument("--reason", required=True, help="why it is moved")
    moved.add_argument(
        "--asked-by", choices=("client", "coach"), help="who asked to move it (default: not said)"
    )

    listing = actions.add_parser(
        "list", parents=[common], help="open promises by due date, overdue ones marked"
    )
    listing.add_argument(
        "--due-within",
        metavar="DAYS",
        type=_positive_int,
        help="only those due within DAYS days (overdue ones too)",
    )
    listing.add_argument("--client", metavar="CLIENT", help="only this client's promises")
    listing.add_argument("--json", action="store_true", help="as JSON")
    return {"promise": cmd_promise}


def cmd_promise(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    handler = {
        "add": promise_add,
        "done": promise_done,
        "drop": promise_drop,
        "renegotiate": promise_renegotiate,
        "list": promise_list,
    }[args.promise_command]
    today = config.today()
    database = _open(args)
    try:
        return handler(args, current_coach(), today)
    finally:
        database.close()


def _open_promise(coach, commitment_id: int, doing: str):
    """The coach's promise `commitment_id`, refused in one line unless it is still open."""
    from trustdesk.trust.common import ActionError
    from trustdesk.trust.promises import saved_promise

    promise = saved_promise(coach, commitment_id)
    if promise is None:
        raise ActionError(f"no promise with id {commitment_id}; see: trustdesk promise list")
    if not promise.can_change:
        raise ActionError(
            f"promise {commitment_id} is already {promise.status}; only an open promise "
            f"can be {doing}"
        )
    return promise


def promise_add(args, coach, today: dt.date) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.clients import find_client
    from trustdesk.trust.promises import add_commitment

    due = day_option(args.due, "--due")
    client = find_client(coach, args.client)
    owner = "client" if args.client_owes else "coach"
    new_id = add_commitment(
        coach, client.id, owner=owner, title=args.title, due_on=due, promised_on=today
    )
    if args.json:
        _out_data(
            json_text(
                {
                    "commitment_id": new_id,
                    "client_id": client.id,
                    "client": client.name,
                    "owner": owner,
                    "title": args.title,
                    "promised_on": today.isoformat(),
                    "due_on": due.isoformat(),
                }
            )
            + "\n"
        )
    else:
        who = f"{client.name} owes" if owner == "client" else f"You owe {client.name}"
        _out(f"Promise {new_id} added. {who}: {args.title}, due {shown_day(due, today)}.\n")
    return EXIT_OK


def promise_done(args, coach, today: dt.date) -> int:
    from trustdesk.trust.promises import mark_done

    promise = _open_promise(coach, args.id, "marked done")
    done_on = today if args.on is None else day_option(args.on, "--on")
    mark_done(coach, args.id, done_on, version=promise.version, today=today)
    late = " (after its due date)" if done_on > promise.due_on else ""
    _out(f"Promise {args.id} kept on {shown_day(done_on, today)}{late}: {promise.title}\n")
    return EXIT_OK


def promise_drop(args, coach, today: dt.date) -> int:
    from trustdesk.trust.promises import drop

    promise = _open_promise(coach, args.id, "dropped")
    drop(coach, args.id, args.reason, today, version=promise.version)
    _out(f"Promise {args.id} dropped: {promise.title}\n")
    return EXIT_OK


def promise_renegotiate(args, coach, today: dt.date) -> int:
    from trustdesk.trust.promises import renegotiate

    promise = _open_promise(coach, args.id, "renegotiated")
    due = day_option(args.due, "--due")
    closing = renegotiate(
        coach,
        args.id,
        due,
        today,
        version=promise.version,
        reason=args.reason,
        asked_by=args.asked_by or "",
    )
    when = "in time" if today <= promise.due_on else "after it was due"
    _out(
        f"Promise {args.id} renegotiated {when}; it continues as promise "
        f"{closing.successor_id}, due {shown_day(due, today)}: {promise.title}\n"
    )
    return EXIT_OK


def promise_list(args, coach, today: dt.date) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.clients import find_client
    from trustdesk.trust.promises import open_promises

    client_id = None if args.client is None else find_client(coach, args.client).id
    rows = open_promises(coach, today, within_days=args.due_within, client_id=client_id)
    if args.json:
        _out_data(
            json_text(
                {
                    "today": today.isoformat(),
                    "promises": [
                        {
                            "commitment_id": p.commitment_id,
                            "client_id": p.client_id,
                            "client": p.client_name,
                            "owner": p.owner,
                            "title": p.title,
                            "promised_on": p.promised_on.isoformat(),
                            "due_on": p.due_on.isoformat(),
                            "overdue": late,
                            "days_overdue": p.days_overdue if late else None,
                            "days_left": None if late else p.days_left,
                        }
                        for p, late in rows
                    ],
                }
            )
            + "\n"
        )
        return EXIT_OK
    if not rows:
        scope = "" if args.due_within is None else f" due within {args.due_within} days"
        _out(f"No open promises{scope}.\n")
        return EXIT_OK
    lines = []
    for p, late in rows:
        if late:
            when = f"{p.days_overdue}d late"
        elif p.days_left == 0:
            when = "due today"
        else:
            when = f"due {shown_day(p.due_on, today)}"
        who = "you" if p.owner == "coach" else "client"
        lines.append(f"{p.commitment_id:>6}  {when:<14}  {who:<6}  {p.client_name}: {p.title}")
    _out(_fit_terminal("\n".join(lines) + "\n"))
    return EXIT_OK
