"""Sealed notes: what opens, what must not, and that a key mix-up never loses a note."""

from __future__ import annotations

import json
import os
import uuid

import keyring
import pytest
from conftest import FAST_ARGON2, MemoryKeyring
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from keyring.errors import KeyringLocked

from trustdesk.config import Settings
from trustdesk.store import Client, KeySlot, Note, backup_database
from trustdesk.store.practice import delete_rows
from trustdesk.trust.notes import add_note, list_notes, read_note, search_notes
from trustdesk.vault import LockReason, SealError, Vault, VaultError, VaultLocked
from trustdesk.vault.sealing import new_data_key, new_key_id, open_sealed, seal

SECRET = "She said the promotion frightened her more than failing did"
PASSPHRASE = "correct horse battery"


def sealed_pair(text="hello", table="note", row="r1", column="body"):
    key, key_id = new_data_key(), new_key_id()
    return key, key_id, seal(key, key_id, text, table=table, row_id=row, column=column)


# --- sealing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        {"table": "other", "row_id": "r1", "column": "body"},
        {"table": "note", "row_id": "r2", "column": "body"},
        {"table": "note", "row_id": "r1", "column": "title"},
    ],
)
def test_a_sealed_value_opens_only_where_it_was_sealed(where):
    key, key_id, sealed = sealed_pair()
    assert open_sealed({key_id: key}, sealed, table="note", row_id="r1", column="body") == "hello"
    with pytest.raises(SealError):
        open_sealed({key_id: key}, sealed, **where)


def test_a_flipped_bit_or_a_truncation_does_not_open():
    key, key_id, sealed = sealed_pair()
    keys = {key_id: key}
    for i in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[i] ^= 0x01
        with pytest.raises(SealError):
            open_sealed(keys, bytes(damaged), table="note", row_id="r1", column="body")
    for cut in (0, 1, 10, len(sealed) - 1):
        with pytest.raises(SealError):
            open_sealed(keys, sealed[:cut], table="note", row_id="r1", column="body")


def test_a_value_sealed_under_another_key_does_not_open():
    _, _, sealed = sealed_pair()
    other_key = new_data_key()
    key_id = sealed[1:9].hex()
    with pytest.raises(SealError):
        open_sealed({key_id: other_key}, sealed, table="note", row_id="r1", column="body")


def test_each_seal_uses_a_fresh_nonce():
    key, key_id = new_data_key(), new_key_id()
    a = seal(key, key_id, "same", table="note", row_id="r", column="body")
    b = seal(key, key_id, "same", table="note", row_id="r", column="body")
    assert a != b and a[:9] == b[:9]  # same version and key id, different nonce


@hsettings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_round_trips(text):
    key, key_id = new_data_key(), new_key_id()
    sealed = seal(key, key_id, text, table="note", row_id="x", column="body")
    assert open_sealed({key_id: key}, sealed, table="note", row_id="x", column="body") == text


@pytest.mark.parametrize("text", ["", "é" * 500_000, "\x00\x1b[2J\u202e🙂" * 1000])
def test_empty_huge_and_odd_bodies_round_trip(text):
    key, key_id = new_data_key(), new_key_id()
    sealed = seal(key, key_id, text, table="note", row_id="x", column="body")
    assert open_sealed({key_id: key}, sealed, table="note", row_id="x", column="body") == text


# --- setting up and unlocking ----------------------------------------------------------


@pytest.fixture
def ann(coach):
    return Client.create(coach=coach, name="Ann", started_on="2026-01-01")


@pytest.fixture
def vault(coach):
    v = Vault(coach)
    v.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    return v


def test_a_new_practice_has_no_slots_and_says_so(coach):
    status = Vault(coach).status()
    assert not status.unlocked and status.reason is LockReason.NO_SLOTS


def test_create_makes_a_key_only_when_there_are_no_slots(vault, coach):
    before = list(KeySlot.select().tuples())
    with pytest.raises(VaultError, match="already has a notes key"):
        Vault(coach).create(passphrase="another passphrase", use_keyring=False, argon2=FAST_ARGON2)
    assert list(KeySlot.select().tuples()) == before


