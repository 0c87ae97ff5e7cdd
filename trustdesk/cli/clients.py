"""`trustdesk client ...`: a client's whole life from the command line, for quick capture
and scripts. Every error is one line and writes nothing; `--json` shapes are stable.
"""

from __future__ import annotations

import argparse

from trustdesk import config
from trustdesk.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    UsageError,
    _open,
    _out,
    _out_data,
    _positive_int,
    _say,
    day_option,
)

# The verbs that only move a client along their life, and the status each moves to.
MOVES = {
    "pause": "paused",
    "resume": "active",
    "complete": "completed",
    "archive": "archived",
}
ADDABLE = ("prospect", "active")
LISTABLE = ("prospect", "active", "paused", "completed", "archived")


HELP = "add, correct, pause, complete, archive or delete a client"


def register(sub, common) -> dict:
    client = sub.add_parser("client", parents=[common], help=HELP)
    actions = client.add_subparsers(dest="client_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    add = actions.add_parser("add", parents=[common], help="add a client")
    add.add_argument("name", metavar="NAME", help="the client's name")
    _detail_options(add)
    add.add_argument("--status", choices=ADDABLE, default="active", help="prospect or active")

    edit = actions.add_parser(
        "edit", parents=[common], help="correct a client: only the options given change"
    )
    edit.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    edit.add_argument("--name", dest="new_name", metavar="NEW", help="a new name")
    _detail_options(edit)
    edit.add_argument("--no-program", action="store_true", help="take the client off their program")
    edit.add_argument("--status", choices=ADDABLE, help="prospect or active")

    for verb, status in MOVES.items():
        move = actions.add_parser(verb, parents=[common], help=f"the client becomes {status}")
        move.add_argument(
            "client", metavar="CLIENT", help="any unambiguous part of the name, or id"
        )

    delete = actions.add_parser(
        "delete", parents=[common], help="remove a client and every record of theirs"
    )
    delete.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    delete.add_argument(
        "--yes", action="store_true", help="do not ask for the name to be typed back"
    )

    listing = actions.add_parser(
        "list", parents=[common], help="your clients (archived ones only when asked)"
    )
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--status", choices=LISTABLE, help="only clients in this status")
    which.add_argument("--all", action="store_true", help="archived clients too")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    show = actions.add_parser(
        "show", parents=[common], help="a client's details, cadence, promises and next session"
    )
    show.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    return {"client": cmd_client}


def _detail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--email",
        action="append",
        metavar="E",
        help="an email address (repeat for more; the first is the one used)",
    )
    parser.add_argument(
        "--phone", action="append", metavar="P", help="a phone number (repeat for more)"
    )
    parser.add_argument("--program", metavar="NAME", help="the program (name or id)")
    parser.add_argument("--stage", metavar="NAME", help="the stage of the program (name)")
    parser.add_argument("--ideal-gap", type=_positive_int, metavar="N", help="days between touches")
    parser.add_argument(
        "--max-gap", type=_positive_int, metavar="N", help="days before the client goes quiet"
    )
    parser.add_argument("--started", metavar="DATE", help="when the engagement started")
    parser.add_argument(
        "--last-contact", metavar="DATE", help="the last contact so far (logged as a touch)"
    )
    parser.add_argument(
        "--prefers", metavar="TEXT", help="how and when the client likes to be reached"
    )


