"""The notes key from the command line: init, the key commands, export --decrypt."""

from __future__ import annotations

import json
import os
import re
import stat
import time

import pytest
from helpers import PASSPHRASE, TODAY, one_line_error, text

from trustdesk.store import Client, Note, current_coach, open_database
from trustdesk.store.models import Coach, KeySlot
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


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)
def test_two_inits_at_once_make_one_notes_key(run, tmp_path, practice_target):
    import threading

    files = [secret_file(tmp_path, f"p{n}.txt", f"passphrase number {n}") for n in range(2)]
    results = [None, None]

    def init(n: int) -> None:
        results[n] = run("init", "--name", "Morgan", "--passphrase-file", str(files[n]))

    threads = [threading.Thread(target=init, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r for r in results if r.returncode == 0]
    assert len(made) == 1, [text(r) for r in results]
    (refused,) = [r for r in results if r.returncode != 0]
    one_line_error(refused)
    database = open_database(practice_target)
    try:
        assert len({s.key_id for s in KeySlot.select()}) == 1
        winner = files[results.index(made[0])].read_text().strip()
        assert Vault(current_coach()).unlock_with_passphrase(winner).unlocked
    finally:
        database.close()


def test_an_init_that_loses_the_race_leaves_the_winners_database_whole(
    run, tmp_path, isolated_home, monkeypatch, capsys
):
    """The other terminal's init makes the file after this one looked and before it opens:
    this one is refused in one line, and the database, its coach and its key stay."""
    from trustdesk import cli, config

    target = isolated_home / "trustdesk.sqlite3"
    winner = secret_file(tmp_path, "winner.txt", "the winning passphrase")
    loser = secret_file(tmp_path, "loser.txt", "the losing passphrase")
    ensure_private_dir = config.ensure_private_dir

    def the_other_init_gets_there_first(path):
        ensure_private_dir(path)
        result = run("init", "--name", "Morgan", "--passphrase-file", str(winner))
        assert result.returncode == 0, text(result)

    monkeypatch.setattr(config, "ensure_private_dir", the_other_init_gets_there_first)
    code = cli.main(["init", "--name", "Morgan", "--passphrase-file", str(loser)])
    monkeypatch.setattr(config, "ensure_private_dir", ensure_private_dir)
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "never overwrites a database" in err[0], err
    database = open_database(target)
    try:
        assert [c.name for c in Coach.select()] == ["Morgan"]
        assert len({s.key_id for s in KeySlot.select()}) == 1
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase("the winning passphrase").unlocked
    finally:
        database.close()


def test_key_status_warns_when_slots_wrap_more_than_one_key(practice, practice_target):
    import uuid

    from trustdesk.vault.sealing import new_key_id

    database = open_database(practice_target)
    try:
        (current,) = {s.key_id for s in KeySlot.select()}
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
    result = practice("key", "status")
    out, err = text(result)
    assert injected in out and current in out
    line = one_line_error(result)
    assert "2 different keys" in line
    assert injected in line and current in line


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)
def test_key_reseal_brings_old_notes_to_the_new_format_once(
    run, passphrase_file, practice_target, tmp_path
):
    from helpers import old_format_practice

    from trustdesk.store import ensure_coach
    from trustdesk.vault.sealing import format_of

    database = open_database(practice_target, create=True)
    try:
        coach = ensure_coach("Morgan Reyes")
        ann = Client.create(coach=coach, name="Ann", started_on="2026-01-01")
        old_format_practice(coach, [ann], PASSPHRASE)
    finally:
        database.close()
    out, _ = text(run("key", "status"))
    assert "trustdesk key reseal" in out
    before_reseal = run("export", "--json", "--decrypt", "--passphrase-file", str(passphrase_file))
    assert before_reseal.returncode == 0, text(before_reseal)
    assert "old note 0" in before_reseal.stdout.decode()
    assert "trustdesk key reseal" in text(before_reseal)[1]
    first = run("key", "reseal", "--passphrase-file", str(passphrase_file))
    assert first.returncode == 0, text(first)
    recovery_code(first)
    assert "old-format notes no longer open" in text(first)[1]
    assert {format_of(b) for b in sealed_bodies(practice_target).values()} == {2}
    before = sealed_bodies(practice_target)
    again = run("key", "reseal", "--passphrase-file", str(passphrase_file))
    assert again.returncode == 0, text(again)
    assert "nothing to do" in text(again)[1]
    assert sealed_bodies(practice_target) == before
    shown = run("export", "--json", "--decrypt", "--passphrase-file", str(passphrase_file))
    assert shown.returncode == 0, text(shown)
    assert "old note 0" in shown.stdout.decode()
    assert "key reseal" not in text(run("key", "status"))[0]


