"""`trustdesk prompt`: the coach's prompts, and sending one to a client by email.

`prompt send` composes the message exactly as the prompt screen does, sends it through
the server's sendmail or SMTP, and only then logs it: the prompt then waits for the
client's reply, which mail sync recognises by the message's Message-ID.
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    _fit_terminal,
    _open,
    _out,
    _out_data,
    _say,
    edit_in_editor,
)

HELP = "list your prompts, or send one to a client by email"


def register(sub, common) -> dict:
    prompt = sub.add_parser("prompt", parents=[common], help=HELP)
    actions = prompt.add_subparsers(dest="prompt_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    send = actions.add_parser(
        "send", parents=[common], help="email a prompt to a client and log it, awaiting a reply"
    )
    send.add_argument("client", metavar="NAME", help="any unambiguous part of the name, or id")
    send.add_argument(
        "prompt", metavar="PROMPT", help="the prompt's id or any unambiguous part of its title"
    )
    send.add_argument("--edit", action="store_true", help="change the words in $EDITOR first")
    send.add_argument(
        "--dry-run", action="store_true", help="show the message as it would go; send nothing"
    )
    send.add_argument("--json", action="store_true", help="print what was sent as JSON")

    listing = actions.add_parser("list", parents=[common], help="your prompts, with their ids")
    listing.add_argument("--json", action="store_true", help="as JSON")
    return {"prompt": cmd_prompt}


def cmd_prompt(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.trust.prompts import ensure_library

    handler = {"send": prompt_send, "list": prompt_list}[args.prompt_command]
    database = _open(args)
    try:
        coach = current_coach()
        ensure_library(coach)  # as the app does on first opening the picker
        return handler(args, coach)
    finally:
        database.close()


def prompt_list(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.prompts import list_prompts

    prompts = list_prompts(coach)
    if args.json:
        rows = [
            {"id": p.prompt_id, "habit": p.habit, "title": p.title, "stage_hint": p.stage_hint}
            for p in prompts
        ]
        _out_data(json_text(rows) + "\n")
        return EXIT_OK
    lines = [f"{p.prompt_id:>4}  {p.habit:<9}  {p.title}" for p in prompts]
    _out(_fit_terminal("\n".join(lines) + "\n") if lines else "No prompts.\n")
    return EXIT_OK


def prompt_send(args: argparse.Namespace, coach) -> int:
    from trustdesk import config
    from trustdesk.literal import json_text
    from trustdesk.prompt_mail import prompt_email, send_prompt_by_email
    from trustdesk.trust.clients import find_client
    from trustdesk.trust.prompts import compose, find_prompt

    client = find_client(coach, args.client)
    prompt = find_prompt(coach, args.prompt)
    settings = config.load_settings()
    body = None
    if args.edit:
        # Checked before the editor opens: words typed for a message that cannot go are lost.
        prompt_email(coach, prompt.prompt_id, client.id, settings=settings)
        body = _edited(compose(coach, prompt.prompt_id, client.id).body)
        if not body.strip():
            _say("trustdesk: the message is empty; nothing was sent")
            return EXIT_ERROR
    if args.dry_run:
        email = prompt_email(coach, prompt.prompt_id, client.id, settings=settings, body=body)
        if args.json:
            shown = {"touch": None, "message_id": email.message_id, "to": email.to}
            shown["message"] = email.as_text()
            _out_data(json_text(shown) + "\n")
        else:
            _out(email.as_text())
            _say("(dry run: nothing was sent or logged)")
        return EXIT_OK
    sent = send_prompt_by_email(
        coach, prompt.prompt_id, client.id, settings=settings, today=config.today(), body=body
    )
    if args.json:
        shown = {"touch": sent.touch_id, "message_id": sent.message_id, "to": sent.to}
        _out_data(json_text(shown) + "\n")
    else:
        _out(
            f"Sent “{sent.title}” to {sent.to} (message {sent.message_id});"
            " waiting for the reply.\n"
        )
    return EXIT_OK


def _edited(text: str) -> str:
    """The message after $VISUAL or $EDITOR, on a 0600 file removed afterwards."""
    edited = edit_in_editor(
        text + "\n",
        prefix="trustdesk-prompt-",
        what="the message",
        outcome="nothing was sent",
        instead="send without --edit",
    )
    return edited.rstrip() + "\n"