def cmd_client(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    database = _open(args)
    try:
        coach = current_coach()
        command = args.client_command
        if command == "add":
            return client_add(args, coach)
        if command == "edit":
            return client_edit(args, coach)
        if command in MOVES:
            return client_move(args, coach, MOVES[command])
        if command == "delete":
            return client_delete(args, coach)
        if command == "list":
            return client_list(args, coach)
        return client_show(args, coach)
    finally:
        database.close()


def _journey(args: argparse.Namespace, coach, program_id: int | None = None) -> dict:
    """The program and stage options as ids (only those given); a stage alone is looked
    for in `program_id` (the client's program) when there is one."""
    from trustdesk.trust.clients import find_program, find_stage

    found: dict = {}
    if getattr(args, "no_program", False):
        if args.program or args.stage:
            raise UsageError("--no-program cannot go with --program or --stage")
        found["program_id"] = None
        return found
    if args.program:
        found["program_id"] = find_program(coach, args.program)
    if args.stage:
        found["stage_id"] = find_stage(coach, found.get("program_id", program_id), args.stage)
    return found


def _dates(args: argparse.Namespace) -> dict:
    found = {}
    if args.started:
        found["started_on"] = day_option(args.started, "--started")
    if args.last_contact:
        found["last_contact_on"] = day_option(args.last_contact, "--last-contact")
    return found


def client_add(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.clients import add_client

    settings = config.load_settings()
    added = add_client(
        coach,
        args.name,
        emails=args.email or (),
        phones=args.phone or (),
        ideal_gap_days=settings.default_ideal_gap_days
        if args.ideal_gap is None
        else args.ideal_gap,
        max_gap_days=settings.default_max_gap_days if args.max_gap is None else args.max_gap,
        status=args.status,
        contact_preferences=args.prefers or "",
        today=config.today(),
        **_dates(args),
        **_journey(args, coach),
    )
    _say(f"Added {added.name} (id {added.client_id}), {added.status}{_where(added)}")
    return EXIT_OK


def client_edit(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.clients import edit_client, find_client

    client = find_client(coach, args.client)
    changes: dict = {**_dates(args), **_journey(args, coach, client.program_id)}
    if args.new_name is not None:
        changes["name"] = args.new_name
    if args.email is not None:
        changes["emails"] = args.email
    if args.phone is not None:
        changes["phones"] = args.phone
    if args.ideal_gap is not None:
        changes["ideal_gap_days"] = args.ideal_gap
    if args.max_gap is not None:
        changes["max_gap_days"] = args.max_gap
    if args.prefers is not None:
        changes["contact_preferences"] = args.prefers
    if args.status is not None:
        changes["status"] = args.status
    if not changes:
        raise UsageError("nothing to change; give at least one option (see: client edit --help)")
    edited = edit_client(coach, client.id, today=config.today(), **changes)
    _say(f"Saved {edited.name} (id {edited.client_id}), {edited.status}{_where(edited)}")
    return EXIT_OK


def client_move(args: argparse.Namespace, coach, status: str) -> int:
    from trustdesk.trust.clients import find_client, move_client

    client = find_client(coach, args.client)
    moved = move_client(coach, client.id, status)
    _say(f"{moved.name} (id {moved.client_id}) is now {moved.status}")
    return EXIT_OK


def client_delete(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.clients import delete_client, find_client, removed_text, typed_back

    client = find_client(coach, args.client)
    if args.yes:
        typed = client.name
    else:
        typed = _ask_name(
            f"Delete {client.name} (id {client.id}) and every record of theirs (sessions, "
            "promises, touches, notes, outcomes)? This cannot be undone. "
            "Type the client's name to confirm: "
        )
        if not typed_back(typed, client.name):
            _say("The name did not match; nothing was deleted.")
            return EXIT_ERROR
    deleted = delete_client(coach, client.id, typed, version=client.version)
    _say(f"Deleted {deleted.name} with {removed_text(deleted)}")
    return EXIT_OK


def _ask_name(question: str) -> str:
    """Ask at the terminal itself, so a piped stdin cannot answer; none: refuse."""
    import os

    from trustdesk.literal import for_terminal

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise UsageError("no terminal to confirm at; add --yes if you are sure") from None
    with open(fd, "r+b", buffering=0) as tty:
        tty.write(for_terminal(question).encode("utf-8", "replace"))
        return tty.readline().decode("utf-8", "replace").strip()


def client_list(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.store.states import ClientStatus
    from trustdesk.trust.clients import EMPTY_PRACTICE_HINT, has_clients, list_clients

    if args.all:
        statuses = tuple(ClientStatus)
    elif args.status:
        statuses = (ClientStatus(args.status),)
    else:
        statuses = None
    entries = list_clients(coach, statuses)
    if args.json:
        _out_data(json_text({"clients": [_entry_json(e) for e in entries]}) + "\n")
        return EXIT_OK
    if not entries:
        if not has_clients(coach):
            _out(EMPTY_PRACTICE_HINT + "\n")
        else:
            _out("No clients in that status; see: trustdesk client list --all\n")
        return EXIT_OK
    lines = []
    for e in entries:
        where = " · ".join(x for x in (e.program_name, e.stage_name) if x)
        lines.append(f"{e.client_id:>6}  {e.name}  [{e.status}]" + (f"  {where}" if where else ""))
    _out("\n".join(lines) + "\n")
    return EXIT_OK


def client_show(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.clients import client_overview, find_client
    from trustdesk.trust.common import plural

    client = find_client(coach, args.client)
    overview = client_overview(coach, client.id, config.today())
    if args.json:
        _out_data(json_text(overview_json(overview), indent=2) + "\n")
        return EXIT_OK
    d = overview.details
    lines = [
        f"{d.name} (id {d.client_id}), {d.status}",
        f"  emails:      {', '.join(d.emails) or '-'}",
        f"  phones:      {', '.join(d.phones) or '-'}",
        f"  program:     {d.program_name or '-'}" + (f" · {d.stage_name}" if d.stage_name else ""),
        f"  started on:  {d.started_on.isoformat()}",
        f"  contact:     ideally every {plural(d.ideal_gap_days, 'day')}, "
        f"at most {plural(d.max_gap_days, 'day')}",
        f"  prefers:     {d.contact_preferences or '-'}",
    ]
    c = overview.cadence
    if c is not None:
        last = c.last_touch_on.isoformat() if c.last_touch_on else "never"
        lines.append(
            f"  cadence:     {c.state}, {plural(c.days_since_touch, 'day')} since contact "
            f"(last {last}; due {c.due_on.isoformat()})"
        )
    lines.append(
        f"  promises:    {overview.open_promises_coach} open of yours, "
        f"{overview.open_promises_client} open of the client's"
    )
    nxt = overview.next_session
    lines.append(f"  next session: {nxt.strftime('%Y-%m-%d %H:%M') if nxt else '-'}")
    _out("\n".join(lines) + "\n")
    return EXIT_OK


def _where(details) -> str:
    parts = [x for x in (details.program_name, details.stage_name) if x]
    return f", {' · '.join(parts)}" if parts else ""


def _entry_json(e) -> dict:
    return {
        "id": e.client_id,
        "name": e.name,
        "status": str(e.status),
        "program": e.program_name,
        "stage": e.stage_name,
        "email": e.email,
        "started_on": e.started_on.isoformat(),
    }


def overview_json(overview) -> dict:
    """The stable shape of `client show --json`."""
    d = overview.details
    c = overview.cadence
    return {
        "id": d.client_id,
        "name": d.name,
        "status": str(d.status),
        "emails": list(d.emails),
        "phones": list(d.phones),
        "program": d.program_name,
        "stage": d.stage_name,
        "started_on": d.started_on.isoformat(),
        "ideal_gap_days": d.ideal_gap_days,
        "max_gap_days": d.max_gap_days,
        "contact_preferences": d.contact_preferences,
        "reference_consent": d.reference_consent,
        "cadence": None
        if c is None
        else {
            "state": str(c.state),
            "last_touch_on": c.last_touch_on.isoformat() if c.last_touch_on else None,
            "days_since_touch": c.days_since_touch,
            "due_on": c.due_on.isoformat(),
            "snoozed_until": c.snoozed_until.isoformat() if c.snoozed_until else None,
        },
        "open_promises": {
            "coach": overview.open_promises_coach,
            "client": overview.open_promises_client,
        },
        "next_session": overview.next_session.isoformat(timespec="minutes")
        if overview.next_session
        else None,
    }
