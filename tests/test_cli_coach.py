"""`trustdesk coach`: the coach's name and email, shown and changed, and `init` asking the
name at a terminal; on both backends (a coach of a PostgreSQL practice may change only
their own name and email)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import subprocess
import sys
import termios
import time

import pytest
from helpers import one_line_error, text


def profile(run) -> dict:
    result = run("coach", "--json")
    assert result.returncode == 0, text(result)
    return json.loads(result.stdout)


def test_coach_shows_the_name_and_email(initialised):
    out, _ = text(initialised("coach"))
    assert out == "Name: Morgan Reyes\nEmail: (none)\n"
    assert profile(initialised) == {"name": "Morgan Reyes", "email": ""}


def test_a_new_name_is_saved_and_signs_reports_and_exports(initialised, store_backend, request):
    result = initialised("coach", "--name", "  Morgan Lee ", "--email", "morgan@example.com")
    assert result.returncode == 0, text(result)
    assert text(result)[0] == "Now signing as: Morgan Lee\nEmail: morgan@example.com\n"
    assert profile(initialised) == {"name": "Morgan Lee", "email": "morgan@example.com"}
    assert json.loads(initialised("report", "--json").stdout)["coach"] == "Morgan Lee"
    # The email alone, and --json after a change.
    result = initialised("coach", "--email", "", "--json")
    assert json.loads(result.stdout) == {"name": "Morgan Lee", "email": ""}
    if store_backend == "postgresql":
        import psycopg

        practice = request.getfixturevalue("pg_practice")
        with psycopg.connect(practice.admin) as conn:
            names = dict(conn.execute("SELECT db_role, name FROM coach").fetchall())
        assert names == {practice.ann_role: "Morgan Lee", practice.ben_role: "Ben Coach"}


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--name", "   "], "your name is empty"),
        (["--name", "Morgan\nLee"], "your name is one line"),
        (["--name", "M" * 121], "longer than 120 characters"),
        (["--email", "not an address"], "is not an email address"),
        (["--name", "Morgan Lee", "--email", "nope"], "is not an email address"),
    ],
)
def test_a_bad_name_or_email_is_one_line_and_changes_nothing(initialised, options, says):
    line = one_line_error(initialised("coach", *options))
    assert says in line
    assert profile(initialised) == {"name": "Morgan Reyes", "email": ""}


def test_coach_without_a_practice_says_how_to_start(run):
    line = one_line_error(run("coach"))
    assert "trustdesk init" in line or "not a coach" in line


@pytest.mark.sqlite_only  # init makes a SQLite file
def test_init_without_a_terminal_takes_the_logins_name(run, passphrase_file):
    from trustdesk.cli import _default_coach_name

    result = run("init", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    assert profile(run)["name"] == _default_coach_name()


def _init_at_a_terminal(home, passphrase_file, answer: bytes) -> tuple[str, int]:
    """Run `trustdesk init` with a pseudo-terminal as its stdin and controlling terminal,
    type `answer`, and hand back what the terminal showed and the exit code."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(TRUSTDESK_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")

    def take_the_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "trustdesk", "init", "--passphrase-file", str(passphrase_file)],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=take_the_terminal,  # noqa: PLW1509 - runs after setsid, before exec
    )
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 60
    while b"]: " not in shown and time.monotonic() < deadline:
        shown += os.read(leader, 1024)
    os.write(leader, answer)
    process.communicate(timeout=60)
    os.close(leader)
    return shown.decode(), process.returncode


@pytest.mark.sqlite_only
def test_init_asks_the_name_at_a_terminal_offering_the_logins(run, isolated_home, passphrase_file):
    from trustdesk.cli import _default_coach_name

    shown, code = _init_at_a_terminal(isolated_home, passphrase_file, b"Morgan Lee\n")
    assert code == 0
    assert f"Your name as the coach, as it signs your prompts [{_default_coach_name()}]: " in shown
    assert profile(run)["name"] == "Morgan Lee"


@pytest.mark.sqlite_only
def test_enter_at_inits_question_keeps_the_logins_name(run, isolated_home, passphrase_file):
    from trustdesk.cli import _default_coach_name

    _, code = _init_at_a_terminal(isolated_home, passphrase_file, b"\n")
    assert code == 0
    assert profile(run)["name"] == _default_coach_name()
