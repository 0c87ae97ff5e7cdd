"""`trustdesk coach`: the coach's own name and email, which sign every prompt sent to a client.

trustdesk coach                      show them
trustdesk coach --name "Morgan Lee"  change the name (and/or --email ADDRESS)
trustdesk coach --json               {"name": ..., "email": ...} for scripts
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import EXIT_OK, _open, _out, _out_data

HELP = "show or change your name and email (they sign your prompts)"


def register(sub, common) -> dict:
    coach = sub.add_parser(
        "coach",
        parents=[common],
        help=HELP,
    )
    coach.add_argument("--name", help="your new name as the coach")
    coach.add_argument("--email", help="your new email address ('' to clear it)")
    coach.add_argument("--json", action="store_true", help="machine-readable output")
    return {"coach": cmd_coach}


def cmd_coach(args: argparse.Namespace) -> int:
    from trustdesk.literal import json_text
    from trustdesk.store import current_coach
    from trustdesk.trust.coach import coach_profile, rename_coach

    database = _open(args)
    try:
        coach = current_coach()
        if args.name is None and args.email is None:
            profile = coach_profile(coach)
        else:
            profile = rename_coach(coach, name=args.name, email=args.email)
    finally:
        database.close()
    if args.json:
        _out_data(json_text({"name": profile.name, "email": profile.email}) + "\n")
        return EXIT_OK
    changed = args.name is not None or args.email is not None
    lines = [
        f"{'Now signing as' if changed else 'Name'}: {profile.name}",
        f"Email: {profile.email or '(none)'}",
    ]
    _out("\n".join(lines) + "\n")
    return EXIT_OK
