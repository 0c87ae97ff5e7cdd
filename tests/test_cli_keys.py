"""The notes key from the command line: init, the key commands, export --decrypt."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
from helpers import PASSPHRASE, TODAY, one_line_error, text

from trustdesk.store import Client, Note, current_coach, open_database
from trustdesk.store.models import KeySlot
from trustdesk.store.practice import delete_rows
from trustdesk.trust.notes import add_note
from trustdesk.vault import Vault

SECRET = "Told me about the panic before every board meeting"


def secret_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content + "\n")
    os.chmod(path, 0o600)
    return path


def recovery_code(result):
    match = re.search(r"Recovery code: ([A-Z0-9-]+)", result.stdout.decode())
    assert match, text(result)
    return match.group(1)


@pytest.fixture
def practice(initialised, practice_target):
    """An initialised practice with one client and one sealed note, added in-process."""
    database = open_database(practice_target)
    vault = Vault(current_coach())
    assert vault.unlock_with_passphrase(PASSPHRASE).unlocked
    ann = Client.create(coach=current_coach(), name="Ann", started_on="2026-01-01")
    add_note(vault, ann.id, "struggle", SECRET)
    database.close()
    return initialised


def sealed_bodies(practice_target):
    database = open_database(practice_target)
    try:
        return {n.id: bytes(n.body_sealed) for n in Note.select()}
    finally:
        database.close()


def test_init_prints_the_recovery_code_once_and_status_lists_the_slots(run, passphrase_file):
    result = run("init", "--name", "Morgan", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    code = recovery_code(result)
    assert re.fullmatch(r"([A-Z2-9]{5}-){4}[A-Z2-9]{5}", code)
    assert "Write the recovery code down" in text(result)[1]
    out, err = text(run("key", "status"))
    assert "passphrase" in out and "recovery" in out
    assert "Keyring: keyring.backends.null.Keyring (not used" in out
    assert "Unlockable now: no" in out
    assert code not in out + err


def test_init_without_a_terminal_or_passphrase_file_writes_nothing(run, isolated_home):
    line = one_line_error(run("init", "--name", "Morgan"))
    assert "--passphrase-file" in line
    assert list(isolated_home.iterdir()) == []


def test_a_passphrase_file_others_can_read_is_refused(run, tmp_path, isolated_home):
    loose = secret_file(tmp_path, "pass.txt", PASSPHRASE)
    os.chmod(loose, 0o644)
    line = one_line_error(run("init", "--passphrase-file", str(loose)))
    assert "chmod 600" in line
    assert not (isolated_home / "trustdesk.sqlite3").exists()


def test_export_decrypt_needs_the_right_passphrase(practice, tmp_path, passphrase_file):
    sealed = json.loads(practice("export").stdout)
    assert "body" not in sealed["tables"]["note"][0]
    assert SECRET not in json.dumps(sealed)

    wrong = secret_file(tmp_path, "wrong.txt", "not the passphrase at all")
    line = one_line_error(practice("export", "--decrypt", "--passphrase-file", str(wrong)))
    assert "notes stay locked" in line

    result = practice("export", "--decrypt", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    (note,) = json.loads(result.stdout)["tables"]["note"]
    assert note["body"] == SECRET and note["kind"] == "struggle"


def test_changing_the_passphrase_rewraps_only(practice, tmp_path, passphrase_file, practice_target):
    before = sealed_bodies(practice_target)
    new = secret_file(tmp_path, "new.txt", "an even longer walk home")
    result = practice(
        "key", "passphrase", "--passphrase-file", str(passphrase_file),
        "--new-passphrase-file", str(new),
    )  # fmt: skip
    assert result.returncode == 0, text(result)
    assert sealed_bodies(practice_target) == before
    assert one_line_error(
        practice("export", "--decrypt", "--passphrase-file", str(passphrase_file))
    )
    ok = practice("export", "--decrypt", "--passphrase-file", str(new))
    assert json.loads(ok.stdout)["tables"]["note"][0]["body"] == SECRET


def test_a_new_recovery_code_revokes_the_old_one(run, tmp_path, passphrase_file):
    first = run("init", "--passphrase-file", str(passphrase_file))
    old = secret_file(tmp_path, "old-code.txt", recovery_code(first))
    second = run("key", "recovery", "--recovery-file", str(old))
    assert second.returncode == 0, text(second)
    new = secret_file(tmp_path, "new-code.txt", recovery_code(second).lower())
    assert "notes stay locked" in one_line_error(
        run("export", "--decrypt", "--recovery-file", str(old))
    )
    assert run("export", "--decrypt", "--recovery-file", str(new)).returncode == 0


def test_rotate_reseals_every_note_and_keeps_them_readable(
    practice, passphrase_file, practice_target
):
    before = sealed_bodies(practice_target)
    old_status = text(practice("key", "status"))[0]
    result = practice("key", "rotate", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, text(result)
    assert "re-sealed 1 of 1 notes" in text(result)[1]
    recovery_code(result)
    after = sealed_bodies(practice_target)
    assert after.keys() == before.keys() and all(after[k] != before[k] for k in after)
    assert text(practice("key", "status"))[0] != old_status
    ok = practice("export", "--decrypt", "--passphrase-file", str(passphrase_file))
    assert json.loads(ok.stdout)["tables"]["note"][0]["body"] == SECRET


def test_adding_a_keyring_slot_without_a_secure_keyring_is_one_line(practice, passphrase_file):
    line = one_line_error(practice("key", "keyring", "--passphrase-file", str(passphrase_file)))
    assert "cannot use the keyring" in line


def test_key_commands_without_a_terminal_say_how_to_unlock(practice):
    line = one_line_error(practice("key", "rotate"))
    assert "--passphrase-file" in line


def test_the_demo_opens_with_the_passphrase_demo(run, tmp_path, isolated_home):
    result = run("demo", "--no-tui", "--today", TODAY)
    assert "open with the passphrase: demo" in text(result)[1]
    demo_pass = secret_file(tmp_path, "demo.txt", "demo")
    out = run("--db", "demo.sqlite3", "export", "--decrypt", "--passphrase-file", str(demo_pass))
    assert out.returncode == 0, text(out)
    notes = json.loads(out.stdout)["tables"]["note"]
    assert notes and all(n["body"] for n in notes)
    raw = (isolated_home / "demo.sqlite3").read_bytes()
    for note in notes[:20]:
        assert note["body"].encode() not in raw
    assert stat.S_IMODE((isolated_home / "demo.sqlite3").stat().st_mode) == 0o600


def test_lost_key_slots_never_lead_to_a_new_key(
    practice, practice_target, tmp_path, passphrase_file
):
    database = open_database(practice_target)
    try:
        slots = list(KeySlot.select())
        assert slots
        for slot in slots:
            assert delete_rows(KeySlot, KeySlot.id == slot.id) == 1
    finally:
        database.close()
    new = secret_file(tmp_path, "new.txt", "an even longer walk home")
    line = one_line_error(practice("key", "passphrase", "--new-passphrase-file", str(new)))
    assert "from a backup" in line
    line = one_line_error(
        practice("export", "--decrypt", "--passphrase-file", str(passphrase_file))
    )
    assert "no key slots" in line


def test_a_note_that_will_not_open_stops_the_export_before_any_output(
    practice, practice_target, passphrase_file
):
    database = open_database(practice_target)
    try:
        for note in Note.select():
            Note.update(body_sealed=bytes(note.body_sealed)[:30]).where(
                Note.id == note.id
            ).execute()
    finally:
        database.close()
    result = practice("export", "--decrypt", "--passphrase-file", str(passphrase_file))
    assert "does not open" in one_line_error(result)
    assert result.stdout == b""


def test_an_odd_recovery_code_is_just_a_wrong_code(practice, tmp_path):
    odd = secret_file(tmp_path, "odd.txt", "ÉÉÉÉ-12345-€€€€€")
    assert "notes stay locked" in one_line_error(
        practice("export", "--decrypt", "--recovery-file", str(odd))
    )
