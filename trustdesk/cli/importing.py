"""`trustdesk import`: clients in from the contacts file a coach already has.

trustdesk import FILE                  every contact a new client, or nothing and the problems
trustdesk import FILE --dry-run        the table of what would happen; nothing written
trustdesk import FILE --skip-existing  leave the clients already here as they are
trustdesk import FILE --update         bring the file's changes to the clients already here
trustdesk import FILE --with-programs  add the programs the file names that are missing
trustdesk import FILE --json           the result for a script (also with problems)
trustdesk import - < FILE              read standard input

The format is found from the file's content, whatever its name; `--encoding` and `--map`
are for files the reader cannot work out alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trustdesk.cli.common import EXIT_ERROR, EXIT_OK, UsageError, _open, _out, _out_data, _say

HELP = "bring clients in from a contacts file (CSV, Google, Outlook, vCard)"

# What each of trustdesk's own columns holds, for `import --help`.
COLUMN_HELP = {
    "name": "the client's name (the one column a file must have)",
    "email": 'emails; several separated by " ::: ", the first used',
    "phone": 'phone numbers; several separated by " ::: "',
    "program": "one of your programs (any case); see --with-programs",
    "stage": "a stage of that program (default: its first)",
    "status": "prospect, active (default), paused, completed, archived",
    "started_on": "YYYY-MM-DD (default: today)",
    "ideal_gap_days": "days between contacts you aim for (default: setting)",
    "max_gap_days": "days after which the client is quiet (default: setting)",
    "contact_preferences": "how and when the client likes to be reached",
    "last_contact_on": "YYYY-MM-DD: one touch that day, so no quiet start",
    "next_session": "YYYY-MM-DD HH:MM: the next session",
}

EPILOG_AFTER = """\
Clients already here are matched by any of their emails (case aside), then by
name (accents, case and spacing aside), archived clients too. Without
--skip-existing or --update such a file is refused whole, each match named.
--update gives a matched client the file's value for each column the file has
(a blank cell leaves the value as it is), adds the file's emails and phone
numbers after the client's own (none removed), and never renames a client
(rename with: trustdesk client edit). A client changed elsewhere while the
import runs is never written over: the import is then refused whole.

Programs the practice lacks are named in one problem; --with-programs adds each
in the same transaction, from the starter template of that name if one ships
(see: trustdesk program list), else with the stages the file names for it, in
the order first met.

Examples:
  trustdesk import contacts.csv --dry-run
  trustdesk import google-contacts.csv --skip-existing
  trustdesk import people.csv --map "Given Name+Family Name=name,Mail=email"
  trustdesk export --csv -o clients.csv
  trustdesk --db new.sqlite3 import clients.csv --with-programs
