"""The same coaching rules on both backends: a SQLite file and a shared PostgreSQL practice.

Each test runs twice through `practice_as_ann`: once on a file, once as Ann inside a
PostgreSQL practice that also holds Ben. What Ann's dashboard, report, search and edits
give must be the same either way, and on PostgreSQL nothing of Ben's may show up.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE

from trustdesk.config import Settings
from trustdesk.exporter import write_json_export
from trustdesk.importer import ImportRejected, import_clients
from trustdesk.store import Client, Commitment, current_coach
from trustdesk.trust import build_report, contact, promises, sessions
from trustdesk.trust.common import ChangedElsewhere
from trustdesk.trust.contact import cadence, cadence_counts
from trustdesk.trust.dashboard import client_page, summary
from trustdesk.trust.notes import add_note, search_notes
from trustdesk.trust.promises import overdue_promises
from trustdesk.trust.prompts import awaiting_reply
from trustdesk.vault import Vault

DAY = dt.date(2026, 3, 16)
D = dt.timedelta


def a_week_of_coaching(coach) -> dict[str, int]:
    """Three clients with a spread of contact, promises and sessions, made by the actions."""
    names = ["Élodie Marchand", "Sam Okafor", "Priya Raman"]
    ids = {}
    for i, name in enumerate(names):
        ids[name] = Client.create(
            coach=coach, name=name, started_on=DAY - D(days=120), ideal_gap_days=7,
            max_gap_days=14 + i,
        ).id  # fmt: skip
    elodie, sam, priya = ids.values()
    contact.log_touch(coach, elodie, channel="call", direction="outbound", summary="Check-in",
                      occurred_on=DAY - D(days=2), today=DAY)  # fmt: skip
    contact.log_touch(coach, sam, channel="email", direction="inbound", summary="Update",
                      occurred_on=DAY - D(days=9), today=DAY)  # fmt: skip
    contact.log_touch(coach, priya, channel="email", direction="outbound", summary="Old",
                      occurred_on=DAY - D(days=40), today=DAY)  # fmt: skip
    late = promises.add_commitment(coach, sam, owner="coach", title="Send the reading list",
                                  due_on=DAY - D(days=3), promised_on=DAY - D(days=10))  # fmt: skip
    kept = promises.add_commitment(coach, elodie, owner="coach", title="Book the room",
                                  due_on=DAY - D(days=1), promised_on=DAY - D(days=8))  # fmt: skip
    promises.mark_done(coach, kept, DAY - D(days=2))
    promises.add_commitment(coach, priya, owner="client", title="Draft the pitch",
                           due_on=DAY - D(days=5), promised_on=DAY - D(days=12))  # fmt: skip
    start = dt.datetime.combine(DAY - D(days=7), dt.time(10))
    held = sessions.schedule_session(coach, elodie, start=start, duration_minutes=60)
    sessions.set_session_status(coach, held, "held", actual_start=start + D(minutes=9))
    ids["late promise"] = late
    return ids


def test_the_dashboard_and_the_report_agree_on_either_backend(practice_as_ann):
    coach = current_coach()
    ids = a_week_of_coaching(coach)
    numbers = summary(coach, DAY, Settings())
    report = build_report(coach, DAY, Settings())
    assert numbers.overdue == len(report.overdue) == 2
    assert [o.title for o in overdue_promises(coach, DAY)] == [
        "Send the reading list",
        "Draft the pitch",
    ]
    assert overdue_promises(coach, DAY, limit=1, offset=1)[0].title == "Draft the pitch"
    states = {c.client_id: c.state for c in cadence(coach, DAY)}
    assert states == {ids["Élodie Marchand"]: "ok", ids["Sam Okafor"]: "due",
                      ids["Priya Raman"]: "quiet"}  # fmt: skip
    assert cadence_counts(coach, DAY) == {"quiet": 1, "due": 1, "ok": 1, "snoozed": 0}
    assert (numbers.quiet, numbers.due) == (1, 1)
    assert numbers.coach_kept.kept == 1 and numbers.coach_kept.counted == 2
    assert numbers.on_time.kept == 0 and numbers.on_time.counted == 1  # 9 minutes late
    assert awaiting_reply(coach, DAY, count_only=True) == 0


def test_finding_clients_ignores_accents_and_case_on_either_backend(practice_as_ann):
    coach = current_coach()
    a_week_of_coaching(coach)
    page = client_page(coach, DAY, name_filter="ELODIE")
    assert page.total == 1 and page.rows[0].name == "Élodie Marchand"
    assert client_page(coach, DAY, name_filter="100%").total == 0  # % is a character here
    by_contact = client_page(coach, DAY, sort="contact")
    assert [r.name for r in by_contact.rows] == ["Priya Raman", "Sam Okafor", "Élodie Marchand"]
    assert client_page(coach, DAY, sort="promises", descending=True).rows[0].open_promises == 1


def test_notes_seal_and_search_on_either_backend(practice_as_ann):
    coach = current_coach()
    ids = a_week_of_coaching(coach)
    vault = Vault(coach)
    vault.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    add_note(vault, ids["Sam Okafor"], "struggle", "Afraid the MANAGER will find out.")
    add_note(vault, ids["Priya Raman"], "goal", "Lead the offsite in May.")
    hits = search_notes(vault, "manager")
    assert [(h.client_name, h.kind) for h in hits] == [("Sam Okafor", "struggle")]
    assert "MANAGER" in hits[0].excerpt


def test_an_edit_from_an_older_copy_is_refused_on_either_backend(practice_as_ann):
    coach = current_coach()
    ids = a_week_of_coaching(coach)
    late = ids["late promise"]
    read = Commitment.get_by_id(late).version
    promises.edit_commitment(coach, late, title="Send the reading list and notes", due_on=DAY)
    with pytest.raises(ChangedElsewhere):
        promises.edit_commitment(coach, late, title="Mine", due_on=DAY, version=read)
    assert Commitment.get_by_id(late).title == "Send the reading list and notes"


def test_import_is_whole_or_nothing_and_export_round_trips_on_either_backend(practice_as_ann):
    coach = current_coach()
    good = b"name,email\nAnn Lee,ann@example.org\nBo Chen,bo@example.org\n"
    assert import_clients(good, coach=coach, today=DAY, settings=Settings()).imported == 2
    bad = b"name,email\nCara Diaz,c@example.org\n,missing@example.org\n"
    with pytest.raises(ImportRejected):
        import_clients(bad, coach=coach, today=DAY, settings=Settings())
    assert sorted(c.name for c in Client.select()) == ["Ann Lee", "Bo Chen"]
    out = io.StringIO()
    write_json_export(out, coach)
    exported = json.loads(out.getvalue())
    assert sorted(c["name"] for c in exported["tables"]["client"]) == ["Ann Lee", "Bo Chen"]
