"""The `trustdesk` command.

Every error a coach can cause ends as one line on stderr and a non-zero exit.
Textual is imported only by the commands that open the full-screen dashboard, so
`report` from cron stays light.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from trustdesk import __version__, config
from trustdesk.asking import ask, ask_line, ask_new_passphrase, read_secret_file
from trustdesk.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    UsageError,
    _apply_globals,
    _fit_terminal,
    _open,
    _out,
    _out_data,
    _positive_int,
    _progress,
    _say,
    _today_arg,
)
from trustdesk.literal import json_text, visible


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--db",
        metavar="URL_OR_PATH",
        default=default,
        help="database file or postgresql:// URL (env TRUSTDESK_DB)",
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=default,
        help="data directory (env TRUSTDESK_HOME)",
    )
    parser.add_argument(
        "--today",
        metavar="DATE",
        type=_today_arg,
        default=default,
        help="treat this day as today (env TRUSTDESK_TODAY)",
    )


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The whole parser; given the command line, only its own command is built in full."""
    parser = Parser(
        prog="trustdesk",
        description="A calm dashboard for coaches: promises, contact cadence, private notes.",
    )
    parser.add_argument("--version", action="version", version=f"trustdesk {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)

    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="build (once) a demo practice in its own database and open it",
    )
    demo.add_argument(
        "--no-tui", action="store_true", help="build and report, do not open the dashboard"
    )
    demo.add_argument(
        "--rebuild", action="store_true", help="throw the demo away and build it anew"
    )
    demo.add_argument("--seed", type=_positive_int, default=7, help="seed for the demo (default 7)")
    demo.add_argument(
        "--clients", type=_positive_int, default=48, help="clients in the demo (default 48)"
    )

    init = sub.add_parser(
        "init", parents=[common], help="create the database for your practice and its notes key"
    )
    init.add_argument(
        "--name",
        help="your name as the coach, which signs your prompts (default: asked at a terminal,"
        " offering your login's full name; without a terminal, that name)",
    )
    init.add_argument(
        "--passphrase-file",
        metavar="PATH",
        help="read the new passphrase from a file only you can read (instead of asking)",
    )
    init.add_argument(
        "--no-keyring", action="store_true", help="do not keep the key in the keyring"
    )

    report = sub.add_parser(
        "report", parents=[common], help="overdue promises, clients due for contact, follow-through"
    )
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.add_argument(
        "--limit", type=_positive_int, default=None, help="list at most N rows per section"
    )
    report.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="for cron: print nothing and exit 0 when nothing needs attention; when a promise "
        "is overdue, a client is due for contact or gone quiet, or a client fell, print the "
        "report and exit 1 (an error also exits 1, with one line on stderr)",
    )

    export = sub.add_parser(
        "export", parents=[common], help="your practice as JSON, or a calendar (.ics)"
    )
    kind = export.add_mutually_exclusive_group()
    kind.add_argument("--json", action="store_true", help="every record as JSON (the default)")
    kind.add_argument(
        "--ics",
        action="store_true",
        help="sessions and promises for your calendar (iCalendar); -o replaces the file",
    )
    kind.add_argument("--csv", action="store_true", help="your clients as a spreadsheet (no notes)")
    kind.add_argument("--vcf", action="store_true", help="your clients as vCard 4.0 (no notes)")
    export.add_argument("--output", "-o", metavar="PATH", help="write to PATH instead of stdout")
    export.add_argument(
        "--excel", action="store_true", help="with --csv: start with the mark Excel needs for UTF-8"
    )
    export.add_argument(
        "--decrypt", action="store_true", help="include note bodies (unlocks the notes first)"
    )
    _unlock_options(export)

    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="online backup to a new file (0600); with no PATH, a dated copy in the backups folder",
    )
    backup.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="a new file, or a folder to put it in (default: the data folder's backups, "
        "keeping the last backups_kept copies)",
    )

    restore = sub.add_parser(
        "restore", parents=[common], help="bring back a backup, keeping the practice it replaces"
    )
    restore.add_argument("path", metavar="PATH", help="a file written by trustdesk backup")
    restore.add_argument("--yes", action="store_true", help="do not ask before replacing")

    practice = sub.add_parser(
        "practice", parents=[common], help="a practice shared by several coaches on PostgreSQL"
    )
    practice_sub = practice.add_subparsers(
        dest="practice_command", metavar="ACTION", parser_class=Parser
    )
    practice_sub.required = True
    practice_sub.add_parser(
        "setup",
        parents=[common],
        help="create or upgrade the schema, the roles and row-level security (as the admin)",
    )
    add_coach = practice_sub.add_parser(
        "add-coach", parents=[common], help="add a coach and the database role they log in as"
    )
    add_coach.add_argument("name", metavar="NAME", help="the coach's name")
    add_coach.add_argument(
        "--role", required=True, help="their database role: usually their login name on the server"
    )
    add_coach.add_argument("--email", default="", help="their email address")
    remove_coach = practice_sub.add_parser(
        "remove-coach",
        parents=[common],
        help="keep a coach's share in a new file, then take them and their rows out",
    )
    remove_coach.add_argument("role", metavar="ROLE", help="the coach's database role")
    remove_coach.add_argument(
        "--output", "-o", help="the new file for their share (default: in the data folder)"
    )
    remove_coach.add_argument("--yes", action="store_true", help="do not ask before removing")
    list_coaches = practice_sub.add_parser(
        "list-coaches", parents=[common], help="the practice's coaches and their roles"
    )
    list_coaches.add_argument("--json", action="store_true", help="as JSON")
    join = practice_sub.add_parser(
        "join",
        parents=[common],
        help="bring your own practice file into your share of this one (as yourself, once)",
    )
    join.add_argument("file", metavar="FILE", help="your trustdesk SQLite database")
    _unlock_options(join)

    program = sub.add_parser("program", parents=[common], help="coaching programs and their stages")
    program_sub = program.add_subparsers(
        dest="program_command", metavar="ACTION", parser_class=Parser
    )
    program_sub.required = True
    program_list = program_sub.add_parser(
        "list", parents=[common], help="your programs, and the starter templates"
    )
    program_list.add_argument("--json", action="store_true", help="machine-readable output")
    program_import = program_sub.add_parser(
        "import", parents=[common], help="add a program from a TOML file or a starter template"
    )
    program_import.add_argument("file", metavar="FILE", help="a .toml file, or a starter's name")
    program_show = program_sub.add_parser(
        "show", parents=[common], help="describe a program's journey"
    )
    program_show.add_argument("name", metavar="NAME", help="a program or starter template")
    shape = program_show.add_mutually_exclusive_group()
    shape.add_argument(
        "--markdown", action="store_true", help="one page to send a prospective client"
    )
    shape.add_argument(
        "--html", action="store_true", help="the same page as HTML, to put on your website"
    )
    shape.add_argument("--toml", action="store_true", help="as a template file you can edit")
    program_show.add_argument(
        "--no-results",
        action="store_true",
        help="leave out what clients reached and the references (--markdown, --html)",
    )

    key = sub.add_parser("key", parents=[common], help="the key that seals your private notes")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", parser_class=Parser)
    key_sub.required = True
    key_status = key_sub.add_parser(
        "status", parents=[common], help="key slots, keyring, unlockable now?"
    )
    key_status.add_argument(
        "--json", action="store_true", help="machine-readable output (nothing secret in it)"
    )
    rotate = key_sub.add_parser(
        "rotate", parents=[common], help="a new key: every note re-sealed in one transaction"
    )
    _unlock_options(rotate)
    reseal = key_sub.add_parser(
        "reseal",
        parents=[common],
        help="seal older notes so they open only for their client, kind and date",
    )
    _unlock_options(reseal)
    passphrase = key_sub.add_parser(
        "passphrase", parents=[common], help="add or change the passphrase (re-wraps only)"
    )
    _unlock_options(passphrase)
    passphrase.add_argument(
        "--new-passphrase-file", metavar="PATH", help="read the new passphrase from a private file"
    )
    recovery = key_sub.add_parser(
        "recovery", parents=[common], help="a new recovery code; the old one stops working"
    )
    _unlock_options(recovery)
    ring = key_sub.add_parser("keyring", parents=[common], help="keep the key in the keyring too")
    _unlock_options(ring)
    wanted = _command_word(argv) if argv is not None else None
    for name, group in COMMAND_GROUPS.items():
        module = importlib.import_module(group)
        if argv is None or wanted == name:
            COMMANDS.update(module.register(sub, common))
        else:
            # Named for `--help`, but not built: a command line builds only its own
            # command's options (building them all costs more than a command's start-up).
            shallow = sub.add_parser(name, help=module.HELP, add_help=False)
            shallow.set_defaults(command_not_built=True)
    return parser


