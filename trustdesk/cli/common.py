"""What every command shares: how a mistake is said, how output reaches a terminal, how
the practice is opened, and how dates are read from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from trustdesk import config
from trustdesk.literal import for_terminal

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A command line that cannot be carried out as typed."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line rather than a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _today_arg(text: str):
    """--today as people type dates (`+7` looks a week ahead), counted from the calendar."""
    import datetime as dt

    from trustdesk.trust.dates import DateError, parse_day

    try:
        return parse_day(text, dt.date.today())
    except DateError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _apply_globals(args: argparse.Namespace) -> None:
    if getattr(args, "home", None):
        os.environ["TRUSTDESK_HOME"] = args.home
    if getattr(args, "today", None):
        config.set_today(args.today)
    else:
        config.today()  # a bad TRUSTDESK_TODAY is reported before any work starts


def _open(args: argparse.Namespace, *, create: bool = False, new: bool = False):
    from trustdesk.store import open_database

    target = config.database_target(getattr(args, "db", None))
    return open_database(target, create=create, new=new)


def _out(text: str) -> None:
    """The command's output for a person: nothing in it reaches the terminal raw."""
    sys.stdout.write(for_terminal(text))
    sys.stdout.flush()


def _out_data(text: str) -> None:
    """A machine format that is already plain ASCII or escaped by its own rules (JSON, TOML)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def _fit_terminal(text: str) -> str:
    """Cut long lines to the terminal's width with an ellipsis; pipes and cron get them whole."""
    if not sys.stdout.isatty():
        return text
    import shutil

    from rich.cells import cell_len, set_cell_size

    width = shutil.get_terminal_size().columns
    lines = []
    for line in text.split("\n"):
        if cell_len(line) > width:
            line = set_cell_size(line, width - 1) + "…"
        lines.append(line)
    return "\n".join(lines)


def _say(text: str) -> None:
    """A line for the coach that is not the command's output."""
    print(for_terminal(text), file=sys.stderr)


def day_option(text: str, what: str = "date"):
    """A date option as people type it (`fri`, `+2w`, `3 dec`, ISO), counted from today.

    Read after the global options, so `--today` moves `tomorrow` too.
    """
    from trustdesk.trust.dates import DateError, parse_day

    try:
        return parse_day(text, config.today())
    except DateError as exc:
        raise UsageError(f"{what}: {exc}") from None


def moment_option(text: str, what: str = "time"):
    """A day and a time (`fri 10:00`, `2026-12-03 14:00`), counted from today."""
    from trustdesk.trust.dates import DateError, parse_moment

    try:
        return parse_moment(text, config.today())
    except DateError as exc:
        raise UsageError(f"{what}: {exc}") from None


def shown_day(value, today, **shape) -> str:
    """A date as trustdesk writes it everywhere ('Wed 02 Dec'; the year when not this year)."""
    from trustdesk.trust.dates import shown_day as shown

    return shown(value, today, **shape)


class _progress:
    """A progress bar on stderr for long work, shown only when stderr is a terminal."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(f"{self.title}: {stage}", total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def private_temp_dir() -> str | None:
    """The user's runtime folder (private, usually in memory) when there is one."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        info = os.stat(runtime)
        if info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return runtime
    return None


def edit_in_editor(text: str, *, prefix: str, what: str, outcome: str, instead: str) -> str:
    """`text` after $VISUAL or $EDITOR, on a 0600 file removed afterwards.

    `what` names the words ("the note"), `outcome` what a failure leaves ("nothing was
    written"), `instead` the other way to give them ("pipe the note on stdin").
    """
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        command = shlex.split(editor)
    except ValueError:
        raise UsageError(f"$EDITOR cannot be read as a command: {editor!r}") from None
    if not command:
        raise UsageError(f"$EDITOR is empty; set it, or {instead}")
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".txt", dir=private_temp_dir())
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            done = subprocess.run([*command, path])
        except OSError as exc:
            raise UsageError(f"cannot start the editor {command[0]}: {exc.strerror}") from None
        if done.returncode != 0:
            raise UsageError(f"the editor exited with {done.returncode}; {outcome}")
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except UnicodeDecodeError:
            raise UsageError(f"{what} is not UTF-8 text; {outcome}") from None
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