CORE_PROBE = """
import resource, sys
from trustdesk.store import current_coach, open_database
from trustdesk.vault import Vault

def dumpable():
    for line in open("/proc/self/status"):  # where the kernel shows it
        if line.startswith("Dumpable:"):
            return int(line.split()[1])
    import ctypes  # else ask it: PR_GET_DUMPABLE
    return ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)

soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
print("before", resource.getrlimit(resource.RLIMIT_CORE)[0] != 0, dumpable())
open_database(sys.argv[1])
vault = Vault(current_coach())
assert vault.unlock_with_passphrase(sys.argv[2]).unlocked
print("after", resource.getrlimit(resource.RLIMIT_CORE)[0], dumpable())
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
def test_a_process_that_can_unlock_notes_leaves_no_core_dump(practice, practice_target):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", CORE_PROBE, str(practice_target), PASSPHRASE],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, text(result)
    assert result.stdout.decode().split("\n")[:2] == ["before True 1", "after 0 0"]


class FakeTime:
    """The wall clock and sleep the unlock throttle sees: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def test_failed_unlocks_make_the_next_command_wait_longer(
    practice, practice_target, tmp_path, passphrase_file, isolated_home, monkeypatch, capsys
):
    from trustdesk import cli
    from trustdesk.vault import throttle

    clock = FakeTime()
    monkeypatch.setattr(throttle, "time", clock)
    wrong = secret_file(tmp_path, "wrong.txt", "not the passphrase at all")

    def export(secret) -> int:
        code = cli.main(
            ["--db", str(practice_target), "export", "--decrypt", "--passphrase-file", str(secret)]
        )
        return code

    for _ in range(4):
        assert export(wrong) != 0
    assert clock.slept == [1, 2, 4]
    err = capsys.readouterr().err
    assert "3 failed unlocks in a row; waiting 4 s before trying again" in err
    counted = isolated_home / "unlock-failures.json"
    assert stat.S_IMODE(counted.lstat().st_mode) == 0o600
    # Waiting the delay out by other means counts too; a success starts again from nothing.
    clock.now += 8
    assert export(passphrase_file) == 0
    assert clock.slept == [1, 2, 4]
    capsys.readouterr()
    assert export(wrong) != 0 and clock.slept == [1, 2, 4]
    assert export(passphrase_file) == 0 and clock.slept == [1, 2, 4, 1]
    # The recovery code and the rotation's passphrase check are counted the same way.
    code_file = secret_file(tmp_path, "code.txt", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA")
    args = ["--db", str(practice_target), "key", "recovery", "--recovery-file", str(code_file)]
    assert cli.main(args) != 0 and cli.main(args) != 0
    assert clock.slept == [1, 2, 4, 1, 1]


def test_the_failure_count_is_refused_behind_a_symlink(
    practice, practice_target, tmp_path, isolated_home, capsys
):
    from trustdesk import cli

    target = tmp_path / "elsewhere"
    (isolated_home / "unlock-failures.json").symlink_to(target)
    wrong = secret_file(tmp_path, "wrong.txt", "not the passphrase at all")
    args = ["--db", str(practice_target), "export", "--decrypt", "--passphrase-file", str(wrong)]
    assert cli.main(args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symbolic link" in err[0]
    assert not target.exists()


@pytest.mark.sqlite_only  # compares the database file's bytes
def test_a_failed_unlock_from_the_command_line_leaves_the_database_byte_identical(
    practice, practice_target, tmp_path, isolated_home
):
    before = practice_target.read_bytes()
    wrong = secret_file(tmp_path, "wrong.txt", "not the passphrase at all")
    one_line_error(practice("export", "--decrypt", "--passphrase-file", str(wrong)))
    # The failure is dated ahead, so the second command still has its wait however long
    # the first took to end and the second to start (the wait is never more than 1 s).
    counted = isolated_home / "unlock-failures.json"
    failures = json.loads(counted.read_text())["failures"]
    counted.write_text(json.dumps({"failures": failures, "last": time.time() + 3600}))
    again = practice("export", "--decrypt", "--passphrase-file", str(wrong))
    assert again.returncode != 0 and "Traceback" not in again.stderr.decode()
    assert again.stderr.decode().splitlines() == [
        "trustdesk: 1 failed unlock in a row; waiting 1 s before trying again",
        "trustdesk: notes stay locked: that passphrase does not open the notes",
    ]
    assert practice_target.read_bytes() == before
    assert json.loads((isolated_home / "unlock-failures.json").read_text())["failures"] == 2