# Commands kept in their own modules (trustdesk/cli/<module>.py): each has HELP and
# register(sub, common), which adds its parser and returns {command name: handler}.
COMMAND_GROUPS: dict[str, str] = {
    "client": "trustdesk.cli.clients",
    "coach": "trustdesk.cli.coach",
    "note": "trustdesk.cli.notes",
    "promise": "trustdesk.cli.promises",
    "prompt": "trustdesk.cli.prompts",
    "smtp": "trustdesk.cli.smtp",
    "touch": "trustdesk.cli.touches",
    "session": "trustdesk.cli.sessions",
    "today": "trustdesk.cli.today",
    "calendar": "trustdesk.cli.calendar",
    "digest": "trustdesk.cli.digest",
    "completion": "trustdesk.cli.completion",
    "help": "trustdesk.cli.help",
    "import": "trustdesk.cli.importing",
    "mail": "trustdesk.cli.mail",
    "doctor": "trustdesk.cli.doctor",
}
GLOBAL_OPTIONS_WITH_VALUES = ("--db", "--home", "--today")


def _command_word(argv: Sequence[str]) -> str | None:
    """The command a command line names: its first word that is not a global option's."""
    words = iter(argv)
    for word in words:
        if word in GLOBAL_OPTIONS_WITH_VALUES:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _unlock_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        metavar="PATH",
        help="unlock with the passphrase in a file only you can read (instead of asking)",
    )
    parser.add_argument(
        "--recovery-file",
        metavar="PATH",
        help="unlock with the recovery code in a file only you can read",
    )


# --- helpers ---------------------------------------------------------------------------


