"""`trustdesk smtp`: keep the SMTP password in the keyring, and try the sending path.

The password is never a setting and never on the command line (others on the server can
read both): it is asked twice at the terminal without echo, or read from a file only the
coach can read.
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import EXIT_ERROR, EXIT_OK, Parser, _open, _out, _say

HELP = "store the SMTP password, or send a test message"
TEST_SUBJECT = "trustdesk: a test message"
TEST_BODY = (
    "This is a test message from trustdesk.\n\n"
    "If you can read it, prompts you send by email will arrive the same way.\n"
)


def register(sub, common) -> dict:
    smtp = sub.add_parser("smtp", parents=[common], help=HELP)
    actions = smtp.add_subparsers(dest="smtp_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    password = actions.add_parser(
        "password", parents=[common], help="store the SMTP password in the keyring"
    )
    password.add_argument(
        "--password-file", metavar="PATH", help="read it from a file only you can read"
    )

    test = actions.add_parser(
        "test", parents=[common], help="send a short test message and say how it went"
    )
    test.add_argument("address", metavar="ADDRESS", nargs="?", help="where (default: your email)")
    return {"smtp": cmd_smtp}


def cmd_smtp(args: argparse.Namespace) -> int:
    return {"password": smtp_password, "test": smtp_test}[args.smtp_command](args)


def smtp_password(args: argparse.Namespace) -> int:
    from trustdesk import config
    from trustdesk.asking import AskError, ask, read_secret_file
    from trustdesk.mail_send import SMTP_KEYRING_USER
    from trustdesk.vault.keyring_access import KeyringUnavailable, set_secret, verdict

    settings = config.load_settings()
    usable = verdict(settings.allow_plaintext_keyring)
    if not usable.usable:
        _say(
            f"trustdesk: cannot keep the SMTP password in the keyring: {usable.reason};"
            " put it in a file only you can read and name it as smtp_password_file"
        )
        return EXIT_ERROR
    if args.password_file:
        password = read_secret_file(args.password_file, "SMTP password")
    else:
        password = ask("SMTP password: ", what="SMTP password", file_option="--password-file")
        if not password:
            raise AskError("no SMTP password given; nothing was stored")
        if ask("The same password again: ", what="SMTP password") != password:
            raise AskError("the two passwords differ; nothing was stored")
    try:
        set_secret(SMTP_KEYRING_USER, password)
    except KeyringUnavailable as exc:
        _say(f"trustdesk: the SMTP password was not stored: {exc}")
        return EXIT_ERROR
    user = f" for {settings.smtp_user}" if settings.smtp_user else ""
    _out(f"SMTP password{user} stored in the keyring ({usable.backend}).\n")
    return EXIT_OK


def smtp_test(args: argparse.Namespace) -> int:
    from trustdesk import config
    from trustdesk.mail_send import (
        SendError,
        mailbox,
        new_message,
        send_message,
        sending_path,
    )
    from trustdesk.prompt_mail import NO_SENDER, sender_of
    from trustdesk.store import current_coach

    settings = config.load_settings()
    database = _open(args)
    try:
        coach = current_coach()
        sender = sender_of(coach, settings)
        address = (args.address or coach.email).strip()
        if not address:
            raise SendError(NO_SENDER)
        to = address if "<" in address else mailbox(coach.name if not args.address else "", address)
    finally:
        database.close()
    message = new_message(sender=sender, to=to, subject=TEST_SUBJECT, body=TEST_BODY)
    path = sending_path(settings)
    how = (
        f"sendmail ({settings.sendmail_command or 'sendmail'})"
        if path == "sendmail"
        else f"SMTP ({settings.smtp_host}, {settings.smtp_security})"
    )
    send_message(message, settings)
    _out(f"Sent a test message to {message['To']} through {how}.\n")
    return EXIT_OK
