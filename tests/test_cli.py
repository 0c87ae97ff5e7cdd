"""Every command and every error a coach can cause, through a real process."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from helpers import TODAY, one_line_error, text


def test_version(run):
    result = run("--version")
    assert result.returncode == 0
    assert text(result)[0].startswith("trustdesk 0.")


def test_help_lists_every_command(run):
    out, _ = text(run("--help"))
    for command in ("demo", "init", "report", "import", "export", "backup"):
        assert command in out


@pytest.mark.sqlite_only  # the file itself
def test_init_creates_a_private_database_once(initialised, isolated_home):
    db = isolated_home / "trustdesk.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    before = db.read_bytes()
    line = one_line_error(initialised("init"), code=2)
    assert "already exists" in line
    assert db.read_bytes() == before


def test_global_options_work_before_or_after_the_command(
    initialised, isolated_home, tmp_path, passphrase_file
):
    other = tmp_path / "elsewhere.sqlite3"
    pf = str(passphrase_file)
    assert (
        initialised("--db", str(other), "init", "--name", "A", "--passphrase-file", pf).returncode
        == 0
    )
    assert initialised("report", "--db", str(other)).returncode == 0
    result = initialised("report", "--today", "2026-01-05", "--json")
    assert json.loads(result.stdout)["today"] == "2026-01-05"
    result = initialised("--today", "2026-01-06", "report", "--json")
    assert json.loads(result.stdout)["today"] == "2026-01-06"
    result = initialised("report", "--json", env={"TRUSTDESK_TODAY": "2026-01-07"})
    assert json.loads(result.stdout)["today"] == "2026-01-07"
    result = initialised("report", "--json", env={"TRUSTDESK_DB": str(other)})
    assert json.loads(result.stdout)["coach"] == "A"


def test_home_option_moves_the_data_directory(run, tmp_path, passphrase_file):
    home = tmp_path / "coach-home"
    pf = str(passphrase_file)
    assert run("--home", str(home), "init", "--name", "B", "--passphrase-file", pf).returncode == 0
    assert (home / "trustdesk.sqlite3").exists()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (("--bogus",), {}, "unrecognized arguments: --bogus"),
        (("frobnicate",), {}, "invalid choice"),
        (("report", "--today", "2026-02-30"), {}, "'2026-02-30' is not a date"),
        (("report",), {"TRUSTDESK_TODAY": "tomorrow"}, "TRUSTDESK_TODAY 'tomorrow' is not a date"),
        (("report", "--limit", "-3"), {}, "must not be negative"),
    ],
)
def test_usage_mistakes_are_one_line(initialised, args, env, fragment):
    line = one_line_error(initialised(*args, env=env))
    assert fragment in line


def test_report_without_a_database_says_how_to_start_and_writes_nothing(run, isolated_home):
    line = one_line_error(run("report"), code=1)
    assert "trustdesk init" in line
    assert list(isolated_home.iterdir()) == []


@pytest.mark.sqlite_only  # the file itself
def test_loose_permissions_are_refused_with_the_fix(initialised, isolated_home):
    db = isolated_home / "trustdesk.sqlite3"
    os.chmod(db, 0o644)
    line = one_line_error(initialised("report"), code=1)
    assert f"chmod 600 '{db}'" in line


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
@pytest.mark.sqlite_only  # the file itself
def test_another_owner_is_refused_with_the_fix(initialised, isolated_home):
    db = isolated_home / "trustdesk.sqlite3"
    os.chown(db, 65534, 65534)
    assert "chown" in one_line_error(initialised("report"), code=1)


def test_a_non_trustdesk_file_is_refused_and_untouched(run, tmp_path):
    other = tmp_path / "budget.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE budget (amount INTEGER)")
    conn.commit()
    conn.close()
    os.chmod(other, 0o600)
    before = other.read_bytes()
    assert "not a trustdesk database" in one_line_error(run("--db", str(other), "report"))
    assert other.read_bytes() == before


@pytest.mark.sqlite_only  # the file itself
def test_a_newer_schema_is_refused(initialised, isolated_home):
    conn = sqlite3.connect(isolated_home / "trustdesk.sqlite3")
    conn.execute("INSERT INTO schema_migration (name, applied) VALUES ('0042_later', '2030-01-01')")
    conn.commit()
    conn.close()
    assert "newer trustdesk" in one_line_error(initialised("report"))


def test_report_text_and_json_on_the_demo(run):
    assert run("demo", "--no-tui", "--today", TODAY).returncode == 0
    result = run("report", "--db", "demo.sqlite3", "--today", TODAY, "--json")
    assert result.returncode == 0, text(result)
    data = json.loads(result.stdout)
    assert data["overdue_promises"], "the demo has overdue promises"
    assert data["quiet"] and data["due_for_contact"]
    assert 0 <= data["follow_through"]["coach"]["rate"] <= 1
    assert 0 <= data["punctuality"]["rate"] <= 1
    out = text(run("report", "--db", "demo.sqlite3", "--today", TODAY))[0]
    assert f"Overdue promises: {len(data['overdue_promises'])}" in out
    assert f"Gone quiet (past their maximum gap): {len(data['quiet'])}" in out


def test_demo_builds_once(run, isolated_home):
    first = run("demo", "--no-tui", "--today", TODAY)
    assert first.returncode == 0, text(first)
    demo_db = isolated_home / "demo.sqlite3"
    assert stat.S_IMODE(demo_db.stat().st_mode) == 0o600
    assert "Built a demo practice" in text(first)[1]
    assert "Overdue promises:" in text(first)[0]
    # Without a terminal the dashboard cannot open: one line, and the demo is kept.
    no_tty = run("demo", "--today", TODAY)
    assert "needs a terminal" in no_tty.stderr.decode()
    assert no_tty.returncode == 2
    again = run("demo", "--no-tui", "--today", TODAY)
    assert "Built a demo practice" not in text(again)[1]
    later = run("demo", "--no-tui", "--today", "2026-04-01")
    assert "--rebuild" in text(later)[1]
    assert "demo keeps its own database" in one_line_error(run("demo", "--db", "x.sqlite3"))


def test_import_all_or_nothing_through_the_cli(initialised, tmp_path):
    good = tmp_path / "clients.csv"
    good.write_text("name,email,ideal_gap_days\nAnn Lee,ann@example.com,10\nBo Chen,,14\n")
    result = initialised("import", str(good))
    assert result.returncode == 0, text(result)
    assert "Imported 2 clients" in text(result)[1]

    bad = tmp_path / "bad.csv"
    bad.write_text("name,started_on\nCara,2026-01-01\n,2026-01-01\nDee,2026-99-01\n")
    result = initialised("import", str(bad))
    assert result.returncode == 1
    err = text(result)[1]
    assert "Traceback" not in err
    assert "line 3" in err and "line 4" in err and "nothing was imported" in err
    data = json.loads(initialised("export", "--json").stdout)
    assert [c["name"] for c in data["tables"]["client"]] == ["Ann Lee", "Bo Chen"]


def test_import_of_a_missing_file_is_one_line(initialised, tmp_path):
    line = one_line_error(initialised("import", str(tmp_path / "nope.csv")))
    assert "cannot read" in line


def test_export_json_streams_every_table_without_sealed_bodies(run, tmp_path):
    assert run("demo", "--no-tui", "--today", TODAY).returncode == 0
    result = run("--db", "demo.sqlite3", "--today", TODAY, "export", "--json")
    assert result.returncode == 0, text(result)
    data = json.loads(result.stdout)
    assert data["format"] == "trustdesk-export"
    tables = data["tables"]
    for name in ("program", "stage", "client", "session", "commitment", "touch", "note"):
        assert name in tables
    assert tables["client"] and tables["touch"] and tables["commitment"]
    assert "key_slot" not in tables
    dest = tmp_path / "practice.json"
    result = run("--db", "demo.sqlite3", "--today", TODAY, "export", "--output", str(dest))
    assert result.returncode == 0, text(result)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert json.loads(dest.read_text()) == data
    assert "already exists" in one_line_error(
        run("--db", "demo.sqlite3", "export", "-o", str(dest))
    )


@pytest.mark.sqlite_only  # the file itself
def test_backup_command(initialised, tmp_path):
    dest = tmp_path / "nightly.sqlite3"
    result = initialised("backup", str(dest))
    assert result.returncode == 0, text(result)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert "already exists" in one_line_error(initialised("backup", str(dest)))
    folder = tmp_path / "backups"
    folder.mkdir()
    assert initialised("backup", str(folder)).returncode == 0
    assert len(list(folder.iterdir())) == 1


@pytest.mark.sqlite_only  # the file itself
def test_backup_to_an_unwritable_place_is_one_line(initialised, tmp_path):
    line = one_line_error(initialised("backup", str(tmp_path / "missing-dir" / "b.sqlite3")))
    assert "does not exist" in line


def test_the_dashboard_without_a_terminal_says_what_to_use_instead(initialised):
    line = one_line_error(initialised("--today", TODAY), code=2)
    assert "needs a terminal" in line and "trustdesk report" in line


@pytest.mark.parametrize(
    "command",
    [("report",), ("report", "--json"), ("export",), ("demo", "--no-tui"), ("--version",)],
)
def test_commands_without_the_dashboard_never_import_textual(
    initialised, command, isolated_home, practice_target
):
    code = (
        "import sys\n"
        "from trustdesk.cli import main\n"
        "try:\n"
        f"    code = main({list(command)!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "assert code == 0, code\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTDESK_")}
    env["TRUSTDESK_HOME"] = str(isolated_home)
    env["TRUSTDESK_DB"] = str(practice_target)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, cwd=isolated_home, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()


def test_a_sqlite_url_gets_the_same_checks_as_a_path(run, tmp_path):
    other = tmp_path / "budget.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE budget (amount INTEGER)")
    conn.commit()
    conn.close()
    os.chmod(other, 0o600)
    before = other.read_bytes()
    line = one_line_error(run("--db", f"sqlite:///{other}", "report"))
    assert "not a trustdesk database" in line
    assert other.read_bytes() == before
    os.chmod(other, 0o644)
    assert "chmod 600" in one_line_error(run("--db", f"sqlite:///{other}", "report"))


def test_a_server_that_does_not_answer_is_named_without_its_password(run):
    # Port 9 (discard) on loopback: nothing that speaks PostgreSQL listens there.
    line = one_line_error(run("--db", "postgresql://coach:hunter2@127.0.0.1:9/td", "report"))
    assert "cannot connect to" in line
    assert "hunter2" not in line and "coach:***@127.0.0.1:9" in line
    line = one_line_error(run("--db", "mysql://coach:hunter2@localhost/td", "report"))
    assert "mysql://" in line and "hunter2" not in line


@pytest.mark.parametrize(
    "home", ["/proc/trustdesk-cannot-exist", "{tmp}/a-file/below"], ids=["proc", "under-a-file"]
)
def test_a_home_that_cannot_be_made_is_one_line(run, tmp_path, passphrase_file, home):
    (tmp_path / "a-file").write_text("x")
    home = home.format(tmp=tmp_path)
    line = one_line_error(run("--home", home, "init", "--passphrase-file", str(passphrase_file)))
    assert "cannot create folder" in line or "not a folder" in line


def test_failed_commands_leave_no_folders_behind(run, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("tiny\n")
    os.chmod(short, 0o600)
    home = tmp_path / "fresh" / "home"
    assert "at least 8" in one_line_error(
        run("--home", str(home), "init", "--passphrase-file", str(short))
    )
    assert one_line_error(run("--home", str(home), "demo", "--no-tui", "--clients", "0"))
    assert not (tmp_path / "fresh").exists()


def test_demo_opens_the_dashboard_in_a_real_terminal_and_q_quits(run, isolated_home):
    """The README's demo command, end to end, through a pseudo-terminal of 80x24."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    assert run("demo", "--no-tui", "--today", TODAY).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(
        TRUSTDESK_HOME=str(isolated_home),
        TRUSTDESK_TODAY=TODAY,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        TERM="xterm-256color",
    )
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "trustdesk", "demo"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=isolated_home,
        start_new_session=True,
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Overdue promises (" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        assert b"Overdue promises (" in seen, seen[-2000:]
        os.write(leader, b"q")
        # Keep reading while it quits: a terminal that nobody reads blocks the writer.
        deadline = time.monotonic() + 30
        while child.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    os.read(leader, 65536)
                except OSError:
                    break
        assert child.wait(timeout=5) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)


def test_export_csv_is_spreadsheet_safe_and_imports_again(initialised, tmp_path, run):
    import csv
    import io

    rows = 'name,phone,program\n=HYPERLINK("x"),+1 555 0100,\nAnn [b]Lee[/b],-3,\n'
    source = tmp_path / "in.csv"
    source.write_text(rows)
    assert initialised("import", str(source)).returncode == 0
    result = initialised("export", "--csv")
    assert result.returncode == 0, text(result)
    table = list(csv.reader(io.StringIO(result.stdout.decode())))
    assert table[0][:3] == ["name", "email", "phone"]
    cells = {c for row in table[1:] for c in row}
    assert '\'=HYPERLINK("x")' in cells and "'+1 555 0100" in cells and "'-3" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)

    out = tmp_path / "clients.csv"
    assert initialised("export", "--csv", "-o", str(out)).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.sqlite3"
    pf = tmp_path / "passphrase.txt"
    assert run("--db", str(fresh), "init", "--passphrase-file", str(pf)).returncode == 0
    assert run("--db", str(fresh), "import", str(out)).returncode == 0
    again = json.loads(run("--db", str(fresh), "export").stdout)["tables"]["client"]
    assert {(c["name"], c["phone"]) for c in again} == {
        ('=HYPERLINK("x")', "+1 555 0100"),
        ("Ann [b]Lee[/b]", "-3"),
    }


