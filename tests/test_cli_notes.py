"""`trustdesk note`: words from stdin or $EDITOR (never argv), sealed as the app seals them."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
from helpers import PASSPHRASE, one_line_error, text

from trustdesk.store import Note, current_coach, open_database
from trustdesk.trust.notes import read_note
from trustdesk.vault import Vault

WORDS = "Afraid of the board meeting\nwants to practise the opening with me\n"


@pytest.fixture
def clients(initialised, tmp_path):
    sheet = tmp_path / "clients.csv"
    sheet.write_text("name,email\nAnn Lee,ann@example.org\nBen Ode,ben@example.org\n")
    result = initialised("import", str(sheet))
    assert result.returncode == 0, text(result)
    return initialised


def notes_in(practice_target) -> list[tuple[str, str, str]]:
    """(client, kind, words) of every note, opened with the passphrase."""
    database = open_database(practice_target)
    try:
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase(PASSPHRASE).unlocked
        return sorted((n.client.name, n.kind, read_note(vault, n.id).body) for n in Note.select())
    finally:
        database.close()


def add(run, passphrase_file, words: bytes, *args):
    return run(
        "note", "add", "ann", "--kind", "struggle", "--passphrase-file", str(passphrase_file),
        *args, input=words,
    )  # fmt: skip


def test_note_add_reads_the_words_from_stdin(clients, passphrase_file, practice_target):
    result = add(clients, passphrase_file, WORDS.encode())
    assert result.returncode == 0, text(result)
    assert "sealed and saved for Ann Lee" in text(result)[1]
    assert notes_in(practice_target) == [("Ann Lee", "struggle", WORDS)]
    database = open_database(practice_target)
    try:
        (sealed,) = [bytes(n.body_sealed) for n in Note.select()]
    finally:
        database.close()
    assert b"board" not in sealed


def test_an_empty_note_writes_nothing(clients, passphrase_file, practice_target):
    result = add(clients, passphrase_file, b"  \n\n")
    assert "empty" in one_line_error(result, 1)
    assert notes_in(practice_target) == []


def test_words_on_the_command_line_are_refused(clients, passphrase_file, practice_target):
    result = add(clients, passphrase_file, WORDS.encode(), "my secret words")
    one_line_error(result, 2)
    assert notes_in(practice_target) == []


@pytest.mark.parametrize(
    "args, says",
    [
        (("nobody", "--kind", "goal"), "no client"),
        (("ann", "--kind", "wish"), "invalid choice"),
    ],
)
def test_note_add_errors_write_nothing(clients, passphrase_file, practice_target, args, says):
    result = clients(
        "note", "add", *args, "--passphrase-file", str(passphrase_file), input=WORDS.encode()
    )
    assert says in one_line_error(result)
    assert notes_in(practice_target) == []


def test_a_wrong_passphrase_writes_nothing(clients, tmp_path, practice_target):
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    os.chmod(wrong, 0o600)
    result = add(clients, wrong, WORDS.encode())
    assert "locked" in one_line_error(result, 1)
    assert notes_in(practice_target) == []


# --- $EDITOR, when stdin is a terminal ---------------------------------------------------------


def run_at_a_terminal(isolated_home, practice_target, editor: str, *args):
    """`trustdesk note add` with a terminal as stdin, so $EDITOR is asked for the words."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(
        TRUSTDESK_HOME=str(isolated_home),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        EDITOR=editor,
        NO_COLOR="1",
    )
    env.pop("VISUAL", None)
    if "://" in str(practice_target):
        env["TRUSTDESK_DB"] = str(practice_target)
    leader, follower = pty.openpty()
    try:
        return subprocess.run(
            [sys.executable, "-m", "trustdesk", "note", "add", *args],
            stdin=follower,
            capture_output=True,
            env=env,
            timeout=120,
            start_new_session=True,
        )
    finally:
        os.close(leader)
        os.close(follower)


def fake_editor(tmp_path, body: str, code: int = 0):
    """An editor that writes `body` into the file, notes its path and mode, and exits `code`."""
    seen = tmp_path / "seen"
    script = tmp_path / "editor.py"
    script.write_text(
        "import os, sys\n"
        "path = sys.argv[1]\n"
        f"open({str(seen)!r}, 'w').write(path + ' ' + oct(os.stat(path).st_mode & 0o777))\n"
        f"open(path, 'w').write({body!r})\n"
        f"sys.exit({code})\n"
    )
    return f"{sys.executable} {script}", seen