def test_passphrase_slot_stores_strong_argon2_parameters(coach):
    v = Vault(coach)
    v.create(passphrase=PASSPHRASE, use_keyring=False)
    (slot,) = KeySlot.select().where(KeySlot.kind == "passphrase")
    params = json.loads(slot.params)
    assert params["kdf"] == "argon2id"
    assert params["memory_kib"] >= 64 * 1024 and params["iterations"] >= 3
    with pytest.raises(VaultError, match="too weak"):
        v.set_passphrase("another good one", argon2={"memory_kib": 1024, "iterations": 1})
    with pytest.raises(VaultError, match="at least 8 characters"):
        v.set_passphrase("short")


def test_the_passphrase_and_the_recovery_code_both_open(coach, ann):
    v = Vault(coach)
    setup = v.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    note = add_note(v, ann.id, "struggle", SECRET)
    assert set(setup.slots) == {"passphrase", "recovery"}

    fresh = Vault(coach)
    assert fresh.unlock_with_passphrase(PASSPHRASE).unlocked
    assert read_note(fresh, note).body == SECRET

    fresh = Vault(coach)
    written_down = setup.recovery_code.lower().replace("-", " ")
    assert fresh.unlock_with_recovery_code(written_down).unlocked
    assert read_note(fresh, note).body == SECRET


def test_a_keyring_slot_unlocks_without_asking(coach, ann, memory_keyring):
    v = Vault(coach)
    setup = v.create(use_keyring=True)
    assert setup.slots == ("keyring", "recovery")
    note = add_note(v, ann.id, "goal", SECRET)
    fresh = Vault(coach)
    assert fresh.unlock().unlocked
    assert read_note(fresh, note).body == SECRET
    assert len(memory_keyring.secrets) == 1
    (stored,) = memory_keyring.secrets.values()
    assert SECRET not in stored


class EmptyKeyring(MemoryKeyring):
    def get_password(self, service, username):
        return None


class LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("locked")


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise RuntimeError("dbus went away")


class DbusKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise Exception("org.freedesktop.DBus.Error.ServiceUnknown")  # noqa: TRY002


class WrongKeyring(MemoryKeyring):
    def get_password(self, service, username):
        import base64

        return base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (EmptyKeyring, LockReason.NOTHING_STORED),
        (LockedKeyring, LockReason.KEYRING_LOCKED),
        (BrokenKeyring, LockReason.KEYRING_LOCKED),
        (DbusKeyring, LockReason.KEYRING_LOCKED),
        (WrongKeyring, LockReason.WRONG_KEY),
    ],
)
@pytest.mark.sqlite_only  # compares the database file's bytes
def test_keyring_failures_leave_notes_locked_and_the_database_unchanged(
    database, coach, ann, memory_keyring, monkeypatch, backend, reason
):
    v = Vault(coach)
    v.create(use_keyring=True)
    add_note(v, ann.id, "regret", SECRET)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = database.path
    before = open(path, "rb").read()
    slots_before = list(KeySlot.select().tuples())

    bad = backend()
    keyring.set_keyring(bad)
    cls = type(bad)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{cls.__module__}.{cls.__qualname__}")
    fresh = Vault(coach)
    status = fresh.unlock()
    assert not status.unlocked and status.reason is reason
    assert status.describe().startswith("locked: ")
    with pytest.raises(VaultLocked):
        read_note(fresh, Note.select().first().id)
    assert list(list_notes(coach))  # the rest of trustdesk keeps working
    assert list(KeySlot.select().tuples()) == slots_before
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert open(path, "rb").read() == before


def test_no_keyring_at_all_is_a_clear_reason(coach, memory_keyring, monkeypatch):
    v = Vault(coach)
    v.create(use_keyring=True)
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    status = Vault(coach).unlock()
    assert status.reason is LockReason.NO_KEYRING
    assert "no keyring" in status.detail


