"""Every output trustdesk writes for a person is safe on a terminal; file formats stay exact.

A payload holds one character of every class that can drive a terminal: C0 controls, ESC
sequences (ESC c, ESC #8, CSI, OSC title and OSC 52 clipboard writes), DEL, C1 controls,
bidi controls and zero-width characters. It is put in every field a command shows.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import tomllib
from pathlib import Path

from helpers import PASSPHRASE
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from trustdesk import cli
from trustdesk.literal import needs_escape
from trustdesk.trust.common import tidy
from trustdesk.trust.journey.templates import toml_string

CLASSES = {
    "c0": [chr(c) for c in range(0x20) if chr(c) not in "\t\n"],
    "escape": ["\x1bc", "\x1b#8", "\x1b[2J", "\x1b]0;owned\x07", "\x1b]52;c;SGVsbG8=\x07"],
    "del": ["\x7f"],
    "c1": ["\x9b31m", "\x9d0;title\x9c", "\x85", "\x90"],
    "bidi": ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"],
    "zero_width": ["\u200b", "\ufeff", "\u2060", "\u2028", "\u2029"],
}

payloads = st.tuples(*[st.sampled_from(v) for v in CLASSES.values()], st.text(max_size=8)).map(
    lambda parts: "Ann " + "".join(parts) + " Lee"
)


def _safe(text: str) -> bool:
    # CRLF ends the lines of calendar and CSV files; it only starts a new line on screen.
    return not any(needs_escape(ch) for ch in text.replace("\r\n", "\n") if ch not in "\n\t")


def _program_toml(payload: str, *, extra: str = "") -> str:
    return (
        f"name = {toml_string(payload)}\nsummary = {toml_string(payload)}\n"
        f"typical_sessions = 3\n{extra}\n[[stages]]\nname = {toml_string(payload)}\n"
        f"purpose = {toml_string(payload)}\ntypical_sessions = 3\n"
        f"asks_of_client = {toml_string(payload)}\n"
    )


@hsettings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=payloads)
def test_every_output_is_terminal_safe_and_file_formats_stay_exact(
    payload, capsys, monkeypatch, isolated_home
):
    from trustdesk.store import Coach, open_database

    here = Path(tempfile.mkdtemp(dir=isolated_home))
    db = str(here / "p.sqlite3")
    pf = here / "pf"
    pf.write_text(PASSPHRASE + "\n")
    pf.chmod(0o600)
    assert cli.main(["--db", db, "init", "--name", payload, "--passphrase-file", str(pf)]) == 0
    database = open_database(db)
    Coach.update(name=payload).execute()
    database.close()
    clients = here / "c.csv"
    out = io.StringIO()
    csv.writer(out).writerows([["name", "phone"], [payload, payload]])
    clients.write_text(out.getvalue().replace("\x00", ""))
    good = here / "good.toml"
    good.write_text(_program_toml(payload))
    bad = here / "bad.toml"
    bad.write_text(_program_toml(payload, extra=f"{toml_string(payload)} = 1"))
    # Every output as if on a terminal: what a person would see.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--db", db, *args])
        got = capsys.readouterr()
        assert _safe(got.out) and _safe(got.err), (args, got)
        return code, got.out, got.err

    run("import", str(clients))
    assert run("program", "import", str(bad))[0] != 0
    assert run("program", "import", str(good))[0] == 0
    run("program", "list")
    shown = tidy(payload)  # the name as a template keeps it
    assert run("program", "show", shown)[0] == 0
    run("program", "show", shown, "--markdown")
    code, toml_out, _ = run("program", "show", shown, "--toml")
    assert code == 0 and tomllib.loads(toml_out)["name"] == shown
    assert run("program", "show", payload + "?")[0] != 0
    run("report")
    code, report, _ = run("report", "--json")
    assert code == 0 and json.loads(report)
    run("key", "status")
    run("export", "--csv")
    run("export", "--ics")
    code, exported, _ = run("export")
    tables = json.loads(exported)["tables"]
    assert tables["client"][0]["name"] == payload.replace("\x00", "")
    assert json.loads(exported)["coach"]["name"] == payload
    run("--today", payload, "report")
