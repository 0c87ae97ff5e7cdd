"""`trustdesk mail sync [SOURCE ...]`: mail on the server logs the contact it holds.

Made for cron (every 15 minutes): a run with nothing new reads no message and says so
in one line. See trustdesk/mail_sync.py for what is logged and what is skipped.
"""

from __future__ import annotations

import argparse
import sys

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, Parser, _open, _out, _out_data, day_option

HELP = "log touches from your mail on this server (Maildir folders, mbox files)"
# A first run this big shows a progress bar, when stderr is a terminal.
PROGRESS_FROM = 2000


def register(sub, common) -> dict:
    mail = sub.add_parser("mail", parents=[common], help=HELP)
    actions = mail.add_subparsers(dest="mail_command", metavar="ACTION", parser_class=Parser)
    actions.required = True
    sync = actions.add_parser(
        "sync",
        parents=[common],
        help="read new messages and log a touch per message per client",
        description="Read the new messages of each Maildir folder or mbox file (default: "
        "mail_sources in settings.toml) and log a touch for each client they are from or to.",
    )
    sync.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="a Maildir folder (with cur/ and new/) or an mbox file; ~ is your home",
    )
    sync.add_argument(
        "--me",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an address of yours (repeatable; beside my_addresses and your coach email)",
    )
    sync.add_argument(
        "--since", metavar="DATE", help="skip messages dated before DATE (for a first run)"
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="list what would be logged; write nothing"
    )
    sync.add_argument("--json", action="store_true", help="print the result as JSON")
    return {"mail": cmd_mail}


def cmd_mail(args: argparse.Namespace) -> int:
    return cmd_mail_sync(args)


def cmd_mail_sync(args: argparse.Namespace) -> int:
    from trustdesk.mail_sync import sync_mail
    from trustdesk.store import current_coach

    since = None if args.since is None else day_option(args.since, "--since")
    settings = config.load_settings()
    sources = list(args.sources) or list(settings.mail_sources)
    today = config.today()
    database = _open(args)
    try:
        coach = current_coach()
        with _progress_bar(enabled=not args.json) as progress:
            result = sync_mail(
                coach,
                sources,
                settings=settings,
                today=today,
                me=args.me,
                dry_run=args.dry_run,
                since=since,
                progress=progress,
            )
    finally:
        database.close()
    if args.json:
        from trustdesk.literal import json_text

        _out_data(json_text(result_shape(result)) + "\n")
    else:
        _out(summary_line(result) + "\n")
        if result.dry_run:
            for touch in result.touches:
                _out(touch_line(touch, today) + "\n")
    return EXIT_OK


def result_shape(result) -> dict:
    """The --json shape (stable keys, documented in the README)."""
    return {
        "dry_run": result.dry_run,
        "read": result.read,
        "logged": result.logged,
        "clients": result.clients,
        "replies": result.replies,
        "skipped": dict(result.skipped),
        "sources": [
            {
                "source": s.source,
                "kind": s.kind,
                "read": s.read,
                "logged": s.logged,
                "unmatched": s.unmatched,
                "skipped": dict(s.skipped),
                "reread": s.reread,
            }
            for s in result.sources
        ],
        "touches": [
            {
                "client_id": t.client_id,
                "client": t.client,
                "occurred_on": t.day.isoformat(),
                "direction": t.direction,
                "channel": t.channel,
                "summary": t.subject,
                "message_id": t.message_id,
                "prompt_id": t.prompt_id,
                "source": t.source,
            }
            for t in result.touches
        ],
    }


def _count(n: int, word: str, words: str = "") -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {words or word + 's'}"


def _names(sources) -> str:
    names = [s.source for s in sources]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{len(names)} sources"


def summary_line(result) -> str:
    """'Read 1,204 messages from ~/Maildir: logged 37 touches for 21 clients (3 replies to
    prompts); skipped 12 (lists, auto-replies).'"""
    from trustdesk.mail_sync import SKIP_REASONS

    if not result.read:
        return f"No new messages in {_names(result.sources)}."
    line = f"Read {_count(result.read, 'message')} from {_names(result.sources)}: "
    verb = "would log" if result.dry_run else "logged"
    if result.logged:
        touches = _count(result.logged, "touch", "touches")
        line += f"{verb} {touches} for {_count(result.clients, 'client')}"
        if result.replies:
            line += (
                " (1 reply to a prompt)"
                if result.replies == 1
                else f" ({result.replies:,} replies to prompts)"
            )
    else:
        line += "nothing new to log" if not result.dry_run else "nothing would be logged"
    skipped = result.skipped
    if skipped:
        total = sum(n for _, n in skipped)
        why = ", ".join(SKIP_REASONS[r] for r, _ in skipped)
        line += f"; skipped {total:,} ({why})"
    return line + "."


def touch_line(touch, today) -> str:
    from trustdesk.cli.common import shown_day

    way = "to" if touch.direction == "outbound" else "from"
    kind = "reply to a prompt" if touch.channel == "reply" else "email"
    return f"  {shown_day(touch.day, today)}  {kind} {way} {touch.client}: {touch.subject}"


class _progress_bar:
    """A progress bar on stderr for a big first run at a terminal; otherwise nothing."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None
        self.tasks: dict[str, object] = {}

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, source: str, done: int, total: int) -> None:
        if self.bar is None:
            if total < PROGRESS_FROM:
                return
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
        if source not in self.tasks:
            from rich.markup import escape

            from trustdesk.literal import visible

            what = escape(f"Reading {visible(source)}")
            self.tasks[source] = self.bar.add_task(what, total=total)
        self.bar.update(self.tasks[source], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