@pytest.mark.sqlite_only  # compares the database file's bytes
def test_a_wrong_passphrase_changes_nothing(database, vault, coach, ann):
    from trustdesk.vault.throttle import FileThrottle

    add_note(vault, ann.id, "belief", SECRET)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    before = open(database.path, "rb").read()
    status = Vault(coach).unlock_with_passphrase("not the passphrase")
    assert status.reason is LockReason.WRONG_KEY
    # The failure is counted (for the growing wait) in its own file, not in the database.
    FileThrottle().failed()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert open(database.path, "rb").read() == before
    assert KeySlot.select().count() == 2


def test_plaintext_and_null_keyrings_are_refused_unless_allowed(coach, monkeypatch):
    from keyring.backends import null

    class PlaintextKeyring(MemoryKeyring):
        pass

    keyring.set_keyring(null.Keyring())
    with pytest.raises(VaultError, match="keyring"):
        Vault(coach).create(use_keyring=True)
    assert KeySlot.select().count() == 0

    keyring.set_keyring(PlaintextKeyring())
    assert not Vault(coach).keyring_usable().usable
    assert "plain text" in Vault(coach).keyring_usable().reason
    allowed = Vault(coach, Settings(allow_plaintext_keyring=True))
    assert allowed.keyring_usable().usable


def test_lock_forgets_the_key(vault, ann):
    note = add_note(vault, ann.id, "goal", SECRET)
    vault.lock()
    assert not vault.unlocked
    assert vault.status().reason is LockReason.LOCKED
    with pytest.raises(VaultLocked):
        read_note(vault, note)
    with pytest.raises(VaultLocked):
        add_note(vault, ann.id, "goal", "more")


# --- changing the wrapping -----------------------------------------------------------------


def bodies():
    return {n.id: bytes(n.body_sealed) for n in Note.select()}


def test_changing_the_passphrase_leaves_every_ciphertext_unchanged(vault, coach, ann):
    for i in range(5):
        add_note(vault, ann.id, "session", f"{SECRET} {i}")
    before = bodies()
    vault.set_passphrase("a brand new passphrase", argon2=FAST_ARGON2)
    assert bodies() == before
    assert not Vault(coach).unlock_with_passphrase(PASSPHRASE).unlocked
    fresh = Vault(coach)
    assert fresh.unlock_with_passphrase("a brand new passphrase").unlocked
    assert {read_note(fresh, i).body for i in before} == {f"{SECRET} {i}" for i in range(5)}


def test_a_replaced_recovery_code_no_longer_opens(coach, ann):
    v = Vault(coach)
    old_code = v.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2).recovery_code
    new_code = v.replace_recovery_code()
    assert new_code != old_code
    assert not Vault(coach).unlock_with_recovery_code(old_code).unlocked
    assert Vault(coach).unlock_with_recovery_code(new_code).unlocked


def test_rotation_reseals_every_note_under_a_new_key(vault, coach, ann, memory_keyring):
    vault.add_keyring_slot()
    ids = [add_note(vault, ann.id, "goal", f"{SECRET} {i}") for i in range(7)]
    before = bodies()
    old_key_id = vault.key_id
    code = vault.rotate(passphrase=PASSPHRASE, argon2=FAST_ARGON2, batch=3)
    assert vault.key_id != old_key_id
    after = bodies()
    assert all(after[i] != before[i] for i in ids)
    assert {s.key_id for s in vault.slots()} == {vault.key_id}
    for opener in (
        lambda v: v.unlock(),
        lambda v: v.unlock_with_passphrase(PASSPHRASE),
        lambda v: v.unlock_with_recovery_code(code),
    ):
        fresh = Vault(coach)
        assert opener(fresh).unlocked
        assert [read_note(fresh, i).body for i in ids] == [f"{SECRET} {n}" for n in range(7)]


