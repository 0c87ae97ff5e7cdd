"""`trustdesk calendar sync [SOURCE ...] [--dry-run] [--json]`: sessions from calendars.

Reads .ics files and vdir folders (what vdirsyncer and khal keep, or a calendar's
export a cron job downloads) and brings the coach's sessions in step with them; see
trustdesk/calendar_sync.py for the rules. A line per calendar says what changed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from trustdesk import config
from trustdesk.cli.common import EXIT_OK, Parser, _open, _out, _out_data

if TYPE_CHECKING:
    from trustdesk.calendar_sync import CalendarSyncResult, SourceResult, SyncedSession

HELP = "sessions from your calendar (.ics files, vdir folders)"


def register(sub, common) -> dict:
    calendar = sub.add_parser("calendar", parents=[common], help=HELP)
    actions = calendar.add_subparsers(
        dest="calendar_command", metavar="ACTION", parser_class=Parser
    )
    actions.required = True
    sync = actions.add_parser(
        "sync",
        parents=[common],
        help="schedule, move and cancel sessions as your calendar has them",
    )
    sync.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="an .ics file or a vdir folder (default: calendar_sources in settings)",
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    sync.add_argument("--json", action="store_true", help="machine-readable output")
    return {"calendar": cmd_calendar}


def cmd_calendar(args: argparse.Namespace) -> int:
    from trustdesk.calendar_sync import checked_sources, sync_calendars
    from trustdesk.store import current_coach

    settings = config.load_settings()
    sources = list(args.sources) or list(settings.calendar_sources)
    checked_sources(sources)  # a missing calendar is said before the practice is opened
    database = _open(args)
    try:
        result = sync_calendars(
            current_coach(),
            sources,
            settings=settings,
            today=config.today(),
            dry_run=args.dry_run,
        )
    finally:
        database.close()
    if args.json:
        from trustdesk.literal import json_text

        _out_data(json_text(sync_json(result)) + "\n")
    else:
        _out(sync_text(result) + "\n")
    return EXIT_OK


# --- what it says --------------------------------------------------------------------


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def shown_path(source: str) -> str:
    """A calendar under the coach's home as they would type it: ~/.calendars/work."""
    import os

    home = os.path.expanduser("~").rstrip("/")
    if home and source.startswith(home + "/"):
        return "~" + source[len(home) :]
    return source


def source_line(source: SourceResult, *, dry_run: bool) -> str:
    """'From ~/.calendars/work: 4 sessions scheduled, 1 moved, 1 cancelled; 12 events
    matched no client.'"""
    done = []
    if source.scheduled:
        done.append(f"{_n(source.scheduled, 'session')} scheduled")
    if source.moved:
        done.append(f"{source.moved} moved" if done else f"{_n(source.moved, 'session')} moved")
    if source.cancelled:
        word = f"{source.cancelled}" if done else _n(source.cancelled, "session")
        done.append(f"{word} cancelled")
    said = ", ".join(done) if done else "nothing to change"
    if dry_run and done:
        said = f"would have {said}"
    tail = ""
    if source.skipped:
        tail = f"; {_n(source.skipped, 'event')} matched no client"
    where = f"From {shown_path(source.source)}" + (" (dry run, nothing written)" if dry_run else "")
    return f"{where}: {said}{tail}."


def change_line(change: SyncedSession, today) -> str:
    from trustdesk.cli.sessions import when_words

    event = f"  ({change.event})" if change.event else ""
    return (
        f"  {change.action:<9}  {when_words(change.start, today)}  "
        f"{change.minutes:>3} min  {change.client_name}{event}"
    )


def sync_text(result: CalendarSyncResult) -> str:
    today = config.today()
    lines = []
    for source in result.sources:
        lines.append(source_line(source, dry_run=result.dry_run))
        if source.unreadable:
            lines.append(
                f"  {_n(len(source.unreadable), 'file')} left out, not a calendar: "
                + ", ".join(source.unreadable)
            )
        if result.dry_run:
            lines.extend(change_line(c, today) for c in source.changes)
    return "\n".join(lines)


def _change_json(change: SyncedSession) -> dict[str, object]:
    return {
        "action": change.action,
        "session_id": change.session_id,
        "client_id": change.client_id,
        "client": change.client_name,
        "start": change.start.isoformat(timespec="minutes"),
        "minutes": change.minutes,
        "calendar_key": change.calendar_key,
        "event": change.event,
    }


COUNTS = ("scheduled", "moved", "cancelled", "unchanged", "skipped")


def sync_json(result: CalendarSyncResult) -> dict[str, object]:
    """What a sync did, for scripts; the keys are documented and stable."""
    return {
        "dry_run": result.dry_run,
        **{name: getattr(result, name) for name in COUNTS},
        "sources": [
            {
                "source": s.source,
                "path": s.path,
                **{name: getattr(s, name) for name in COUNTS},
                "files_read": s.files_read,
                "files_unchanged": s.files_unchanged,
                "unreadable": list(s.unreadable),
                "changes": [_change_json(c) for c in s.changes],
            }
            for s in result.sources
        ],
    }
