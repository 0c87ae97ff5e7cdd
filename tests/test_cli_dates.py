"""The command line reads dates as people type them, and refuses a guess in one line."""

import datetime as dt
import json


def test_today_looks_ahead_as_typed_and_refuses_an_ambiguous_day(initialised):
    before = dt.date.today()
    ahead = initialised("--today", "+7", "report", "--json")
    after = dt.date.today()  # a run across midnight may have read either day
    assert ahead.returncode == 0, ahead.stderr
    week = dt.timedelta(days=7)
    assert json.loads(ahead.stdout)["today"] in {
        (before + week).isoformat(),
        (after + week).isoformat(),
    }
    refused = initialised("--today", "03/04", "report")
    assert refused.returncode == 2 and refused.stdout == b""
    said = refused.stderr.decode().strip()
    assert "\n" not in said and "could be read two ways; type it as 3 apr or 4 mar" in said


def test_start_up_imports_neither_the_store_nor_the_rules():
    """`trustdesk --help` and `--version` answer before the store, the rules or the vault load."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from trustdesk.cli import main\n"
        "for argv in (['--help'], ['--version'], ['client', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m == 'peewee' or m.startswith(\n"
        "    ('trustdesk.store', 'trustdesk.trust', 'trustdesk.vault', 'textual')))\n"
        "print('loaded:', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stderr


def test_a_command_line_read_unlike_the_quick_look_still_parses(monkeypatch):
    from trustdesk import cli

    assert cli._command_word(["--db", "client", "--home=x", "promise", "list"]) == "promise"
    monkeypatch.setattr(cli, "_command_word", lambda argv: None)  # every command left unbuilt
    parsed = []
    monkeypatch.setattr("trustdesk.cli.today.cmd_today", lambda args: parsed.append(args) or 0)
    assert cli.main(["--today", "2026-12-01", "today", "--json"]) == 0
    assert parsed and parsed[0].json is True
