"""The morning digest on a fixed clock: what it gathers, when it has nothing to say, and a
text that fits a phone's mail app with names shown literally."""

from __future__ import annotations

import datetime as dt

from trustdesk.store.models import Client, Commitment, Prompt, Session, Touch
from trustdesk.trust.digest import WIDTH, build_digest, digest_subject, digest_text
from trustdesk.trust.prompts import add_prompt

D = dt.timedelta


def at(today: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(today, dt.time(hour, minute))


def client(coach, today, name, **kw):
    kw.setdefault("started_on", today - D(days=100))
    c = Client.create(coach=coach, name=name, **kw)
    # Touched yesterday: not due for contact unless a test says so.
    Touch.create(coach=coach, client=c, occurred_on=today - D(days=1), channel="email",
                 direction="outbound")  # fmt: skip
    return c


def busy_morning(coach, today):
    ann = client(coach, today, "Ann Lee")
    ben = client(coach, today, "Ben\x1b[31m Ortiz")
    cy = Client.create(coach=coach, name="Cy Quiet", started_on=today - D(days=90))
    Session.create(coach=coach, client=ann, scheduled_start=at(today, 9))
    Session.create(coach=coach, client=ben, scheduled_start=at(today, 14, 30), duration_minutes=45)
    Session.create(coach=coach, client=ann, scheduled_start=at(today - D(days=2), 10))
    Commitment.create(coach=coach, client=ann, owner="coach", title="Send the reading list",
                      promised_on=today - D(days=10), due_on=today)  # fmt: skip
    Commitment.create(coach=coach, client=ben, owner="client", title="Draft the pitch",
                      promised_on=today - D(days=10), due_on=today - D(days=3))  # fmt: skip
    Commitment.create(coach=coach, client=ann, owner="client", title="Call her manager",
                      promised_on=today - D(days=1), due_on=today + D(days=2))  # fmt: skip
    pid = add_prompt(coach, "depth", "What mattered", "What mattered this week?")
    Touch.create(coach=coach, client=ben, occurred_on=today - D(days=4), channel="journal_prompt",
                 direction="outbound", prompt=Prompt.get_by_id(pid))  # fmt: skip
    return ann, ben, cy


def test_the_digest_gathers_the_agenda_overdue_promises_and_replies_awaited(database, coach):
    today = dt.date(2026, 3, 16)
    busy_morning(coach, today)
    digest = build_digest(coach, today, at(today, 7, 30))

    assert not digest.is_empty
    assert [s.client_name for s in digest.agenda.sessions] == ["Ann Lee", "Ben\x1b[31m Ortiz"]
    assert [s.client_name for s in digest.agenda.awaiting_outcome] == ["Ann Lee"]
    assert [p.title for p in digest.agenda.due_today] == ["Send the reading list"]
    assert [p.title for p in digest.agenda.due_this_week] == ["Call her manager"]
    assert [(p.title, p.days_overdue) for p in digest.overdue] == [("Draft the pitch", 3)]
    assert [c.client_name for c in digest.agenda.due_for_contact] == ["Cy Quiet"]
    assert [(r.client_name, r.days_waiting) for r in digest.awaiting_reply] == [
        ("Ben\x1b[31m Ortiz", 4)
    ]
    assert digest.promises_due == 2
    assert digest_subject(digest) == "trustdesk: 2 sessions today, 2 promises due, 1 to contact"


def test_the_text_fits_a_phone_and_shows_names_literally(database, coach):
    today = dt.date(2026, 3, 16)
    ann, *_ = busy_morning(coach, today)
    Commitment.create(coach=coach, client=ann, owner="coach", promised_on=today, due_on=today,
                      title="Read " + "the very long chapter on feedback " * 4)  # fmt: skip
    text = digest_text(build_digest(coach, today, at(today, 7, 30)))

    assert "\x1b" not in text
    assert "Ben\\x1b[31m Ortiz" in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert text.startswith("Good morning. Monday 16 March 2026\n")
    for heading in ("Sessions today", "Waiting for an outcome", "Overdue promises",
                    "Promises due today", "Due this week", "Due for contact",
                    "Prompts awaiting a reply"):  # fmt: skip
        assert f"\n\n{heading}\n" in text, heading
    assert "  09:00-10:00  Ann Lee\n" in text
    assert "  3 days late, Ben\\x1b[31m Ortiz owes you: Draft the pitch\n" in text
    assert "  Cy Quiet: due," in text or "  Cy Quiet: quiet," in text
    # The folded promise keeps its words, indented under the first line.
    folded = [line for line in text.splitlines() if line.startswith("    ")]
    assert folded and "feedback" in " ".join(folded)


def test_nothing_to_say_is_empty_and_prints_nothing(database, coach):
    today = dt.date(2026, 3, 16)
    client(coach, today, "Ann Lee")
    digest = build_digest(coach, today, at(today, 7, 30))
    assert digest.is_empty
    assert digest_text(digest) == ""
    # A session tomorrow is not today's news.
    Session.create(coach=coach, client=Client.get(), scheduled_start=at(today + D(days=1), 9))
    assert build_digest(coach, today, at(today, 7, 30)).is_empty


def test_archived_clients_leave_the_digest(database, coach):
    today = dt.date(2026, 3, 16)
    ann = client(coach, today, "Ann Lee")
    Commitment.create(coach=coach, client=ann, owner="coach", title="Send notes",
                      promised_on=today - D(days=9), due_on=today - D(days=2))  # fmt: skip
    assert not build_digest(coach, today, at(today, 7)).is_empty
    ann.status = "archived"
    ann.save()
    assert build_digest(coach, today, at(today, 7)).is_empty


def test_a_long_list_names_the_first_few(database, coach):
    today = dt.date(2026, 3, 16)
    for i in range(15):
        Client.create(coach=coach, name=f"Client {i:02}", started_on=today - D(days=90))
    text = digest_text(build_digest(coach, today, at(today, 7)))
    assert "  … and 3 more\n" in text
    assert digest_subject(build_digest(coach, today, at(today, 7))) == "trustdesk: 15 to contact"
