"""Shell habits: completion scripts, `help TOPIC`, --json on key status and program list,
`report --quiet` for cron, and the refusal of the full-screen app on a dumb terminal.

In-process through `cli.main` wherever the process itself is not the point; the shells
load the completion scripts in subprocesses (zsh and fish only where they are installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE, TODAY

from trustdesk import cli
from trustdesk.cli.completion import completion_script


@pytest.fixture
def practice(isolated_home):
    """A practice file with its coach and no clients; the path to give --db."""
    from trustdesk.store import ensure_coach, open_database

    path = isolated_home / "practice.sqlite3"
    database = open_database(path, create=True)
    ensure_coach("Morgan Reyes")
    database.close()
    return path


@pytest.fixture
def td(practice, capsys):
    """`trustdesk --db PRACTICE --today TODAY ARGS`, in this process: (exit code, out, err)."""

    def run(*args):
        capsys.readouterr()
        code = cli.main(["--db", str(practice), "--today", TODAY, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("trustdesk: ") and "Traceback" not in err
    return lines[0]


# --- completion ---------------------------------------------------------------------------

BASH_SIMULATION = r"""
source "$1"
complete -p trustdesk
sim() {
  COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
  read -ra COMP_WORDS <<< "$COMP_LINE"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  _shtab_trustdesk trustdesk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$*=>${COMPREPLY[*]}"
}
sim trustdesk rep
sim trustdesk report --qu
sim trustdesk promise a
sim trustdesk completion ' '
sim trustdesk import cl
"""


def test_bash_loads_the_script_and_completes_commands_options_and_files(tmp_path, capsys):
    assert cli.main(["completion", "bash"]) == 0
    script = tmp_path / "trustdesk.bash"
    script.write_text(capsys.readouterr().out)
    (tmp_path / "clients.csv").write_text("name\n")
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_SIMULATION, "bash", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "complete -o bashdefault -F _shtab_trustdesk trustdesk"
    answers = dict(line.split("=>", 1) for line in lines[1:])
    assert answers["trustdesk rep"] == "report"
    assert answers["trustdesk report --qu"] == "--quiet"
    # A command kept in its own module is completed with its actions (the full parser).
    assert answers["trustdesk promise a"] == "add"
    assert answers["trustdesk completion  "].split() == ["bash", "zsh", "fish"]
    assert answers["trustdesk import cl"] == "clients.csv"


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_a_command_from_the_script_on_its_fpath(tmp_path):
    folder = tmp_path / "zfunc"
    folder.mkdir()
    (folder / "_trustdesk").write_text(completion_script("zsh"))
    # zsh completes only in an interactive line editor: one under a pseudo-terminal.
    driver = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; print READY"
zpty -r -m z out '*READY*' || exit 3
zpty -n -w z "trustdesk rep"$'\t'
all=''
for i in {1..50}; do
  zpty -r -t z chunk && all+=$chunk
  [[ $all == *"trustdesk report"* ]] && { print COMPLETED; zpty -d z; exit 0 }
  sleep 0.1
done
zpty -d z
exit 1
"""
    result = subprocess.run(
        ["zsh", "-f", "-c", driver, "zsh", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "COMPLETED" in result.stdout, (result.stdout, result.stderr)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_and_options(tmp_path):
    script = tmp_path / "trustdesk.fish"
    script.write_text(completion_script("fish"))
    result = subprocess.run(
        [
            "fish",
            "--no-config",
            "-c",
            f"source {script}; complete -C 'trustdesk rep'; echo ---; "
            "complete -C 'trustdesk report --qu'; echo ---; complete -C 'trustdesk promise a'",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    words = [[line.split("\t")[0] for line in part.strip().splitlines()]
             for part in result.stdout.split("---")]  # fmt: skip
    assert words == [["report"], ["--quiet"], ["add"]]


def test_completion_of_an_unknown_shell_is_one_line(capsys):
    assert cli.main(["completion", "tcsh"]) == 2
    assert "invalid choice: 'tcsh'" in one_line(capsys.readouterr().err)


# --- help TOPIC ---------------------------------------------------------------------------


def test_help_without_a_topic_is_the_main_help(capsys):
    assert cli.main(["help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: trustdesk ")
    for command in ("report", "import", "promise", "today", "completion", "help"):
        assert f"\n    {command} " in out


@pytest.mark.parametrize("topic", [["import"], ["promise", "add"], ["key", "status"]])
def test_help_on_a_command_is_that_commands_help(capsys, topic):
    assert cli.main(["help", *topic]) == 0
    shown = capsys.readouterr().out
    with pytest.raises(SystemExit) as exit:
        cli.main([*topic, "--help"])
    assert exit.value.code == 0
    assert shown == capsys.readouterr().out
    assert shown.startswith(f"usage: trustdesk {' '.join(topic)} ")


@pytest.mark.parametrize(
    ("topic", "fragment"),
    [
        (["frobnicate"], "no help topic 'frobnicate'; the topics are: backup, calendar, client,"),
        (["promise", "frob"], "the topics under promise are: add, done, drop, list, renegotiate"),
        (["today", "extra"], "'today' has no topics under it"),
    ],
)
def test_an_unknown_help_topic_is_one_line_listing_the_topics(capsys, topic, fragment):
    assert cli.main(["help", *topic]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert fragment in one_line(err)


# --- key status --json --------------------------------------------------------------------


def _make_key(practice, *, use_keyring=False):
    from trustdesk.store import current_coach, open_database
    from trustdesk.vault import Vault

    database = open_database(practice)
    try:
        setup = Vault(current_coach()).create(
            passphrase=PASSPHRASE, use_keyring=use_keyring, argon2=FAST_ARGON2
        )
    finally:
        database.close()
    return setup


def test_key_status_json_before_any_key(td):
    code, out, err = td("key", "status", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["key_ids"] == [] and data["slots"] == []
    assert data["unlockable_now"] is False
    assert data["locked_because"] == "no key has been set up yet"


def test_key_status_json_says_the_facts_and_nothing_secret(td, practice):
    setup = _make_key(practice)
    code, out, err = td("key", "status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {
        "key_ids", "slots", "reseal_advised", "keyring", "unlockable_now", "unlocked_through",
        "locked_because",
    }  # fmt: skip
    assert data["key_ids"] == [setup.key_id]
    assert sorted(s["kind"] for s in data["slots"]) == ["passphrase", "recovery"]
    assert all(set(s) == {"kind", "key_id", "added_at"} for s in data["slots"])
    keyring = data["keyring"]
    assert (keyring["backend"], keyring["usable"]) == ("conftest.MemoryKeyring", False)
    assert "not a keyring trustdesk knows to be secure" in keyring["reason"]
    assert (data["unlockable_now"], data["unlocked_through"]) == (False, None)
    assert data["locked_because"] == "notes open with your passphrase"
    assert data["reseal_advised"] is False
    assert PASSPHRASE not in out and setup.recovery_code not in out
    # The text says the same facts.
    code, text_out, _ = td("key", "status")
    assert setup.key_id in text_out and "Unlockable now: no" in text_out


def test_key_status_json_with_a_second_key_prints_it_and_warns(td, practice):
    import os
    import uuid

    from trustdesk.store import current_coach, open_database
    from trustdesk.store.models import KeySlot
    from trustdesk.vault.sealing import new_key_id

    setup = _make_key(practice)
    database = open_database(practice)
    try:
        injected = new_key_id()
        KeySlot.create(
            id=uuid.uuid4(),
            coach=current_coach(),
            kind="passphrase",
            key_id=injected,
            wrapped_key=os.urandom(60),
            params="{}",
        )
    finally:
        database.close()
    code, out, err = td("key", "status", "--json")
    assert code == 1
    assert json.loads(out)["key_ids"] == sorted([setup.key_id, injected])
    assert "2 different keys" in one_line(err)


def test_key_status_json_unlockable_through_the_keyring(td, practice, memory_keyring):
    setup = _make_key(practice, use_keyring=True)
    code, out, err = td("key", "status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "keyring" in {s["kind"] for s in data["slots"]}
    assert data["keyring"]["usable"] is True and data["keyring"]["reason"] is None
    assert (data["unlockable_now"], data["unlocked_through"]) == (True, "keyring")
    assert data["locked_because"] is None
    assert all(secret not in out for secret in memory_keyring.secrets.values())
    assert setup.recovery_code not in out


# --- program list --json ------------------------------------------------------------------


def test_program_list_json_with_stages_counts_and_starters(td):
    code, out, _ = td("program", "list", "--json")
    assert code == 0
    empty = json.loads(out)
    assert empty["programs"] == []
    keys = [s["key"] for s in empty["starters"]]
    assert keys == ["career-transition", "health-habits", "leadership"]
    assert not any(s["added"] for s in empty["starters"])

    assert td("program", "import", "career-transition")[0] == 0
    (career,) = [s for s in empty["starters"] if s["key"] == "career-transition"]
    second = career["stages"][1]["name"]
    assert td("client", "add", "Ann Lee", "--program", career["name"], "--stage", second)[0] == 0
    assert td("client", "add", "Bo Chen", "--program", career["name"])[0] == 0
    assert td("client", "add", "Cy Prospect", "--status", "prospect")[0] == 0

    code, out, err = td("program", "list", "--json")
    assert code == 0, err
    data = json.loads(out)
    (mine,) = data["programs"]
    assert set(mine) == {"name", "typical_sessions", "active_clients", "stages"}
    assert mine["name"] == career["name"] and mine["active_clients"] == 2
    assert [st["name"] for st in mine["stages"]] == [st["name"] for st in career["stages"]]
    assert [st["position"] for st in mine["stages"]] == list(range(1, len(career["stages"]) + 1))
    at_stage = {st["name"]: st["active_clients"] for st in mine["stages"]}
    assert at_stage[second] == 1
    assert sum(at_stage.values()) == 2  # Bo starts at the first stage
    assert {s["key"]: s["added"] for s in data["starters"]} == {
        "career-transition": True,
        "health-habits": False,
        "leadership": False,
    }
    assert set(data["starters"][0]) == {
        "key", "name", "summary", "typical_sessions", "stages", "added"
    }  # fmt: skip


# --- report --quiet -----------------------------------------------------------------------


def test_report_quiet_is_silent_when_nothing_needs_attention(td):
    assert td("report", "--quiet") == (0, "", "")
    # A client just in touch with a promise due in three days: due soon is not yet late.
    assert td("client", "add", "Ann Lee", "--last-contact", TODAY)[0] == 0
    assert td("promise", "add", "Ann", "Send the reading list", "--due", "+3")[0] == 0
    assert td("report", "--quiet") == (0, "", "")
    assert td("report", "--quiet", "--json") == (0, "", "")
    # Without --quiet the same report is printed, and exits 0.
    code, out, _ = td("report")
    assert code == 0 and "Due soon (within 7 days): 1" in out


@pytest.mark.parametrize(
    ("setup", "section"),
    [
        (
            [("client", "add", "Ann Lee", "--last-contact", TODAY),
             ("promise", "add", "Ann", "Send the reading list", "--due", "2026-03-10",
              "--today", "2026-03-02")],
            "Overdue promises: 1",
        ),
        ([("client", "add", "Ann Lee", "--last-contact", "2026-01-05")], "Gone quiet"),
        (
            [("client", "add", "Ann Lee", "--last-contact", "2026-03-01", "--ideal-gap", "10",
              "--max-gap", "30")],
            "Due for contact: 1",
        ),
    ],
)  # fmt: skip
def test_report_quiet_speaks_and_exits_1_when_something_needs_attention(td, setup, section):
    for command in setup:
        assert td(*command)[0] == 0
    code, out, err = td("report", "--quiet")
    assert (code, err) == (1, "")
    assert out.startswith("trustdesk report for Morgan Reyes") and section in out
    code, out, err = td("report", "--quiet", "--json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data["overdue_promises"] or data["quiet"] or data["due_for_contact"]


def test_report_quiet_error_is_one_line_and_exit_1(isolated_home, capsys):
    code = cli.main(["--db", str(isolated_home / "missing.sqlite3"), "report", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "trustdesk init" in one_line(err)


def test_report_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "exit 0 when nothing needs attention" in out and "exit 1" in out


# --- a terminal that cannot draw the dashboard ----------------------------------------------


@pytest.fixture
def terminal(monkeypatch, capsys):
    """Call it in the test (capture swaps sys.stdout between setup and call): stdin and the
    captured stdout then look like a terminal whose TERM is `term` (None: not set)."""

    def look_like_one(term: str | None) -> None:
        monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
        if term is None:
            monkeypatch.delenv("TERM", raising=False)
        else:
            monkeypatch.setenv("TERM", term)

    return look_like_one


@pytest.mark.parametrize("term", ["dumb", "", None])
def test_the_demo_refuses_a_dumb_terminal_before_building_anything(
    terminal, isolated_home, capsys, term
):
    terminal(term)
    assert cli.main(["demo", "--today", TODAY]) == 2
    line = one_line(capsys.readouterr().err)
    assert "cannot draw here" in line and "trustdesk demo --no-tui" in line
    assert ("TERM=dumb" if term else "TERM is not set") in line
    assert list(isolated_home.iterdir()) == []


def test_the_dashboard_refuses_a_dumb_terminal_and_the_commands_still_work(
    terminal, practice, capsys
):
    terminal("dumb")
    before = practice.read_bytes()
    assert cli.main(["--db", str(practice), "--today", TODAY]) == 2
    line = one_line(capsys.readouterr().err)
    assert "(TERM=dumb)" in line and "trustdesk today or trustdesk report" in line
    assert practice.read_bytes() == before
    assert cli.main(["--db", str(practice), "--today", TODAY, "today"]) == 0
    assert cli.main(["--db", str(practice), "--today", TODAY, "report"]) == 0
    assert "trustdesk report for Morgan Reyes" in capsys.readouterr().out


def test_without_a_terminal_the_demo_refuses_before_building_too(isolated_home, capsys):
    assert cli.main(["demo", "--today", TODAY]) == 2
    assert "needs a terminal" in one_line(capsys.readouterr().err)
    assert list(isolated_home.iterdir()) == []