def test_note_add_at_a_terminal_opens_the_editor_on_a_private_file(
    clients, isolated_home, practice_target, passphrase_file, tmp_path
):
    editor, seen = fake_editor(tmp_path, WORDS)
    result = run_at_a_terminal(
        isolated_home, practice_target, editor,
        "ben", "--kind", "goal", "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    assert result.returncode == 0, text(result)
    path, mode = seen.read_text().split()
    assert mode == "0o600"
    assert not os.path.exists(path)  # removed after
    assert notes_in(practice_target) == [("Ben Ode", "goal", WORDS)]


def test_an_editor_that_fails_writes_nothing_and_leaves_no_file(
    clients, isolated_home, practice_target, passphrase_file, tmp_path
):
    editor, seen = fake_editor(tmp_path, WORDS, code=3)
    result = run_at_a_terminal(
        isolated_home, practice_target, editor,
        "ben", "--kind", "goal", "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    assert "exited with 3" in one_line_error(result, 2)
    path, _ = seen.read_text().split()
    assert not os.path.exists(path)
    assert notes_in(practice_target) == []


def test_an_editor_left_empty_writes_nothing(
    clients, isolated_home, practice_target, passphrase_file, tmp_path
):
    editor, _ = fake_editor(tmp_path, "")
    result = run_at_a_terminal(
        isolated_home, practice_target, editor,
        "ben", "--kind", "goal", "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    assert "empty" in one_line_error(result, 1)
    assert notes_in(practice_target) == []


# --- list, show, search ------------------------------------------------------------------------


@pytest.fixture
def written(clients, passphrase_file):
    for client, kind, words in (
        ("ann", "struggle", WORDS),
        ("ben", "goal", "Lead the offsite\nthe BOARD asked for a plan\n"),
        ("ben", "belief", "Nothing to see here\n"),
    ):
        result = clients(
            "note", "add", client, "--kind", kind, "--passphrase-file", str(passphrase_file),
            input=words.encode(),
        )  # fmt: skip
        assert result.returncode == 0, text(result)
    return clients


def test_note_list_without_the_key_shows_length_only(written):
    result = written("note", "list", "ben", "--json")
    assert result.returncode == 0, text(result)
    listed = json.loads(result.stdout)
    assert listed["client"] == "Ben Ode" and listed["unlocked"] is False
    assert sorted(n["kind"] for n in listed["notes"]) == ["belief", "goal"]
    assert all(n["first_line"] is None and n["length"] > 0 for n in listed["notes"])
    human = written("note", "list", "ben")
    assert "chars" in human.stdout.decode() and "Lead the offsite" not in human.stdout.decode()
    assert "locked" in human.stderr.decode()


def test_note_list_with_the_key_shows_first_lines(written, passphrase_file):
    result = written("note", "list", "ben", "--json", "--passphrase-file", str(passphrase_file))
    listed = json.loads(result.stdout)
    assert listed["unlocked"] is True
    assert sorted(n["first_line"] for n in listed["notes"]) == [
        "Lead the offsite",
        "Nothing to see here",
    ]
    assert set(listed["notes"][0]) == {"id", "kind", "written_on", "length", "first_line"}


def test_note_search_finds_words_in_any_case_across_clients(written, passphrase_file):
    result = written("note", "search", "board", "--json", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    hits = json.loads(result.stdout)
    assert sorted((h["client"], h["line"]) for h in hits) == [
        ("Ann Lee", "Afraid of the board meeting"),
        ("Ben Ode", "the BOARD asked for a plan"),
    ]
    assert set(hits[0]) == {"id", "client", "client_id", "kind", "written_on", "line"}
    only_ben = written(
        "note", "search", "board", "--client", "ben", "--json",
        "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    assert [h["client"] for h in json.loads(only_ben.stdout)] == ["Ben Ode"]
    none = written("note", "search", "nowhere", "--passphrase-file", str(passphrase_file))
    assert none.returncode == 0 and none.stdout == b""


def test_note_search_needs_the_key(written):
    assert "passphrase" in one_line_error(written("note", "search", "board"), 1)


def test_note_show_opens_a_note_by_the_start_of_its_id(written, passphrase_file):
    listed = json.loads(
        written("note", "list", "ann", "--json", "--passphrase-file", str(passphrase_file)).stdout
    )
    note_id = listed["notes"][0]["id"]
    result = written("note", "show", note_id[:8], "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    assert result.stdout.decode().endswith(WORDS)
    shown = json.loads(
        written("note", "show", note_id, "--json", "--passphrase-file", str(passphrase_file)).stdout
    )
    assert shown["body"] == WORDS and shown["client"] == "Ann Lee"
    assert "not a note id" in one_line_error(written("note", "show", "xyz"), 2)
    assert "no note" in one_line_error(written("note", "show", "0000000000"), 2)


def test_the_kinds_offered_are_the_kinds_stored():
    from trustdesk.cli.notes import KINDS
    from trustdesk.store.models import NOTE_KINDS

    assert KINDS == NOTE_KINDS
