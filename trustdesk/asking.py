"""Getting a passphrase or recovery code from the coach, at a terminal or from a private file.

There is deliberately no way to pass a passphrase in an environment variable or on
the command line: both can be read by other users of a shared server (`ps`,
/proc). Scripts use a file that only its owner can read, as gpg does.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from trustdesk import config


class AskError(Exception):
    """The secret could not be had; the message is one line and says what to do."""


def read_secret_file(path: str | os.PathLike[str], what: str = "passphrase") -> str:
    """The first line of a file that only its owner can read."""
    path = Path(path).expanduser()
    problem = config.loose_permission_problem(path)
    if problem:
        raise AskError(f"{what} file {problem}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AskError(f"{what} file {path} does not exist") from None
    except OSError as exc:
        raise AskError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AskError(f"{what} file {path} is not UTF-8 text") from None
    line = text.splitlines()[0] if text else ""
    if not line:
        raise AskError(f"{what} file {path} is empty")
    return line


def _tty_available() -> bool:
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


def ask(prompt: str, *, what: str = "passphrase", file_option: str = "--passphrase-file") -> str:
    """Ask at the terminal without echo; say how to avoid the question when there is none."""
    if not _tty_available():
        raise AskError(f"no terminal to ask for your {what}; use {file_option} PATH")
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        raise AskError(f"no {what} given") from None


def confirm(question: str) -> bool:
    """Ask a yes-or-no question at the terminal itself, so a piped stdin cannot answer it."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise AskError("no terminal to confirm at; add --yes if you are sure") from None
    # Unbuffered and in bytes: a terminal cannot seek, which text mode "r+" insists on.
    with open(fd, "r+b", buffering=0) as tty:
        tty.write(f"{question} [y/N] ".encode("utf-8", "replace"))
        answer = tty.readline().decode("utf-8", "replace")
    return answer.strip().lower() in ("y", "yes")


def ask_new_passphrase(minimum: int, intro: str = "") -> str:
    """Ask twice, so a typo does not lock the coach out of their own notes."""
    if not _tty_available():
        raise AskError("no terminal to ask for your passphrase; use --passphrase-file PATH")
    if intro:
        print(intro, file=sys.stderr)
    first = ask(f"New passphrase for your notes (at least {minimum} characters): ")
    if len(first) < minimum:
        raise AskError(f"a passphrase needs at least {minimum} characters")
    second = ask("The same passphrase again: ")
    if first != second:
        raise AskError("the two passphrases differ; nothing was changed")
    return first


def ask_line(question: str, default: str, *, terminal: str = "/dev/tty") -> str:
    """Ask for one line at the terminal itself, showing the answer that Enter keeps.

    With no terminal (cron, a script, a test) the default is the answer: nothing waits
    for a person who is not there. The default is shown with control characters made
    visible, since it may come from the system's account details.
    """
    from trustdesk.literal import visible

    try:
        fd = os.open(terminal, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return default
    with open(fd, "r+b", buffering=0) as tty:
        tty.write(f"{question} [{visible(default)}]: ".encode("utf-8", "replace"))
        answer = tty.readline().decode("utf-8", "replace")
    return answer.strip() or default
