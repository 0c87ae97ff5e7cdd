"""`trustdesk touch CLIENT --channel ...`: log a contact between sessions from a shell.

The same rule as the app's "Log touch": the touch counts for the client's contact
cadence. Every check runs before anything is written.
"""

from __future__ import annotations

import argparse

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, _open, _out, _out_data, day_option, shown_day

CHANNEL_WORDS = {
    "email": "an email",
    "call": "a call",
    "message": "a message",
    "journal_prompt": "a journal prompt",
    "reply": "a reply",
    "session": "a session",
}


HELP = "log a contact with a client (email, call, message, …)"


def register(sub, common) -> dict:
    touch = sub.add_parser("touch", parents=[common], help=HELP)
    touch.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    # Checked in the handler against the store's channels: the parser stays light to import.
    touch.add_argument(
        "--channel", required=True, metavar="CHANNEL", help=f"how: {', '.join(CHANNEL_WORDS)}"
    )
    way = touch.add_mutually_exclusive_group()
    way.add_argument(
        "--out", dest="direction", action="store_const", const="outbound",
        help="you reached out (the default)",
    )  # fmt: skip
    way.add_argument(
        "--in", dest="direction", action="store_const", const="inbound",
        help="the client reached you",
    )  # fmt: skip
    touch.add_argument("--on", metavar="DATE", help="the day it happened (default: today)")
    touch.add_argument("--summary", default="", help="a line about it")
    touch.add_argument("--json", action="store_true", help="print the touch as JSON")
    return {"touch": cmd_touch}


def cmd_touch(args: argparse.Namespace) -> int:
    from trustdesk.cli.common import UsageError
    from trustdesk.literal import json_text
    from trustdesk.store import current_coach
    from trustdesk.store.models import TOUCH_CHANNELS
    from trustdesk.trust.clients import find_client
    from trustdesk.trust.contact import log_touch

    if args.channel not in TOUCH_CHANNELS:
        raise UsageError(f"--channel: {args.channel!r} is not one of {', '.join(TOUCH_CHANNELS)}")
    today = config.today()
    on = today if args.on is None else day_option(args.on, "--on")
    direction = args.direction or "outbound"
    database = _open(args)
    try:
        coach = current_coach()
        client = find_client(coach, args.client)
        touch_id = log_touch(
            coach,
            client.id,
            channel=args.channel,
            direction=direction,
            summary=args.summary,
            occurred_on=on,
            today=today,
        )
    finally:
        database.close()
    if args.json:
        shape = {
            "touch_id": touch_id,
            "client_id": client.id,
            "client": client.name,
            "channel": args.channel,
            "direction": direction,
            "occurred_on": on.isoformat(),
            "summary": args.summary,
            # Where the touch came from: "" typed (as here), "mail" read by mail sync,
            # "sent" a prompt sent by email.
            "source": "",
        }
        _out_data(json_text(shape) + "\n")
    else:
        way = "to" if direction == "outbound" else "from"
        when = "today" if on == today else f"on {shown_day(on, today)}"
        words = CHANNEL_WORDS.get(args.channel, args.channel)
        _out(f"Logged {words} {way} {client.name} {when}.\n")
    return EXIT_OK
