"""`trustdesk digest [--mail] [--json]`: the morning digest, to stdout or mailed to the coach.

Made for cron: when there is nothing to say, nothing is printed or sent and it exits 0
(on a terminal it says so in one line). With --mail the digest goes to settings.toml's
mail_from, else the coach's own email, through the sending path prompts use (the
system's sendmail or SMTP from settings); a failed send is one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, UsageError, _open, _out, _out_data

if TYPE_CHECKING:
    from trustdesk.trust.digest import Digest

HELP = "the morning digest: today's agenda, promises due, who to contact, replies awaited"


def register(sub, common) -> dict:
    digest = sub.add_parser("digest", parents=[common], help=HELP)
    digest.add_argument(
        "--mail", action="store_true", help="send it to yourself instead of printing it"
    )
    digest.add_argument("--json", action="store_true", help="machine-readable output")
    return {"digest": cmd_digest}


def digest_json(digest: Digest) -> dict[str, object]:
    """`trustdesk today --json`'s keys, plus the overdue promises, the prompts awaiting a
    reply, the mail subject and whether there is anything to say; documented and stable."""
    from trustdesk.cli.today import agenda_json
    from trustdesk.trust.digest import digest_subject

    out = agenda_json(digest.agenda)
    out["empty"] = digest.is_empty
    out["subject"] = digest_subject(digest)
    out["promises_overdue"] = [
        {
            "id": p.commitment_id,
            "client_id": p.client_id,
            "client": p.client_name,
            "owner": p.owner,
            "title": p.title,
            "due_on": p.due_on.isoformat(),
            "days_overdue": p.days_overdue,
        }
        for p in digest.overdue
    ]
    out["awaiting_reply"] = [
        {
            "client_id": r.client_id,
            "client": r.client_name,
            "prompt_id": r.prompt_id,
            "prompt": r.prompt_title,
            "sent_on": r.sent_on.isoformat(),
            "days_waiting": r.days_waiting,
        }
        for r in digest.awaiting_reply
    ]
    return out


def _recipient(settings: config.Settings, coach) -> str:
    address = (settings.mail_from or coach.email or "").strip()
    if not address:
        raise UsageError(
            "no address to mail the digest to: set yours with"
            " `trustdesk coach --email ADDRESS` (or mail_from in settings.toml)"
        )
    return address


def cmd_digest(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.trust.digest import build_digest, digest_subject, digest_text

    settings = config.load_settings()
    database = _open(args)
    try:
        coach = current_coach()
        # Asked before anything is read: a digest that can never be sent should say so
        # even on a quiet morning, when cron would otherwise hear nothing.
        to = _recipient(settings, coach) if args.mail else ""
        digest = build_digest(coach, config.today(), config.now(), settings)
    finally:
        database.close()

    if args.mail:
        if digest.is_empty:
            _say_on_terminal("Nothing to say today: no digest sent.")
            return EXIT_OK
        from trustdesk.mail_send import new_message, send_message

        message = new_message(
            sender=to, to=to, subject=digest_subject(digest), body=digest_text(digest)
        )
        send_message(message, settings)
        _say_on_terminal(f"Sent the digest to {to}.")
        return EXIT_OK

    if args.json:
        from trustdesk.literal import json_text

        _out_data(json_text(digest_json(digest)) + "\n")
    elif digest.is_empty:
        _say_on_terminal("Nothing to say today.")
    else:
        _out(digest_text(digest))
    return EXIT_OK


def _say_on_terminal(line: str) -> None:
    """A word for a person at a terminal; cron (no terminal) hears nothing."""
    if sys.stdout.isatty():
        _out(line + "\n")