"""


def _epilog() -> str:
    from trustdesk import contact_files

    formats = contact_files.FORMATS_HELP
    width = max(len(c) for c in contact_files.COLUMNS)
    columns = "\n".join(
        f"  {column:<{width}}  {COLUMN_HELP.get(column, '')}".rstrip()
        for column in contact_files.COLUMNS
    )
    return (
        f"{formats.rstrip()}\n\n"
        "Columns (trustdesk's own; other files' columns are read as these):\n"
        f"{columns}\n\n{EPILOG_AFTER}"
    )


def register(sub, common) -> dict:
    imp = sub.add_parser(
        "import",
        parents=[common],
        help=HELP,
        description="Bring clients in from a contacts file: every contact, or nothing.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", metavar="FILE", help="the contacts file; - reads standard input")
    imp.add_argument(
        "--encoding", metavar="NAME", help="the file's text encoding when not UTF-8 (cp1252, …)"
    )
    imp.add_argument(
        "--map",
        metavar="SPEC",
        help="which of the file's columns fill which of trustdesk's: \"A+B=name,C=email\"",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="show what would be imported; write nothing"
    )
    existing = imp.add_mutually_exclusive_group()
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave contacts who are clients already as they are",
    )
    existing.add_argument(
        "--update",
        action="store_true",
        help="bring the file's values to contacts who are clients already",
    )
    imp.add_argument(
        "--with-programs",
        action="store_true",
        help="add the programs the file names that this practice lacks",
    )
    imp.add_argument("--json", action="store_true", help="the result as JSON, for scripts")
    return {"import": cmd_import}


def _read(path: str) -> bytes:
    source = Path(path)
    try:
        return sys.stdin.buffer.read() if path == "-" else source.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"{source} is a folder, not a contacts file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None


def cmd_import(args: argparse.Namespace) -> int:
    from trustdesk import config
    from trustdesk.importer import REFUSE, SKIP, UPDATE, ImportRejected, import_contacts, read_file
    from trustdesk.literal import visible
    from trustdesk.store import current_coach

    data = _read(args.file)
    try:
        contacts = read_file(data, encoding=args.encoding, mapping=args.map)
    except (ValueError, LookupError) as exc:
        if args.encoding is None and args.map is None:
            raise
        raise UsageError(str(exc)) from None
    existing = UPDATE if args.update else SKIP if args.skip_existing else REFUSE
    rejected = None
    database = _open(args)
    try:
        with _progress_for(len(contacts.rows)) as progress:
            try:
                result = import_contacts(
                    contacts,
                    coach=current_coach(),
                    today=config.today(),
                    settings=config.load_settings(),
                    existing=existing,
                    with_programs=args.with_programs,
                    dry_run=args.dry_run,
                    progress=progress,
                )
            except ImportRejected as exc:
                rejected = exc
                result = exc.result
    finally:
        database.close()
    source = "standard input" if args.file == "-" else visible(args.file)
    if args.json:
        _out_data(_json(result, rejected) + "\n")
    elif args.dry_run:
        _out(_table(result.rows))
    problems = rejected.problems if rejected is not None else result.problems if result else ()
    if not args.json:
        for problem in problems:
            _say(f"trustdesk: {problem}")
    if problems:
        _say(f"trustdesk: {_refusal(problems, dry_run=args.dry_run)}")
        return EXIT_ERROR
    if not args.json or args.dry_run:
        _say(summary(result, source))
    return EXIT_OK


class _progress_for:
    """A progress bar while rows are checked, for more rows than a screenful on a terminal."""

    def __init__(self, rows: int) -> None:
        import shutil

        self.bar = None
        if rows > shutil.get_terminal_size().lines:
            from trustdesk.cli.common import _progress

            self.bar = _progress("Importing")

    def __enter__(self):
        return self.bar.__enter__() if self.bar is not None else None

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _n(count: int, word: str) -> str:
    from trustdesk.trust.common import plural

    return plural(count, word)


def _refusal(problems, *, dry_run: bool) -> str:
    from trustdesk.importer import ALREADY_A_CLIENT

    counted = _n(len(problems), "problem")
    said = (
        f"the import would be refused ({counted} to fix first); nothing was written"
        if dry_run
        else f"nothing was imported ({counted} to fix first)"
    )
    already = sum(1 for p in problems if ALREADY_A_CLIENT in p.reason)
    if already == 1:
        said += (
            "; 1 row is a client already: --skip-existing leaves it as it is,"
            " --update brings the file's values to it"
        )
    elif already:
        said += (
            f"; {already} rows are clients already: --skip-existing leaves them as they are,"
            " --update brings the file's values to them"
        )
    return said


def summary(result, source: str) -> str:
    """'Imported 12 clients from FILE (Google Contacts CSV); updated 3, skipped 2', and a
    second line naming the columns nothing took."""
    from trustdesk.literal import visible

    verb = "Would import" if result.dry_run else "Imported"
    kind = f" ({visible(result.kind)})" if result.kind else ""
    line = f"{verb} {_n(result.imported, 'client')} from {source}{kind}"
    if result.updated or result.skipped:
        line += f"; {'would update' if result.dry_run else 'updated'} {result.updated}, "
        line += f"{'would skip' if result.dry_run else 'skipped'} {result.skipped}"
    if result.programs_added:
        names = ", ".join(repr(visible(name)) for name in result.programs_added)
        added = "would add" if result.dry_run else "added"
        line += f"; {added} {'program' if len(result.programs_added) == 1 else 'programs'} {names}"
    if result.dry_run:
        line += "; nothing was written"
    if result.ignored:
        shown = ", ".join(visible(name) for name in result.ignored[:8])
        more = f", … ({len(result.ignored) - 8} more)" if len(result.ignored) > 8 else ""
        line += f"\nIgnored {_n(len(result.ignored), 'column')}: {shown}{more}"
    return line


def _json(result, rejected) -> str:
    from trustdesk.literal import json_text

    problems = rejected.problems if rejected is not None else result.problems
    data = {
        "format": result.kind,
        "imported": result.imported if rejected is None or result.dry_run else 0,
        "updated": result.updated if rejected is None or result.dry_run else 0,
        "skipped": result.skipped if rejected is None or result.dry_run else 0,
        "ignored_columns": list(result.ignored),
        "programs_added": list(result.programs_added) if rejected is None else [],
        "dry_run": result.dry_run,
        "clients": [
            {
                "line": row.line,
                "name": row.name,
                "action": row.action,
                "email": row.email,
                "phone": row.phone,
                "program": row.program,
                "stage": row.stage,
                "status": row.status,
                "matched_by": row.matched_by,
                "client": row.client_name,
            }
            for row in result.rows
        ],
        "problems": [{"line": p.line, "reason": p.reason} for p in problems],
    }
    indent = 2 if sys.stdout.isatty() else None
    return json_text(data, indent=indent)


# --- the dry run's table ----------------------------------------------------------------

# How a row was matched to a client, in a word.
_MATCHED = {"email": "email", "name": "name", "earlier import": "renamed"}
_HEADINGS = ("line", "name", "email", "phone", "program / stage", "status", "action")
# The narrowest each column gets on a narrow terminal; the rest is cut with an ellipsis.
_LEAST = (4, 10, 8, 6, 8, 9, 16)


def _cells(row) -> tuple[str, ...]:
    from trustdesk.literal import visible

    journey = " / ".join(part for part in (row.program, row.stage) if part)
    action = row.action
    if row.matched_by:
        action += f" ({_MATCHED.get(row.matched_by, row.matched_by)})"
    return (
        str(row.line),
        visible(row.name),
        visible(row.email),
        visible(row.phone),
        visible(journey),
        row.status,
        action,
    )


def _table(rows) -> str:
    """The rows as a table: sized to the terminal on one, plain aligned text otherwise."""
    if not rows:
        return ""
    if sys.stdout.isatty():
        return _rich_table(rows)
    from rich.cells import cell_len

    lines = [_HEADINGS, *(_cells(row) for row in rows)]
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(_HEADINGS))]

    def aligned(cells: tuple[str, ...]) -> str:
        padded = (c + " " * (w - cell_len(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join(aligned(line) for line in lines) + "\n"


def _fitted(natural: list[int], least: list[int], room: int) -> list[int]:
    """Column widths that fit `room`: the widest columns give way first, none below its least."""
    widths = list(natural)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: (widths[i] - least[i] > 0, widths[i]))
        if widths[widest] <= least[widest]:
            break
        widths[widest] -= 1
    return widths


def _rich_table(rows) -> str:
    import shutil

    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = shutil.get_terminal_size().columns
    cells = [_cells(row) for row in rows]
    natural = [
        max(cell_len(line[i]) for line in (_HEADINGS, *cells)) for i in range(len(_HEADINGS))
    ]
    least = [min(n, m) for n, m in zip(natural, _LEAST, strict=True)]
    gaps = 2 * (len(_HEADINGS) - 1)
    widths = _fitted(natural, least, width - gaps)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="",
    )
    for heading, column_width in zip(_HEADINGS, widths, strict=True):
        table.add_column(
            heading,
            overflow="ellipsis",
            no_wrap=True,
            width=column_width,
            justify="right" if heading == "line" else "left",
        )
    for line in cells:
        table.add_row(*(Text(cell) for cell in line))
    # Plain characters only: the output goes through _out like every other.
    console = Console(width=width, color_system=None, highlight=False, force_terminal=False)
    with console.capture() as captured:
        console.print(table)
    return "\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n"
