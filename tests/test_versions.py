"""A save made from an older copy is refused, never written over what was saved meanwhile."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE

from trustdesk.store.models import Client, Commitment, Note, Outcome, Session, Touch
from trustdesk.store.practice import delete_rows
from trustdesk.trust import common, contact, journey, promises, sessions
from trustdesk.trust.common import ChangedElsewhere
from trustdesk.trust.notes import add_note, read_note, save_note_edit, update_note
from trustdesk.vault import Vault

D = dt.timedelta


@pytest.fixture
def ann(coach, today):
    return Client.create(coach=coach, name="Ann", started_on=today - D(days=90)).id


def version_of(model, row_id) -> int:
    return model.get_by_id(row_id).version


def test_every_change_moves_the_version_on(coach, today, ann):
    pid = promises.add_commitment(
        coach, ann, owner="coach", title="Send the plan", due_on=today, promised_on=today
    )
    assert version_of(Commitment, pid) == 1
    promises.edit_commitment(coach, pid, title="Send the plan today", due_on=today, version=1)
    assert version_of(Commitment, pid) == 2
    promises.mark_done(coach, pid, today, version=2)
    assert version_of(Commitment, pid) == 3
    # Any UPDATE moves it on, even one written without a version in hand.
    Commitment.update(reason="x").where(Commitment.id == pid).execute()
    assert version_of(Commitment, pid) == 4


def test_a_promise_edited_elsewhere_is_not_overwritten(coach, today, ann):
    pid = promises.add_commitment(
        coach, ann, owner="coach", title="Send the plan", due_on=today, promised_on=today
    )
    read = version_of(Commitment, pid)  # the form opens with this copy
    promises.edit_commitment(coach, pid, title="Send the plan by mail", due_on=today)  # elsewhere
    with pytest.raises(ChangedElsewhere, match="changed elsewhere after you opened it"):
        promises.edit_commitment(coach, pid, title="Mine", due_on=today, version=read)
    for stale in (
        lambda: promises.mark_done(coach, pid, today, version=read),
        lambda: promises.drop(coach, pid, "no longer needed", today, version=read),
        lambda: promises.renegotiate(coach, pid, today + D(days=3), today, version=read),
    ):
        with pytest.raises(ChangedElsewhere):
            stale()
    row = Commitment.get_by_id(pid)
    assert (row.title, row.status) == ("Send the plan by mail", "open")
    assert Commitment.select().count() == 1  # no successor was opened by the refused renegotiate


def test_a_touch_corrected_elsewhere_is_neither_overwritten_nor_removed(coach, today, ann):
    tid = contact.log_touch(
        coach, ann, channel="call", direction="outbound", summary="Checked in",
        occurred_on=today, today=today,
    )  # fmt: skip
    read = version_of(Touch, tid)
    fields = dict(channel="call", direction="outbound", occurred_on=today, today=today,
                  counts_for_cadence=True)  # fmt: skip
    contact.edit_touch(coach, tid, summary="Checked in; she is moving house", **fields)
    with pytest.raises(ChangedElsewhere):
        contact.edit_touch(coach, tid, summary="Mine", version=read, **fields)
    with pytest.raises(ChangedElsewhere):
        contact.remove_touch(coach, tid, version=read)
    assert Touch.get_by_id(tid).summary == "Checked in; she is moving house"
    contact.remove_touch(coach, tid, version=read + 1)
    assert not Touch.select().where(Touch.id == tid).exists()
    with pytest.raises(common.ActionError, match="no longer exists"):
        contact.remove_touch(coach, tid, version=read + 1)


def test_a_session_moved_elsewhere_is_not_moved_back(coach, today, ann):
    start = dt.datetime.combine(today + D(days=7), dt.time(10))
    sid = sessions.schedule_session(coach, ann, start=start, duration_minutes=60)
    read = version_of(Session, sid)
    sessions.reschedule_session(coach, sid, start=start + D(hours=2), duration_minutes=60)
    with pytest.raises(ChangedElsewhere):
        sessions.reschedule_session(coach, sid, start=start, duration_minutes=45, version=read)
    with pytest.raises(ChangedElsewhere):
        sessions.set_session_status(coach, sid, "cancelled", version=read)
    row = Session.get_by_id(sid)
    assert (row.scheduled_start, row.status) == (start + D(hours=2), "scheduled")


def test_an_outcome_edited_elsewhere_is_kept(coach, today, ann):
    oid = journey.add_outcome(coach, ann, today, "Promoted", today=today)
    read = version_of(Outcome, oid)
    journey.edit_outcome(coach, oid, achieved_on=today, title="Promoted to lead", detail="",
                         today=today)  # fmt: skip
    with pytest.raises(ChangedElsewhere):
        journey.edit_outcome(coach, oid, achieved_on=today, title="Mine", detail="",
                             today=today, version=read)  # fmt: skip
    with pytest.raises(ChangedElsewhere):
        journey.remove_outcome(coach, oid, version=read)
    assert Outcome.get_by_id(oid).title == "Promoted to lead"


def test_a_note_edited_in_two_places_keeps_both_sets_of_words(coach, today, ann):
    vault = Vault(coach)
    vault.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    nid = add_note(vault, ann, "session", "She named the fear: being found out.")
    opened = read_note(vault, nid)  # one window opens the note
    update_note(vault, nid, "She named the fear: being found out. Then laughed.")  # another saves
    with pytest.raises(ChangedElsewhere):
        update_note(vault, nid, "Overwrite", version=opened.version)
    kept = save_note_edit(vault, nid, "She named the fear, and what it costs her.",
                          version=opened.version)  # fmt: skip
    assert kept is not None and kept != nid
    assert read_note(vault, nid).body == "She named the fear: being found out. Then laughed."
    beside = read_note(vault, kept)
    assert beside.body == "She named the fear, and what it costs her."
    assert (beside.client_id, beside.kind) == (ann, "session")
    assert Note.select().count() == 2
    # From a current copy the edit is saved in place.
    current = read_note(vault, nid)
    assert save_note_edit(vault, nid, "Settled words.", version=current.version) is None
    assert read_note(vault, nid).body == "Settled words."


def test_a_note_removed_while_being_edited_keeps_the_new_words(coach, today, ann):
    vault = Vault(coach)
    vault.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    nid = add_note(vault, ann, "goal", "Lead the offsite.")
    opened = read_note(vault, nid)
    delete_rows(Note, Note.id == nid)  # removed in another window
    kept = save_note_edit(vault, nid, "Lead the offsite, then the quarter.",
                          version=opened.version, client_id=ann, kind="goal")  # fmt: skip
    assert kept is not None
    assert read_note(vault, kept).body == "Lead the offsite, then the quarter."


def test_key_rotation_does_not_write_over_a_note_saved_meanwhile(coach, ann, monkeypatch):
    from trustdesk.vault import VaultError

    vault = Vault(coach)
    vault.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    nid = add_note(vault, ann, "goal", "First words.")
    real_update = Note.update

    def saved_elsewhere_first(*args, **kwargs):
        # Another terminal saves the note between the rotation's read and its write.
        monkeypatch.setattr(Note, "update", real_update)
        update_note(vault, nid, "Saved elsewhere meanwhile.")
        return real_update(*args, **kwargs)

    old_key = vault.key_id
    monkeypatch.setattr(Note, "update", saved_elsewhere_first)
    with pytest.raises(VaultError, match="saved elsewhere during the rotation"):
        vault.rotate(passphrase=PASSPHRASE, argon2=FAST_ARGON2)
    # Refused and rolled back whole (here the other save shared the transaction, so it went
    # too; from another terminal it would stand): the old key still opens every note.
    assert vault.key_id == old_key
    assert read_note(vault, nid).body == "First words."


def test_a_program_or_stage_edited_elsewhere_is_not_overwritten(coach):
    pid = journey.create_program(coach, "Leading well", "For new managers", 8)
    sid = journey.add_stage(coach, pid, "Start", "Where are we", 2, "A page on your team")
    program, stage = journey.saved_program(coach, pid), journey.saved_stage(coach, sid)
    assert (program.version, stage.version) == (1, 1)
    journey.edit_program(coach, pid, name="Leading well, together", summary="", typical_sessions=8)
    with pytest.raises(ChangedElsewhere, match="that program was changed elsewhere"):
        journey.edit_program(coach, pid, name="Mine", summary="", typical_sessions=8,
                             version=program.version)  # fmt: skip
    journey.move_stage(coach, journey.add_stage(coach, pid, "Next", "", 1, ""), up=True)
    with pytest.raises(ChangedElsewhere, match="that stage was changed elsewhere"):
        journey.edit_stage(coach, sid, name="Mine", purpose="", typical_sessions=1,
                           asks_of_client="", version=stage.version)  # fmt: skip
    assert journey.saved_program(coach, pid).name == "Leading well, together"
    now = journey.saved_stage(coach, sid)
    assert (now.name, now.position) == ("Start", 2)
    journey.edit_stage(coach, sid, name="Mine", purpose="", typical_sessions=1,
                       asks_of_client="", version=now.version)  # fmt: skip
    assert journey.saved_stage(coach, sid).name == "Mine"
    assert journey.saved_stage(coach, sid + 1000) is None


def test_a_prompt_edited_elsewhere_is_not_overwritten(coach):
    from trustdesk.trust import prompts

    pid = prompts.add_prompt(coach, "depth", "Mornings", "What do your mornings ask of you?")
    read = prompts.saved_prompt(coach, pid).version
    prompts.edit_prompt(coach, pid, body="What do your mornings give you?")
    with pytest.raises(ChangedElsewhere, match="that prompt was changed elsewhere"):
        prompts.edit_prompt(coach, pid, title="Mine", version=read)
    assert prompts.saved_prompt(coach, pid).title == "Mornings"
    prompts.edit_prompt(coach, pid, title="Mine", version=read + 1)
    assert prompts.saved_prompt(coach, pid).title == "Mine"