def _n(count: int, word: str) -> str:
    """'1 client', '3 clients', '2 touches': a count with its word (trust.common.plural's
    rule, here without importing the rules at start-up)."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}es" if word.endswith(("ch", "sh", "s", "x")) else f"{count} {word}s"


def _default_coach_name() -> str:
    import pwd

    try:
        entry = pwd.getpwuid(os.getuid())
    except KeyError:
        return "Coach"
    full = entry.pw_gecos.split(",")[0].strip()
    return full or entry.pw_name


def _asked_coach_name() -> str:
    """Asked at a terminal (Enter keeps the login's full name); without one, that name."""
    default = _default_coach_name()
    if not sys.stdin.isatty():
        return default
    return ask_line("Your name as the coach, as it signs your prompts", default)


# --- commands --------------------------------------------------------------------------


def cmd_dashboard(args: argparse.Namespace) -> int:
    _refuse_without_screen("trustdesk today or trustdesk report")
    database = _open(args)
    try:
        return _open_dashboard(database)
    finally:
        database.close()


def _refuse_without_screen(instead: str) -> None:
    """The full-screen app needs a terminal that can draw it: said before anything is opened.

    Without a terminal (cron, a pipe) or on one that draws no screen (TERM=dumb, as in an
    editor's shell buffer, or TERM unset), the commands named in `instead` print text.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"the dashboard needs a terminal; for text output use: {instead}")
    term = os.environ.get("TERM", "")
    if term in ("", "dumb"):
        said = "TERM is not set" if not term else "TERM=dumb"
        raise UsageError(f"the full-screen dashboard cannot draw here ({said}); use: {instead}")


def _open_dashboard(database, *, demo_passphrase: str | None = None) -> int:
    """The full-screen app; Textual is imported here and only here."""
    _refuse_without_screen("trustdesk today or trustdesk report")
    from trustdesk.store import current_coach
    from trustdesk.tui.app import TrustdeskApp

    app = TrustdeskApp(
        database,
        current_coach(),
        settings=config.load_settings(),
        demo_passphrase=demo_passphrase,
    )
    app.run()
    return EXIT_OK if app.return_code in (None, 0) else EXIT_ERROR


def cmd_demo(args: argparse.Namespace) -> int:
    from trustdesk.demo import DEMO_PASSPHRASE, DemoSize, build_demo
    from trustdesk.store import open_database

    if getattr(args, "db", None):
        raise UsageError("demo keeps its own database; leave out --db")
    try:
        size = DemoSize(clients=args.clients)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.no_tui:
        # Before anything is built: a demo that cannot be shown is not worth the wait.
        _refuse_without_screen("trustdesk demo --no-tui")
    path = config.demo_database_path()
    config.ensure_private_dir(path.parent)
    today = config.today()
    if args.rebuild and path.exists():
        from trustdesk.store.database import private_sidecars

        for file in private_sidecars(path):
            file.unlink(missing_ok=True)
    if not path.exists():
        with _progress("Building the demo practice") as progress:
            summary = build_demo(path, seed=args.seed, today=today, size=size, progress=progress)
        _say(
            f"Built a demo practice for {summary.coach_name}: {_n(summary.clients, 'client')}, "
            f"{_n(summary.touches, 'touch')}, {_n(summary.commitments, 'promise')}, "
            f"{_n(summary.notes, 'note')} in {path}"
        )
    database = open_database(path)
    try:
        from trustdesk.store import current_coach

        built_on = current_coach().created_at.date()
        _say(f"trustdesk: the demo's private notes open with the passphrase: {DEMO_PASSPHRASE}")
        if built_on != today:
            _say(
                f"trustdesk: this demo was built for {built_on}; "
                "run 'trustdesk demo --rebuild' to bring it up to today."
            )
        if args.no_tui:
            from trustdesk.trust import build_report, report_text

            report = build_report(current_coach(), today, config.load_settings())
            _out(_fit_terminal(report_text(report, limit=10)))
            return EXIT_OK
        return _open_dashboard(database, demo_passphrase=DEMO_PASSPHRASE)
    finally:
        database.close()


def cmd_init(args: argparse.Namespace) -> int:
    from trustdesk.store import ensure_coach
    from trustdesk.store.database import private_sidecars
    from trustdesk.vault import Vault
    from trustdesk.vault.keyring_access import verdict
    from trustdesk.vault.vault import MIN_PASSPHRASE_CHARS

    target = config.database_target(getattr(args, "db", None))
    is_file = not config.is_url(target)
    if is_file and Path(target).expanduser().exists():
        raise UsageError(f"{target} already exists; trustdesk init never overwrites a database")
    settings = config.load_settings()
    # Everything is asked before anything is written, so a cancelled init leaves nothing.
    name = args.name or _asked_coach_name()
    keyring = verdict(settings.allow_plaintext_keyring)
    use_keyring = keyring.usable and not args.no_keyring
    passphrase = None
    if args.passphrase_file:
        passphrase = read_secret_file(args.passphrase_file)
        if len(passphrase) < MIN_PASSPHRASE_CHARS:
            raise UsageError(f"a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")
    elif not use_keyring:
        passphrase = ask_new_passphrase(
            MIN_PASSPHRASE_CHARS,
            intro=f"Your private notes will open with a passphrase ({keyring.reason}).",
        )
    if is_file:
        config.ensure_private_dir(Path(target).expanduser().parent)
    database = _open(args, create=True, new=is_file)
    try:
        coach = ensure_coach(name)
        setup = Vault(coach, settings).create(passphrase=passphrase, use_keyring=use_keyring)
    except BaseException:
        database.close()
        if is_file:
            for file in private_sidecars(Path(target).expanduser()):
                file.unlink(missing_ok=True)
        raise
    database.close()
    _say(f"Created the trustdesk database for {visible(coach.name)} at {target}")
    held = " and ".join(k for k in setup.slots if k != "recovery")
    _say(f"Your notes key is held by: {held}.")
    _print_recovery_code(setup.recovery_code)
    return EXIT_OK


def _print_recovery_code(code: str) -> None:
    _out(f"Recovery code: {code}\n")
    _say(
        "Write the recovery code down and keep it somewhere safe, away from this server. "
        "It is shown only now; it opens your notes if the passphrase or keyring is lost."
    )


def cmd_report(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.trust import build_report, report_json, report_text
    from trustdesk.trust.clients import EMPTY_PRACTICE_HINT, has_clients

    database = _open(args)
    try:
        coach = current_coach()
        report = build_report(coach, config.today(), config.load_settings())
        empty = not has_clients(coach)
    finally:
        database.close()
    if args.quiet and not report.needs_attention:
        return EXIT_OK
    if args.json:
        # Indented for a person at a terminal; compact for scripts and cron, which lets
        # json use its C encoder (indent forces the pure-Python one: 0.25 s on 10,000 clients).
        indent = 2 if sys.stdout.isatty() else None
        _out_data(json_text(report_json(report), indent=indent) + "\n")
    else:
        _out(_fit_terminal(report_text(report, limit=args.limit)))
        if empty:
            _out("\n" + EMPTY_PRACTICE_HINT + "\n")
    # --quiet exits 1 when it speaks, so that cron mails the report only then.
    return EXIT_ERROR if args.quiet else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    if (args.ics or args.csv) and args.decrypt:
        raise UsageError("--decrypt goes with the JSON export, not with --ics or --csv")
    if args.vcf and args.decrypt:
        raise UsageError("--decrypt goes with the JSON export, not with --vcf")
    if args.excel and not args.csv:
        raise UsageError("--excel goes with --csv (a spreadsheet for Excel)")
    database = _open(args)
    try:
        coach = current_coach()
        if args.vcf:
            return _export_vcf(args, coach)
        if args.csv:
            from trustdesk.exporter import write_clients_csv

            if not args.output and sys.stdout.isatty():
                # Read by a person, not a program: shown like every other output.
                import io

                shown = io.StringIO(newline="")
                write_clients_csv(shown, coach)
                _out(shown.getvalue())
                return EXIT_OK
            _write_export(
                args.output,
                lambda fh: write_clients_csv(fh, coach, excel=args.excel),
                newline="",
            )
            if args.output:
                _say(f"Wrote your clients to {args.output}")
            return EXIT_OK
        if args.ics:
            return _export_ics(args, coach)
        from trustdesk.exporter import check_every_note_opens, write_json_export

        vault = _unlocked_vault(args, coach) if args.decrypt else None
        if vault is not None:
            # Open every note before writing a byte, so a failure never leaves half a file.
            check_every_note_opens(coach, vault)
        _write_export(args.output, lambda fh: write_json_export(fh, coach, vault=vault))
        if args.output:
            sealed = "with note bodies" if vault else "note bodies stay sealed and are left out"
            _say(f"Exported your practice to {args.output} ({sealed})")
    finally:
        database.close()
    return EXIT_OK


def _export_ics(args: argparse.Namespace, coach) -> int:
    """The calendar, to stdout or to -o FILE, which it replaces when it is there: a file a
    cron job refreshes for a calendar that subscribes to it. (The JSON and CSV exports
    hold client records and keep refusing to overwrite a file.)"""
    from trustdesk.ics import practice_ics
    from trustdesk.store.database import replace_file

    settings = config.load_settings()
    zone = config.time_zone_name(settings)
    data = practice_ics(
        coach,
        config.today(),
        time_zone=zone,
        alarm_minutes=settings.session_alarm_minutes,
        now=config.now(),
    )
    if not args.output:
        _write_export(None, lambda fh: fh.write(data), binary=True)
        return EXIT_OK
    replace_file(Path(args.output).expanduser(), data)
    _say(f"Wrote your sessions and promises to {args.output} (times in {zone})")
    return EXIT_OK


def _export_vcf(args: argparse.Namespace, coach) -> int:
    from trustdesk.exporter import write_clients_vcf

    if not args.output and sys.stdout.isatty():
        # Read by a person, not a program: shown like every other output.
        import io

        shown = io.StringIO(newline="")
        write_clients_vcf(shown, coach)
        _out(shown.getvalue().replace("\r\n", "\n"))
        return EXIT_OK
    _write_export(args.output, lambda fh: write_clients_vcf(fh, coach), newline="")
    if args.output:
        _say(f"Wrote your clients to {args.output} (vCard)")
    return EXIT_OK


def _write_export(
    output: str | None, write, *, binary: bool = False, newline: str | None = None
) -> None:
    """To stdout, or to a new private file that appears only once it is complete."""
    if not output:
        write(sys.stdout.buffer if binary else sys.stdout)
        sys.stdout.flush()
        return
    from trustdesk.store.database import new_private_file

    with new_private_file(Path(output)) as partial:
        if binary:
            fh = open(partial, "wb")
        else:
            fh = open(partial, "w", encoding="utf-8", newline=newline)
        with fh:
            write(fh)


def cmd_backup(args: argparse.Namespace) -> int:
    from trustdesk.store import backup_database

    if args.path is None:
        return _dated_backup(args)
    dest = Path(args.path).expanduser()
    if dest.is_dir():
        dest = dest / f"trustdesk-{config.now():%Y-%m-%d-%H%M%S}.sqlite3"
    database = _open(args)
    try:
        backup_database(database, dest)
    finally:
        database.close()
    _say(f"Backed up to {dest} (readable only by you; integrity checked)")
    return EXIT_OK


def _dated_backup(args: argparse.Namespace) -> int:
    """A dated copy in the backups folder beside the practice; the oldest past the setting go.

    Only copies this command named are ever removed, and only once the new one is whole.
    """
    import re

    from trustdesk.store import backup_database

    target = config.database_target(getattr(args, "db", None))
    if config.is_url(target):
        raise UsageError(
            "a practice on PostgreSQL is backed up by its server, not copied by trustdesk: "
            "its administrator runs pg_dump (e.g. pg_dump -Fc -f practice.dump DBNAME)"
        )
    kept = config.load_settings().backups_kept
    path = Path(target).expanduser()
    folder = path.parent / "backups"
    if folder.exists() and not folder.is_symlink():
        problem = config.loose_permission_problem(folder)
        if problem:
            raise config.ConfigError(problem.replace("chmod 600", "chmod 700"))
    config.ensure_private_dir(folder)
    stem = path.stem or "trustdesk"
    stamp = f"{stem}-{config.now():%Y-%m-%d-%H%M%S}"
    dest = folder / f"{stamp}.sqlite3"
    n = 1
    while os.path.lexists(dest):
        n += 1
        dest = folder / f"{stamp}-{n}.sqlite3"
    database = _open(args)
    try:
        backup_database(database, dest)
    finally:
        database.close()
    removed = 0
    if kept > 0:
        dated = re.compile(re.escape(stem) + r"-\d{4}-\d{2}-\d{2}-\d{6}(-\d+)?\.sqlite3")
        copies = []
        for entry in os.scandir(folder):
            if entry.name == dest.name or not dated.fullmatch(entry.name):
                continue
            if entry.is_file(follow_symlinks=False):
                copies.append((entry.stat(follow_symlinks=False).st_mtime, entry.name))
        # The copy just made is one of the `kept`; the oldest of the others go.
        for _, name in sorted(copies)[: max(0, len(copies) - (kept - 1))]:
            try:
                (folder / name).unlink()
                removed += 1
            except FileNotFoundError:
                continue
    gone = f"; removed {removed} older" if removed else ""
    _say(f"Backed up to {dest} (readable only by you; integrity checked){gone}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from trustdesk.asking import confirm
    from trustdesk.store import inspect_backup, open_database, restore_database
    from trustdesk.store.database import describe_practice

    source = Path(args.path).expanduser()
    target = config.database_target(getattr(args, "db", None))
    if config.is_url(target):
        raise UsageError("restore brings back a SQLite backup; use pg_restore for PostgreSQL")
    path = Path(target).expanduser()
    backup = inspect_backup(source)
    if path.exists() and source.resolve() == path.resolve():
        raise UsageError(f"{source} is the practice itself; name a backup file")
    existed = path.exists()
    if existed:
        # Asked before anything is opened for writing: saying no changes nothing at all.
        held = describe_practice(path)
        question = (
            f"Replace the practice in {path} ({held}) "
            f"with the backup {source} ({_n(backup.clients, 'client')}, "
            f"{_n(backup.notes, 'note')})? "
            "The practice there now is kept as a backup of its own."
        )
        if not args.yes and not confirm(question):
            _say("Nothing was restored.")
            return EXIT_ERROR
    database = open_database(path, create=True)
    try:
        keep = path.with_name(f"{path.name}.before-restore-{config.now():%Y%m%d-%H%M%S}")
        restore_database(database, source, keep if existed else None)
    finally:
        database.close()
    # Opening it again brings an older backup's schema up to date (after its own copy).
    open_database(path).close()
    kept = f"; the practice it replaced is kept in {keep}" if existed else ""
    held = f"{_n(backup.clients, 'client')}, {_n(backup.notes, 'note')}"
    _say(f"Restored {source} into {path} ({held}){kept}")
    return EXIT_OK


def _unlocked_vault(args: argparse.Namespace, coach):
    """Unlock the notes: a recovery file, a passphrase file, the keyring, then ask."""
    from trustdesk.vault import Vault

    vault = Vault(coach, config.load_settings())
    if not vault.slots():
        from trustdesk.store import Note

        if Note.select().where(Note.coach == coach).exists():
            raise VaultCommandError(
                "this practice has sealed notes but no key slots; restore it from a backup"
            )
        raise UsageError(
            "this practice has no notes key yet; add one with: trustdesk key passphrase"
        )
    if getattr(args, "recovery_file", None):
        code = read_secret_file(args.recovery_file, "recovery code")
        status = _throttled(vault.unlock_with_recovery_code, lambda: code)
    elif getattr(args, "passphrase_file", None):
        passphrase = read_secret_file(args.passphrase_file)
        status = _throttled(vault.unlock_with_passphrase, lambda: passphrase)
    else:
        status = vault.unlock()
        if not status.unlocked and any(s.kind == "passphrase" for s in vault.slots()):
            for _ in range(3):
                status = _throttled(
                    vault.unlock_with_passphrase, lambda: ask("Passphrase for your notes: ")
                )
                if status.unlocked:
                    break
                _say("trustdesk: that passphrase does not open the notes")
    if not status.unlocked:
        raise VaultCommandError(f"notes stay locked: {status.detail or 'locked'}")
    if vault.needs_reseal and getattr(args, "key_command", None) not in ("reseal", "rotate"):
        _say(
            "trustdesk: some notes are sealed in the older format that does not bind their "
            "client, kind and date; seal them anew with: trustdesk key reseal"
        )
    return vault


class VaultCommandError(Exception):
    pass


def _throttled(unlock, secret):
    """Wait out the delay earlier failed unlocks ask for, then try `unlock(secret())`.

    The count lives in a private file in the state folder, never in the database.
    """
    from trustdesk.vault import LockReason
    from trustdesk.vault.throttle import FileThrottle

    throttle = FileThrottle()
    throttle.wait(_say)
    status = unlock(secret())
    if status.unlocked:
        throttle.succeeded()
    elif status.reason is LockReason.WRONG_KEY:
        throttle.failed()
    return status


def cmd_key(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    database = _open(args)
    try:
        coach = current_coach()
        return KEY_COMMANDS[args.key_command](args, coach)
    finally:
        database.close()


def key_status(args: argparse.Namespace, coach) -> int:
    from trustdesk.vault import Vault

    vault = Vault(coach, config.load_settings())
    slots = vault.slots()
    keyring = vault.keyring_usable()
    status = vault.unlock() if slots else vault.status()
    vault.lock()
    keys = sorted({s.key_id for s in slots})
    if args.json:
        _out_data(json_text(_key_status_json(slots, keyring, status), indent=2) + "\n")
        return _warn_of_extra_keys(keys)
    lines = []
    if not slots:
        lines.append("Notes key: none yet (add one with: trustdesk key passphrase)")
    else:
        lines.append(f"Notes key: {', '.join(sorted({s.key_id for s in slots}))}")
        lines.append("Key slots:")
        for slot in slots:
            lines.append(
                f"  {slot.kind:<11} key {slot.key_id}  added {slot.created_at:%Y-%m-%d %H:%M}"
            )
    if any(s.notes_format < 2 for s in slots):
        lines.append("Notes: some may be in the older seal; run: trustdesk key reseal")
    state = "usable" if keyring.usable else f"not used: {keyring.reason}"
    lines.append(f"Keyring: {keyring.backend} ({state})")
    if status.unlocked:
        lines.append("Unlockable now: yes, through the keyring")
    else:
        lines.append(f"Unlockable now: no ({status.detail or status.reason.value})")
    _out("\n".join(lines) + "\n")
    return _warn_of_extra_keys(keys)


def _key_status_json(slots, keyring, status) -> dict[str, object]:
    """What `key status` says, for scripts: slots, key ids, the keyring; nothing secret."""
    return {
        "key_ids": sorted({s.key_id for s in slots}),
        "slots": [
            {
                "kind": s.kind,
                "key_id": s.key_id,
                "added_at": s.created_at.isoformat(sep=" ", timespec="seconds"),
            }
            for s in slots
        ],
        # Some notes may be in the older seal: `trustdesk key reseal` brings them over.
        "reseal_advised": any(s.notes_format < 2 for s in slots),
        "keyring": {
            "backend": keyring.backend,
            "usable": keyring.usable,
            "reason": None if keyring.usable else keyring.reason,
        },
        "unlockable_now": status.unlocked,
        "unlocked_through": status.via if status.unlocked else None,
        "locked_because": None
        if status.unlocked
        else (status.detail or (status.reason.value if status.reason else "locked")),
    }


def _warn_of_extra_keys(keys: list[str]) -> int:
    if len(keys) > 1:
        # One coach has one notes key; a second one was put there by something other
        # than trustdesk (or an older version's race), and may open notes it should not.
        _say(
            f"trustdesk: warning: the key slots wrap {len(keys)} different keys "
            f"({', '.join(keys)}); a practice has one notes key, so a slot was added "
            "outside trustdesk: remove the one you did not make, or restore from a backup"
        )
        return EXIT_ERROR
    return EXIT_OK


def _rotation_passphrase(args: argparse.Namespace, vault) -> str | None:
    """Rotation re-wraps the new key under the passphrase, so it must know it."""
    from trustdesk.vault import Vault

    if not any(s.kind == "passphrase" for s in vault.slots()):
        return None
    if args.passphrase_file:
        passphrase = read_secret_file(args.passphrase_file)
    else:
        passphrase = ask("Your passphrase (to re-wrap the new key): ")
    checker = Vault(vault.coach, vault.settings)
    if not _throttled(checker.unlock_with_passphrase, lambda: passphrase).unlocked:
        raise VaultCommandError("that passphrase does not open the notes; nothing was changed")
    return passphrase


def key_rotate(args: argparse.Namespace, coach) -> int:
    vault = _unlocked_vault(args, coach)
    passphrase = _rotation_passphrase(args, vault)
    old = vault.key_id
    shown = {"at": -1}

    def progress(done: int, total: int) -> None:
        if done == total or done - shown["at"] >= 10_000:
            _say(f"re-sealed {done} of {total} notes")
            shown["at"] = done

    code = vault.rotate(passphrase=passphrase, progress=progress)
    _say(f"Rotated the notes key: {old} -> {vault.key_id}. Every note is sealed with the new key.")
    _print_recovery_code(code)
    return EXIT_OK


def key_reseal(args: argparse.Namespace, coach) -> int:
    vault = _unlocked_vault(args, coach)
    if not vault.needs_reseal:
        _say("Every note is already sealed for its client, kind and date; nothing to do.")
        return EXIT_OK
    passphrase = _rotation_passphrase(args, vault)
    code = vault.reseal(passphrase=passphrase)
    _say(
        f"Every note is now sealed for its client, kind and date, under a new key "
        f"({vault.key_id}); old-format notes no longer open."
    )
    if code is not None:
        _print_recovery_code(code)
    return EXIT_OK


def key_passphrase(args: argparse.Namespace, coach) -> int:
    from trustdesk.vault import Vault
    from trustdesk.vault.vault import MIN_PASSPHRASE_CHARS

    if args.new_passphrase_file:
        new = read_secret_file(args.new_passphrase_file, "new passphrase")
    else:
        new = None
    vault = Vault(coach, config.load_settings())
    if not vault.slots():
        # The only moment a key is ever made outside init: this practice has none at all.
        new = new or ask_new_passphrase(MIN_PASSPHRASE_CHARS)
        setup = vault.create(passphrase=new, use_keyring=False)
        _say("Created a notes key that opens with your passphrase.")
        _print_recovery_code(setup.recovery_code)
        return EXIT_OK
    vault = _unlocked_vault(args, coach)
    new = new or ask_new_passphrase(MIN_PASSPHRASE_CHARS)
    vault.set_passphrase(new)
    _say("Passphrase set. Your notes were not touched; only the key's wrapping changed.")
    return EXIT_OK


def key_recovery(args: argparse.Namespace, coach) -> int:
    vault = _unlocked_vault(args, coach)
    code = vault.replace_recovery_code()
    _say("The old recovery code no longer works.")
    _print_recovery_code(code)
    return EXIT_OK


def key_keyring(args: argparse.Namespace, coach) -> int:
    vault = _unlocked_vault(args, coach)
    vault.add_keyring_slot()
    _say(f"Your notes key is now also held by the keyring ({vault.keyring_usable().backend}).")
    return EXIT_OK


KEY_COMMANDS = {
    "status": key_status,
    "rotate": key_rotate,
    "reseal": key_reseal,
    "passphrase": key_passphrase,
    "recovery": key_recovery,
    "keyring": key_keyring,
}


def cmd_practice(args: argparse.Namespace) -> int:
    from trustdesk.store import StoreError
    from trustdesk.store.database import connect_server, first_line, without_user
    from trustdesk.store.models import db
    from trustdesk.store.practice import add_coach, setup_practice

    target = config.database_target(getattr(args, "db", None))
    if not config.is_url(target):
        raise UsageError(
            "practice commands are for a shared PostgreSQL practice: --db postgresql://..."
        )
    database = connect_server(target)
    try:
        db.initialize(database)
        if args.practice_command == "setup":
            applied = setup_practice(database)
            done = f"schema {applied[-1]}" if applied else "the schema was already up to date"
            _say(
                f"The practice at {database.url} is set up ({done}); "
                "every table is fenced by coach."
            )
            return EXIT_OK
        if args.practice_command == "join":
            return _join(args, database, Path(args.file))
        if args.practice_command == "remove-coach":
            return _remove_coach(database, args)
        if args.practice_command == "list-coaches":
            return _list_coaches(database, args.json)
        try:
            coach = add_coach(database, args.name, args.role, args.email)
        except Exception as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot add {args.role}: {first_line(exc)}") from None
        _say(
            f"Added {coach.name} as a coach, logging in as the role {args.role}. Logged in as "
            f"themselves, they set up their notes key with: "
            f"trustdesk --db {without_user(database.url)} init (or, first, bring in the "
            f"practice they kept in their own file with: trustdesk --db "
            f"{without_user(database.url)} practice join FILE)"
        )
        return EXIT_OK
    finally:
        database.close()


def _remove_coach(database, args: argparse.Namespace) -> int:
    from trustdesk.asking import confirm
    from trustdesk.literal import visible
    from trustdesk.store import StoreError
    from trustdesk.store.database import check_schema
    from trustdesk.store.practice import list_coaches, remove_coach

    check_schema(database)
    role = args.role
    coach = next((c for c in list_coaches(database) if c.role == role), None)
    if coach is None:
        raise StoreError(f"{visible(role)} is not a coach of this practice; nothing was removed")
    if args.output:
        dest = Path(args.output).expanduser()
    else:
        folder = config.ensure_private_dir(config.home_dir())
        dest = folder / f"removed-coach-{role}-{config.now():%Y%m%d-%H%M%S}.sqlite3"
    question = (
        f"Remove {visible(coach.name)} (role {role}, {_n(coach.clients, 'client')}) "
        "from the practice? "
        f"Their whole share, sealed notes and key slots too, is first kept in {dest} "
        "(readable only by you); then their rows are deleted and the role loses trustdesk_coach."
    )
    if not args.yes and not confirm(question):
        _say("Nothing was removed.")
        return EXIT_ERROR
    removed = remove_coach(database, role, dest)
    _say(
        f"Removed {visible(removed.name)} (role {role}) from the practice: "
        f"{_n(removed.clients, 'client')} and {_n(removed.notes, 'note')}, "
        "with everything else of theirs, "
        f"are kept in {removed.kept_in} (0600). It opens with: trustdesk --db "
        f"{removed.kept_in} (their notes with their passphrase or recovery code), and "
        "practice join brings it into a practice."
    )
    return EXIT_OK


def _list_coaches(database, as_json: bool) -> int:
    from dataclasses import asdict

    from trustdesk.literal import visible
    from trustdesk.store.database import check_schema
    from trustdesk.store.practice import list_coaches

    check_schema(database)
    coaches = list_coaches(database)
    if as_json:
        _out_data(json_text([asdict(c) for c in coaches], indent=2) + "\n")
        return EXIT_OK
    for c in coaches:
        state = "" if c.can_log_in else "  (role cannot log in as a coach)"
        email = f" <{visible(c.email)}>" if c.email else ""
        _out(f"{c.role}  {visible(c.name)}{email}  {_n(c.clients, 'client')}{state}\n")
    if not coaches:
        _say("This practice has no coaches yet; add one with: trustdesk practice add-coach")
    return EXIT_OK


def _join(args: argparse.Namespace, database, source: Path) -> int:
    from trustdesk.store.database import check_schema
    from trustdesk.store.practice import join_practice
    from trustdesk.vault.vault import BroughtKey

    check_schema(database)
    where = visible(str(source))

    def open_key(slots: list[dict]) -> BroughtKey:
        # The notes get new ids in the practice, so each is sealed anew: the key must open.
        if args.recovery_file:
            code = read_secret_file(args.recovery_file, "recovery code")
            return BroughtKey(slots, recovery_code=code, where=where)
        if args.passphrase_file:
            passphrase = read_secret_file(args.passphrase_file)
        else:
            passphrase = ask(f"Passphrase for the notes in {where}: ")
        return BroughtKey(slots, passphrase=passphrase, where=where)

    joined = join_practice(database, source, open_key)
    opens = (
        "the notes open with the same passphrase as before"
        if args.passphrase_file or not args.recovery_file
        else "set a passphrase for them with: trustdesk key passphrase"
    )
    _say(
        f"Brought {_n(joined.clients, 'client')} and {_n(joined.notes, 'sealed note')} "
        "into your share of "
        f"the practice; {opens}. {where} is unchanged: keep it as a backup, or remove it."
    )
    if joined.recovery_code is not None:
        _say("Your notes have a new recovery code here; the file's code does not open them.")
        _print_recovery_code(joined.recovery_code)
    return EXIT_OK


def cmd_program(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach

    database = _open(args)
    try:
        coach = current_coach()
        return PROGRAM_COMMANDS[args.program_command](args, coach)
    finally:
        database.close()


def _starter(name: str):
    from trustdesk.trust.journey.templates import program_templates

    wanted = name.strip().casefold()
    for template in program_templates():
        if wanted in (template.key.casefold(), template.name.casefold()):
            return template
    return None


def program_list(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.journey.templates import program_listing, program_templates

    mine = program_listing(coach)
    if args.json:
        _out_data(json_text(_program_list_json(coach, mine, program_templates()), indent=2) + "\n")
        return EXIT_OK
    lines = ["Your programs:" if mine else "You have no programs yet."]
    for p in mine:
        lines.append(
            f"  {visible(p.name)}: {_n(p.stages, 'stage')}, "
            f"about {_n(p.typical_sessions, 'session')}, "
            f"{p.active_clients} active clients"
        )
    taken = {p.name.casefold() for p in mine}
    starters = [t for t in program_templates() if t.name.casefold() not in taken]
    if starters:
        lines += ["", "Starter templates (trustdesk program import NAME):"]
        for t in starters:
            lines.append(f"  {t.key}: {t.name}, {_n(len(t.stages), 'stage')}")
    _out("\n".join(lines) + "\n")
    return EXIT_OK


def _program_list_json(coach, mine, templates) -> dict[str, object]:
    """Your programs with their stages and how many active clients are at each, and every
    starter template (`added`: you already have a program of that name)."""
    from trustdesk.trust.journey.progress import journey_progress

    stages = {p.program_name: p.stages for p in journey_progress(coach)}
    taken = {p.name.casefold() for p in mine}
    return {
        "programs": [
            {
                "name": p.name,
                "typical_sessions": p.typical_sessions,
                "active_clients": p.active_clients,
                "stages": [
                    {"position": st.position, "name": st.stage_name, "active_clients": st.clients}
                    for st in stages.get(p.name, ())
                ],
            }
            for p in mine
        ],
        "starters": [
            {
                "key": t.key,
                "name": t.name,
                "summary": t.summary,
                "typical_sessions": t.typical_sessions,
                "stages": [
                    {"position": n, "name": st.name, "typical_sessions": st.typical_sessions}
                    for n, st in enumerate(t.stages, start=1)
                ],
                "added": t.name.casefold() in taken,
            }
            for t in templates
        ],
    }


def program_import(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.journey.templates import TemplateError, import_template, read_template_file

    path = Path(args.file).expanduser()
    if path.is_file():
        template = read_template_file(path)
    else:
        template = _starter(args.file)
        if template is None:
            raise TemplateError(f"{args.file} is neither a file nor a starter template")
    import_template(coach, template)
    _say(f"Added the program {visible(template.name)} with {_n(len(template.stages), 'stage')}.")
    return EXIT_OK


def program_show(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.journey.templates import (
        TemplateError,
        find_program,
        journey_text,
        program_page_html,
        program_page_markdown,
        program_story,
        template_of,
        template_to_toml,
    )

    program = find_program(coach, args.name)
    template = template_of(program) if program is not None else _starter(args.name)
    if template is None:
        raise TemplateError(f"no program called {args.name!r}; see: trustdesk program list")
    # The page for a prospect: the journey, then what clients on it reached (no names) and
    # the references who agreed to talk; a starter template has neither.
    story = None if program is None or args.no_results else program_story(coach, program)
    if args.markdown:
        _out(program_page_markdown(template, story))
    elif args.html:
        _out_data(program_page_html(template, story))
    elif args.toml:
        _out_data(template_to_toml(template))
    else:
        _out(journey_text(template))
    return EXIT_OK


PROGRAM_COMMANDS = {"list": program_list, "import": program_import, "show": program_show}


COMMANDS = {
    None: cmd_dashboard,
    "demo": cmd_demo,
    "init": cmd_init,
    "report": cmd_report,
    "export": cmd_export,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "key": cmd_key,
    "program": cmd_program,
    "practice": cmd_practice,
}


# Errors a coach can cause, said in one line: (module, class). Matched only once their
# module is loaded (an error of a module never imported cannot have been raised), so that
# start-up does not pay for importing the store, the rules and the vault to name them.
ONE_LINE_ERRORS = (
    ("trustdesk.config", "ConfigError"),
    ("trustdesk.asking", "AskError"),
    ("trustdesk.store.errors", "StoreError"),
    ("trustdesk.vault.vault", "VaultError"),
    ("trustdesk.trust.journey.templates", "TemplateError"),
    ("trustdesk.trust.common", "ActionError"),
)


def _raised(exc: BaseException, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(words)
        args, unknown = parser.parse_known_args(words)
        if getattr(args, "command_not_built", False):  # a command line read unlike _command_word
            args = build_parser().parse_args(words)
        elif unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        _apply_globals(args)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        _say(f"trustdesk: {exc}")
        return EXIT_USAGE
    except VaultCommandError as exc:
        _say(f"trustdesk: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("trustdesk: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to say to it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last guard against a traceback
        return _said(exc)
    finally:
        config.set_today(None)


def _said(exc: Exception) -> int:
    """Any error, in one line on stderr; the exit code that goes with it."""
    if any(_raised(exc, module, name) for module, name in ONE_LINE_ERRORS):
        _say(f"trustdesk: {exc}")
        return EXIT_ERROR
    if _raised(exc, "trustdesk.vault.sealing", "SealError"):
        _say(f"trustdesk: a sealed note does not open ({exc}); nothing was written")
        return EXIT_ERROR
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "due to lock timeout" in first:  # PostgreSQL's lock_timeout, set for each coach
        _say(
            "trustdesk: another session holds a lock on the practice; try again (its "
            "administrator can end a session that keeps it)"
        )
        return EXIT_ERROR
    _say(f"trustdesk: unexpected {type(exc).__name__}{': ' + first if first else ''}")
    return EXIT_ERROR
