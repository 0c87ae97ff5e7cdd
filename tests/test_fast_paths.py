"""The fast paths the dashboard and search use give exactly what the full rules give."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from trustdesk.config import Settings
from trustdesk.store import Note, current_coach
from trustdesk.trust import build_report
from trustdesk.trust.contact import cadence, cadence_counts
from trustdesk.trust.dashboard import summary
from trustdesk.trust.notes import read_note, search_notes
from trustdesk.trust.promises import count_overdue, overdue_promises
from trustdesk.trust.prompts import awaiting_reply
from trustdesk.vault import SealError, Vault
from trustdesk.vault.sealing import Opener, new_data_key, new_key_id, open_sealed, seal


def test_the_summary_counts_what_the_report_lists(demo_practice, today):
    demo_practice(60)
    coach = current_coach()
    report = build_report(coach, today, Settings())
    numbers = summary(coach, today, Settings())
    assert numbers.overdue == len(report.overdue) == count_overdue(coach, today)
    assert numbers.quiet == len(report.quiet)
    assert numbers.due == len(report.due_for_contact)
    assert numbers.coach_kept == report.coach_follow_through.practice
    assert numbers.on_time == report.punctuality.practice
    awaiting = awaiting_reply(coach, today, count_only=True)
    assert awaiting == len(awaiting_reply(coach, today)) == len(report.awaiting_replies) > 0
    states = Counter(c.state for c in cadence(coach, today))
    assert {"quiet", "due", "ok", "snoozed"} <= set(states)
    assert cadence_counts(coach, today) == {s: states[s] for s in ("quiet", "due", "ok", "snoozed")}
    assert [o.commitment_id for o in overdue_promises(coach, today, offset=2, limit=3)] == [
        o.commitment_id for o in report.overdue[2:5]
    ]


def test_the_opener_opens_what_open_sealed_opens_and_nothing_else():
    key, key_id = new_data_key(), new_key_id()
    opener = Opener({key_id: key}, table="note", column="body")
    row = uuid.uuid4()
    sealed = seal(key, key_id, "words", table="note", row_id=row, column="body")
    assert opener.open_uuid(row.hex, sealed) == "words"
    assert opener.open_uuid(str(row), sealed) == "words"
    assert open_sealed({key_id: key}, sealed, table="note", row_id=row, column="body") == "words"
    with pytest.raises(SealError):
        opener.open_uuid(uuid.uuid4().hex, sealed)  # moved to another row
    with pytest.raises(SealError):
        Opener({key_id: key}, table="note", column="title").open_uuid(row.hex, sealed)
    damaged = bytearray(sealed)
    damaged[-1] ^= 1
    with pytest.raises(SealError):
        opener.open_uuid(row.hex, bytes(damaged))
    other = new_key_id()
    with pytest.raises(SealError, match="not unlocked"):
        opener.open_uuid(row.hex, seal(new_data_key(), other, "x", table="note", row_id=row,
                                       column="body"))  # fmt: skip


def test_search_finds_what_reading_each_note_finds(demo_practice, today):
    demo_practice(30)
    vault = Vault(current_coach())
    assert vault.unlock_with_passphrase("demo").unlocked
    for word in ("session", "manager", "sleep"):
        expected = {n.id for n in Note.select() if word in read_note(vault, n.id).body.casefold()}
        hits = search_notes(vault, word)
        assert {h.id for h in hits} == expected
        assert [h.written_on for h in hits] == sorted((h.written_on for h in hits), reverse=True)