# One of each kind of character that can drive a terminal: C0, ESC sequences (reset,
# screen fill, OSC title, OSC 52 clipboard), DEL, C1 (CSI, OSC), bidi, zero width.
TERMINAL_PAYLOAD = (
    "\x1bc\x1b#8\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x7f\x9b31m\x9d0;t\x9c"
    "\u202eevil\u2066\u200b\ufeff\x08\x01"
)


def _raw_terminal_controls(data: bytes) -> list[str]:
    from trustdesk.literal import needs_escape

    text = data.decode("utf-8")
    return [ch for ch in text if ch not in "\n\t" and needs_escape(ch)]


def _toml_basic(text: str) -> str:
    return '"' + "".join(f"\\U{ord(ch):08x}" for ch in text) + '"'


def test_program_outputs_and_errors_never_reach_the_terminal_raw(run, initialised, tmp_path):
    import tomllib

    name = "Plan " + TERMINAL_PAYLOAD
    template = tmp_path / "plan.toml"
    template.write_text(
        f"name = {_toml_basic(name)}\nsummary = {_toml_basic(TERMINAL_PAYLOAD)}\n"
        "typical_sessions = 2\n\n[[stages]]\n"
        f"name = {_toml_basic('Start ' + TERMINAL_PAYLOAD)}\npurpose = {_toml_basic('p')}\n"
        f'typical_sessions = 2\nasks_of_client = "a"\n',
        encoding="utf-8",
    )
    added = run("program", "import", str(template))
    assert added.returncode == 0, added.stderr
    assert not _raw_terminal_controls(added.stderr)

    for option in ("--markdown", "--toml", None):
        shown = run("program", "show", name, *([option] if option else []))
        assert shown.returncode == 0, shown.stderr
        assert not _raw_terminal_controls(shown.stdout), option
        assert not _raw_terminal_controls(shown.stderr), option
        if option == "--toml":
            assert tomllib.loads(shown.stdout.decode())["name"] == name

    listed = run("program", "list")
    assert not _raw_terminal_controls(listed.stdout)

    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'name = "x"\nsummary = "y"\ntypical_sessions = 1\n{_toml_basic(TERMINAL_PAYLOAD)} = 1\n',
        encoding="utf-8",
    )
    refused = run("program", "import", str(bad))
    assert refused.returncode != 0
    assert len(refused.stderr.decode().strip().splitlines()) == 1
    assert not _raw_terminal_controls(refused.stderr)