def test_a_rotation_that_fails_half_way_leaves_every_note_readable(vault, coach, ann, monkeypatch):
    ids = [add_note(vault, ann.id, "goal", f"{SECRET} {i}") for i in range(10)]
    before = bodies()
    slots_before = list(KeySlot.select().tuples())
    import trustdesk.vault.vault as vault_module

    calls = {"n": 0}
    real_seal = vault_module.seal

    def failing_seal(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError("disk full")
        return real_seal(*args, **kwargs)

    monkeypatch.setattr(vault_module, "seal", failing_seal)
    with pytest.raises(OSError):
        vault.rotate(passphrase=PASSPHRASE, argon2=FAST_ARGON2, batch=3)
    assert bodies() == before
    assert list(KeySlot.select().tuples()) == slots_before
    fresh = Vault(coach)
    assert fresh.unlock_with_passphrase(PASSPHRASE).unlocked
    assert [read_note(fresh, i).body for i in ids] == [f"{SECRET} {n}" for n in range(10)]


def test_rotation_without_the_passphrase_is_refused_before_any_change(vault, ann):
    add_note(vault, ann.id, "goal", SECRET)
    before = bodies()
    with pytest.raises(VaultError, match="passphrase"):
        vault.rotate()
    assert bodies() == before


# --- notes ------------------------------------------------------------------------------------


def test_notes_list_without_the_key_and_never_show_bodies(vault, coach, ann, today):
    add_note(vault, ann.id, "goal", "Run a half marathon")
    vault.lock()
    (summary,) = list_notes(coach)
    assert summary.kind == "goal" and summary.length == len("Run a half marathon")
    assert summary.written_on == today
    assert "marathon" not in repr(summary)


def test_a_note_moved_to_another_client_does_not_open(vault, coach, ann):
    ben = Client.create(coach=coach, name="Ben", started_on="2026-01-01")
    ann_note = add_note(vault, ann.id, "regret", SECRET)
    ben_note = add_note(vault, ben.id, "regret", "nothing much")
    sealed = Note.get_by_id(ann_note).body_sealed
    Note.update(body_sealed=sealed).where(Note.id == ben_note).execute()
    with pytest.raises(SealError):
        read_note(vault, ben_note)


def test_search_decrypts_in_memory_and_respects_the_client(vault, coach, ann):
    ben = Client.create(coach=coach, name="Ben", started_on="2026-01-01")
    add_note(vault, ann.id, "struggle", "Afraid of the Board meeting in May")
    add_note(vault, ben.id, "goal", "Speak up at the board")
    add_note(vault, ben.id, "goal", "Sleep before midnight")
    assert {h.client_name for h in search_notes(vault, "BOARD")} == {"Ann", "Ben"}
    hits = search_notes(vault, "board", client_id=ben.id)
    assert [h.excerpt for h in hits] == ["Speak up at the board"]
    assert search_notes(vault, "") == []


@pytest.mark.sqlite_only  # compares the database file's bytes
def test_no_body_reaches_the_database_wal_or_a_backup(database, vault, ann, tmp_path):
    marker = "ZEBRA-" + uuid.uuid4().hex
    for kind in ("goal", "regret", "struggle"):
        add_note(vault, ann.id, kind, f"{marker} {kind}")
    path = database.path
    wal = f"{path}-wal"
    for file in (path, wal):
        if os.path.exists(file):
            assert marker.encode() not in open(file, "rb").read()
    backup = backup_database(database, tmp_path / "b.sqlite3")
    assert marker.encode() not in backup.read_bytes()
    assert marker.encode("utf-16-le") not in backup.read_bytes()


def test_a_new_key_is_refused_while_sealed_notes_exist(vault, coach, ann):
    add_note(vault, ann.id, "goal", SECRET)
    for slot in KeySlot.select():
        delete_rows(KeySlot, KeySlot.id == slot.id)
    with pytest.raises(VaultError, match="sealed notes but no key slots"):
        Vault(coach).create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    assert KeySlot.select().count() == 0


def test_a_recovery_code_with_foreign_letters_is_simply_wrong(vault, coach):
    status = Vault(coach).unlock_with_recovery_code("ÉÉÉÉ-12345-\u20ac")
    assert status.reason is LockReason.WRONG_KEY


# --- one current key, whatever else runs at the same time ---------------------------------


def test_notes_written_during_a_rotation_all_open_with_the_new_key(database, vault, coach, ann):
    """Writers unlocked before `key rotate` and saving every 50 ms while it runs: afterwards
    every note opens with the new key, and each writer was told to unlock again."""
    import threading
    import time

    from trustdesk.vault import KeyChanged

    for i in range(200):
        add_note(vault, ann.id, "goal", f"{SECRET} {i}")
    rotated = threading.Event()
    # The rotation starts once both writers have saved a note, however slow the machine.
    both_writing = threading.Barrier(3, timeout=60)
    refused: list[str] = []
    written: list[uuid.UUID] = []
    written_by = [False, False]

    def writer(n: int) -> None:
        session = Vault(coach)
        assert session.unlock_with_passphrase(PASSPHRASE).unlocked
        with database.connection_context():
            after = 0
            while after < 3:
                after += rotated.is_set()
                try:
                    written.append(add_note(session, ann.id, "struggle", f"writer {n}"))
                except KeyChanged as exc:
                    refused.append(str(exc))
                    return
                if not written_by[n]:
                    written_by[n] = True
                    both_writing.wait()
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    both_writing.wait()
    vault.rotate(
        passphrase=PASSPHRASE, argon2=FAST_ARGON2, batch=20, progress=lambda *_: time.sleep(0.05)
    )
    rotated.set()
    for t in threads:
        t.join(timeout=60)
    assert written, "no note was written while the rotation ran"
    assert refused == ["the notes key changed in another session: unlock again"] * 2
    fresh = Vault(coach)
    assert fresh.unlock_with_passphrase(PASSPHRASE).unlocked
    ids = [n for (n,) in Note.select(Note.id).where(Note.coach == coach).tuples()]
    assert len(ids) == 200 + len(written)
    for note_id in ids:
        read_note(fresh, note_id)
    assert {s.key_id for s in fresh.slots()} == {fresh.key_id}


def test_a_session_holding_an_old_key_cannot_add_a_slot_for_it(vault, coach):
    from trustdesk.vault import KeyChanged

    stale = Vault(coach)
    assert stale.unlock_with_passphrase(PASSPHRASE).unlocked
    vault.rotate(passphrase=PASSPHRASE, argon2=FAST_ARGON2)
    with pytest.raises(KeyChanged):
        stale.replace_recovery_code()
    assert not stale.unlocked
    assert {s.key_id for s in Vault(coach).slots()} == {vault.key_id}


def test_two_setups_at_once_make_one_key(database, coach):
    """Two sessions that both found no slots: one makes the key, the other is refused."""
    import threading

    barrier = threading.Barrier(2)
    results: list[object] = []

    def setup(passphrase: str) -> None:
        v = Vault(coach)
        original = v.slots
        calls = []

        def slots_then_wait():
            found = original()
            if not calls:  # both look before either writes
                calls.append(1)
                barrier.wait(timeout=10)
            return found

        v.slots = slots_then_wait
        with database.connection_context():
            try:
                results.append(
                    v.create(passphrase=passphrase, use_keyring=False, argon2=FAST_ARGON2)
                )
            except VaultError as exc:
                results.append(exc)

    threads = [
        threading.Thread(target=setup, args=(p,)) for p in ("first passphrase", "second one!")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    made = [r for r in results if not isinstance(r, Exception)]
    assert len(made) == 1, results
    assert "already has a notes key" in str(next(r for r in results if isinstance(r, Exception)))
    assert len({s.key_id for s in Vault(coach).slots()}) == 1


# --- a note's seal binds its client, kind and date -------------------------------------


@pytest.mark.parametrize(
    "move",
    [{"client": "other"}, {"kind": "regret"}, {"written_on": "2026-03-02"}],
    ids=["client", "kind", "date"],
)
def test_a_note_moved_to_another_client_kind_or_date_does_not_open(vault, coach, ann, move):
    import datetime as dt

    other = Client.create(coach=coach, name="Bo", started_on="2026-01-01")
    note_id = add_note(vault, ann.id, "goal", SECRET, written_on=dt.date(2026, 3, 1))
    kept = add_note(vault, ann.id, "goal", "another note", written_on=dt.date(2026, 3, 1))
    change = {k: (other.id if v == "other" else v) for k, v in move.items()}
    Note.update(**change).where(Note.id == note_id).execute()
    with pytest.raises(SealError, match=r"moved \(to another row, client, kind or date\)"):
        read_note(vault, note_id)
    with pytest.raises(SealError, match="moved"):
        search_notes(vault, "promotion")
    assert read_note(vault, kept).body == "another note"


def test_old_format_notes_open_until_resealed_then_only_the_new_format(coach, ann):
    from helpers import old_format_practice

    from trustdesk.vault.sealing import format_of

    bo = Client.create(coach=coach, name="Bo", started_on="2026-01-01")
    ids = old_format_practice(coach, [ann, bo], PASSPHRASE)
    old = Vault(coach)
    assert old.unlock_with_passphrase(PASSPHRASE).unlocked and old.needs_reseal
    assert [read_note(old, i).body for i in ids] == ["old note 0", "old note 1"]
    assert [h.id for h in search_notes(old, "old note 1")] == [ids[1]]
    # Before re-sealing, an old note still opens wherever it is put: the gap being closed.
    old_bodies = bodies()
    code = old.reseal(passphrase=PASSPHRASE, argon2=FAST_ARGON2)
    assert code is not None and not old.needs_reseal
    assert {format_of(b) for b in bodies().values()} == {2}
    fresh = Vault(coach)
    assert fresh.unlock_with_passphrase(PASSPHRASE).unlocked and not fresh.needs_reseal
    assert [read_note(fresh, i).body for i in ids] == ["old note 0", "old note 1"]
    # An old-format copy put back after the re-seal does not open, even under its old key.
    Note.update(body_sealed=old_bodies[ids[0]]).where(Note.id == ids[0]).execute()
    with pytest.raises(SealError, match="old format"):
        read_note(fresh, ids[0])
    Note.update(client=ann.id).where(Note.id == ids[1]).execute()
    with pytest.raises(SealError, match="moved"):
        read_note(fresh, ids[1])


def test_reseal_is_idempotent(coach, ann):
    from helpers import old_format_practice

    ids = old_format_practice(coach, [ann], PASSPHRASE)
    v = Vault(coach)
    assert v.unlock_with_passphrase(PASSPHRASE).unlocked
    assert v.reseal(passphrase=PASSPHRASE, argon2=FAST_ARGON2) is not None
    after_first = (bodies(), list(KeySlot.select().tuples()))
    again = Vault(coach)
    assert again.unlock_with_passphrase(PASSPHRASE).unlocked
    assert again.reseal(passphrase=PASSPHRASE, argon2=FAST_ARGON2) is None
    assert (bodies(), list(KeySlot.select().tuples())) == after_first
    assert read_note(again, ids[0]).body == "old note 0"


def test_the_new_format_mark_cannot_be_taken_off_a_slot(vault, coach):
    for slot in KeySlot.select():
        params = json.loads(slot.params)
        assert params.pop("notes_format") == 2
        KeySlot.update(params=json.dumps(params)).where(KeySlot.id == slot.id).execute()
    assert not Vault(coach).unlock_with_passphrase(PASSPHRASE).unlocked


def test_lock_leaves_no_key_in_the_vault(vault, ann):
    add_note(vault, ann.id, "goal", SECRET)
    key = vault._keys[vault.key_id]
    held = vault._keys
    vault.lock()
    assert held == {} and vault._keys == {}
    assert all(value is not key for value in vars(vault).values())
    assert not any(isinstance(value, bytes) and len(value) == 32 for value in vars(vault).values())
