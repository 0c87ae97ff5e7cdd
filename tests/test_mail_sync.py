"""`trustdesk mail sync`: real Maildir and mbox files, written with the email package.

Each test builds the mail it needs, runs the sync with a fixed clock and then reads the
touches back from the database.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import os
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.mail_sync import MailSyncError, coach_addresses, sync_mail
from trustdesk.store.models import Client, Coach, MailSource, Prompt, Touch
from trustdesk.trust.clients import add_client

TODAY = dt.date(2026, 3, 16)
NOW = dt.datetime(2026, 3, 16, 12, 0)
ME = "morgan@coach.example"
SETTINGS = Settings(my_addresses=(ME,), time_zone="Europe/London")


def message(
    frm: str,
    to: str,
    subject: str,
    *,
    when: dt.datetime = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC),
    cc: str | None = None,
    mid: str | None = "auto",
    html: bool = False,
    **headers: str,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = subject
    m["Date"] = format_datetime(when)
    if mid == "auto":
        mid = f"<{abs(hash((frm, to, subject, when)))}@mail.example>"
    if mid:
        m["Message-ID"] = mid
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    if html:
        m.set_content("<p>Only <b>HTML</b> here</p>", subtype="html")
    else:
        m.set_content("The body, which is never stored.\n")
    return m


@pytest.fixture
def clients(coach):
    ann = add_client(coach, "Ann Lee", emails=["ann@example.com", "Ann.Lee@Work.example"])
    bo = add_client(coach, "Bo Chen", emails=["bo@example.com"])
    cy = add_client(coach, "Cyrille Éluard", emails=["cy@example.org"])
    return {"ann": ann.client_id, "bo": bo.client_id, "cy": cy.client_id}


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    return box


def run(coach, *sources, **options):
    options.setdefault("settings", SETTINGS)
    options.setdefault("today", TODAY)
    options.setdefault("now", NOW)
    return sync_mail(coach, [str(s) for s in sources], **options)


def touches(coach):
    return [
        (t.client_id, t.occurred_on, t.direction, t.channel, t.summary, t.prompt_id, t.source)
        for t in Touch.select().where(Touch.coach == coach).order_by(Touch.client, Touch.id)
    ]


def test_inbound_and_outbound_touches_from_a_maildir(coach, clients, maildir):
    maildir.add(message("Ann Lee <ann@example.com>", ME, "Before Thursday"))
    maildir.add(
        message(
            ME,
            "Bo Chen <bo@example.com>, someone@else.example",
            "Notes from today",
            cc="=?utf-8?q?Cyrille_=C3=89luard?= <CY@example.org>",
            when=dt.datetime(2026, 3, 12, 23, 30, tzinfo=dt.UTC),
        )
    )
    maildir.add(message("stranger@else.example", ME, "Hello"))
    result = run(coach, maildir._path)

    assert result.read == 3 and result.logged == 3 and result.clients == 3
    assert result.sources[0].unmatched == 1
    got = touches(coach)
    assert (
        clients["ann"],
        dt.date(2026, 3, 10),
        "inbound",
        "email",
        "Before Thursday",
        None,
        "mail",
    ) in got
    # 23:30 UTC on the 12th is the 12th in London; both recipients that are clients.
    assert (
        clients["bo"],
        dt.date(2026, 3, 12),
        "outbound",
        "email",
        "Notes from today",
        None,
        "mail",
    ) in got
    assert (
        clients["cy"],
        dt.date(2026, 3, 12),
        "outbound",
        "email",
        "Notes from today",
        None,
        "mail",
    ) in got
    assert all(t.counts_for_cadence for t in Touch.select())
    assert all("never stored" not in t.summary for t in Touch.select())


def test_the_date_is_the_coach_time_zone_day(coach, clients, maildir):
    # 23:30 UTC on a summer day is already the next day in London.
    maildir.add(
        message("ann@example.com", ME, "Late", when=dt.datetime(2025, 7, 1, 23, 30, tzinfo=dt.UTC))
    )
    run(coach, maildir._path)
    assert Touch.get().occurred_on == dt.date(2025, 7, 2)


def test_encoded_names_and_subjects_are_decoded(coach, clients, maildir):
    maildir.add(
        message(
            "=?utf-8?q?Ann_L=C3=A9e?= <ann@example.com>",
            ME,
            "=?utf-8?q?=C3=89t=C3=A9_=C3=A0?= Paris",
        )
    )
    run(coach, maildir._path)
    assert Touch.get().summary == "Été à Paris"


def test_a_client_in_cc_of_a_clients_message_is_not_touched(coach, clients, maildir):
    maildir.add(message("bo@example.com", ME, "Us two", cc="ann@example.com"))
    run(coach, maildir._path)
    assert [(t[0], t[2]) for t in touches(coach)] == [(clients["bo"], "inbound")]


def test_a_client_who_writes_from_another_address_is_known(coach, clients, maildir):
    maildir.add(message("ann.lee@work.EXAMPLE", ME, "From work"))
    run(coach, maildir._path)
    assert touches(coach)[0][0] == clients["ann"]


def test_lists_auto_replies_bulk_and_future_mail_are_skipped(coach, clients, maildir):
    maildir.add(message("ann@example.com", ME, "Newsletter", List_Id="<news.example.com>"))
    maildir.add(message("ann@example.com", ME, "Unsub", List_Unsubscribe="<mailto:x@y>"))
    maildir.add(message("ann@example.com", ME, "Away", Auto_Submitted="auto-replied"))
    maildir.add(message("ann@example.com", ME, "Away 2", X_Autoreply="yes"))
    maildir.add(message("ann@example.com", ME, "Bulk", Precedence="bulk"))
    maildir.add(
        message("ann@example.com", ME, "Later", when=dt.datetime(2026, 3, 18, tzinfo=dt.UTC))
    )
    maildir.add(message("ann@example.com", ME, "Real", Auto_Submitted="no"))
    result = run(coach, maildir._path)
    assert [t[4] for t in touches(coach)] == ["Real"]
    assert dict(result.skipped) == {"list": 2, "auto_reply": 2, "bulk": 1, "future": 1}


def test_html_only_and_forwarded_messages_are_logged_by_their_headers(coach, clients, maildir):
    maildir.add(message("ann@example.com", ME, "Pictures", html=True))
    forwarded = message(ME, "bo@example.com", "Fwd: an article")
    forwarded.clear_content()
    forwarded.set_content("See below.")
    forwarded.add_attachment(message("news@else.example", ME, "an article"))
    maildir.add(forwarded)
    run(coach, maildir._path)
    assert sorted(t[4] for t in touches(coach)) == ["Fwd: an article", "Pictures"]


def test_a_message_without_message_id_is_keyed_by_a_hash_once(coach, clients, maildir):
    maildir.add(message("ann@example.com", ME, "No id", mid=None))
    run(coach, maildir._path)
    first = Touch.get()
    assert first.message_id.startswith("sha256:")
    maildir.add(message("ann@example.com", ME, "No id", mid=None))  # the same message again
    run(coach, maildir._path)
    assert Touch.select().count() == 1


def test_running_twice_logs_nothing_twice_and_reads_nothing_again(coach, clients, maildir):
    for i in range(5):
        maildir.add(message("ann@example.com", ME, f"Message {i}"))
    assert run(coach, maildir._path).logged == 5
    again = run(coach, maildir._path)
    assert again.read == 0 and again.logged == 0
    assert Touch.select().count() == 5


def test_a_maildir_flag_change_or_move_to_cur_is_not_read_again(coach, clients, maildir):
    key = maildir.add(message("ann@example.com", ME, "Flag me"))
    run(coach, maildir._path)
    msg = maildir[key]
    msg.set_subdir("cur")
    msg.set_flags("S")
    maildir[key] = msg  # moved to cur/ with ":2,S"
    names = os.listdir(os.path.join(maildir._path, "cur"))
    assert names and names[0].endswith(":2,S")
    again = run(coach, maildir._path)
    assert again.read == 0
    # Even with the mark forgotten, the message is logged once.
    MailSource.update(mark="{}").execute()
    assert run(coach, maildir._path).read == 1
    assert Touch.select().count() == 1


def settle_folders(maildir, seconds: int = 60) -> None:
    """Date new/ and cur/ back, as if the last delivery were a while ago."""
    for sub in ("new", "cur"):
        folder = os.path.join(maildir._path, sub)
        when = os.stat(folder).st_mtime - seconds
        os.utime(folder, (when, when))


def test_a_maildir_whose_folders_have_not_changed_is_not_listed(
    coach, clients, maildir, monkeypatch
):
    from trustdesk import mail_sync

    maildir.add(message("ann@example.com", ME, "Hello"))
    settle_folders(maildir)
    assert run(coach, maildir._path).logged == 1
    listed = []
    listing = mail_sync._maildir_listing
    monkeypatch.setattr(mail_sync, "_maildir_listing", lambda p: listed.append(p) or listing(p))
    assert run(coach, maildir._path).read == 0
    assert listed == []
    # A new message changes new/: it is listed and read.
    maildir.add(message("bo@example.com", ME, "Hi"))
    assert run(coach, maildir._path).logged == 1
    assert len(listed) == 1


def test_a_maildir_changed_a_moment_ago_is_listed_again_whatever_its_times(coach, clients, maildir):
    """A folder changed within the last two seconds is not trusted by its time: on a file
    system with one-second times, a message delivered in the same second as the last read
    would leave the folder's time as it was."""
    maildir.add(message("ann@example.com", ME, "Hello"))
    assert run(coach, maildir._path).logged == 1
    (mark,) = [json.loads(m) for (m,) in MailSource.select(MailSource.mark).tuples()]
    assert mark["folders"] is None
    times = {sub: os.stat(os.path.join(maildir._path, sub)) for sub in ("new", "cur")}
    maildir.add(message("bo@example.com", ME, "Same second"))
    for sub, st in times.items():  # the delivery left the times as they were
        os.utime(os.path.join(maildir._path, sub), ns=(st.st_atime_ns, st.st_mtime_ns))
    assert run(coach, maildir._path).logged == 1
    assert Touch.select().count() == 2


def test_an_appended_mbox_is_read_from_where_it_stopped(coach, clients, tmp_path):
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    box.add(message("ann@example.com", ME, "One"))
    box.add(message("bo@example.com", ME, "Two"))
    box.flush()
    first = run(coach, path)
    assert (first.read, first.logged) == (2, 2)
    assert run(coach, path).read == 0  # same size and time: not opened
    box.add(message("cy@example.org", ME, "Three"))
    box.flush()
    box.close()
    appended = run(coach, path)
    assert (appended.read, appended.logged, appended.sources[0].reread) == (1, 1, False)
    assert sorted(t[4] for t in touches(coach)) == ["One", "Three", "Two"]


def test_a_rewritten_mbox_is_read_again_without_logging_twice(coach, clients, tmp_path):
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for i in range(3):
        box.add(message("ann@example.com", ME, f"M{i}"))
    box.flush()
    run(coach, path)
    box.remove(next(iter(box.keys())))  # a reader deleting one rewrites the file
    box.flush()
    box.close()
    again = run(coach, path)
    assert again.sources[0].reread and again.read == 2 and again.logged == 0
    assert Touch.select().count() == 3


def test_dry_run_lists_and_writes_nothing_not_even_the_mark(coach, clients, maildir):
    maildir.add(message("ann@example.com", ME, "Hello"))
    dry = run(coach, maildir._path, dry_run=True)
    assert dry.dry_run and [t.subject for t in dry.touches] == ["Hello"]
    assert Touch.select().count() == 0 and MailSource.select().count() == 0
    assert run(coach, maildir._path).logged == 1


def test_since_limits_a_first_run(coach, clients, maildir):
    maildir.add(message("ann@example.com", ME, "Old", when=dt.datetime(2025, 1, 5, tzinfo=dt.UTC)))
    maildir.add(message("ann@example.com", ME, "New"))
    result = run(coach, maildir._path, since=dt.date(2026, 1, 1))
    assert [t[4] for t in touches(coach)] == ["New"]
    assert dict(result.skipped) == {"before_since": 1}


def test_archived_clients_are_left_out(coach, clients, maildir):
    Client.update(status="archived").where(Client.id == clients["bo"]).execute()
    maildir.add(message("bo@example.com", ME, "Still here?"))
    assert run(coach, maildir._path).logged == 0


def _sent_prompt(coach, client_id, title, day, mid=None):
    prompt = Prompt.create(coach=coach, title=title, body="What went well?")
    Touch.create(
        coach=coach,
        client=client_id,
        occurred_on=day,
        channel="journal_prompt",
        direction="outbound",
        summary=title,
        prompt=prompt,
        source="sent" if mid else "",
        message_id=mid,
    )
    return prompt.id


def test_a_reply_threaded_by_references_only_answers_the_prompt(coach, clients, maildir):
    prompt_id = _sent_prompt(
        coach, clients["ann"], "Your week", dt.date(2026, 3, 9), "<p1@coach.example>"
    )
    maildir.add(
        message(
            "ann@example.com",
            ME,
            "Something else entirely",
            References="<older@x.example> <p1@coach.example>",
        )
    )
    result = run(coach, maildir._path)
    assert result.replies == 1
    reply = Touch.get(Touch.channel == "reply")
    assert (reply.direction, reply.prompt_id, reply.source) == ("inbound", prompt_id, "mail")
    assert reply.message_id != "<p1@coach.example>"


def test_a_re_subject_reply_without_threading_answers_the_prompt(coach, clients, maildir):
    prompt_id = _sent_prompt(coach, clients["ann"], "What  surprised you", dt.date(2026, 3, 9))
    maildir.add(message("ann@example.com", ME, "AW: RE: what surprised  YOU"))
    # Before the prompt went out, or from another client: not a reply.
    maildir.add(
        message(
            "ann@example.com",
            ME,
            "Re: What surprised you",
            when=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        )
    )
    maildir.add(message("bo@example.com", ME, "Re: What surprised you"))
    run(coach, maildir._path)
    replies = list(Touch.select().where(Touch.channel == "reply"))
    assert [(r.client_id, r.prompt_id) for r in replies] == [(clients["ann"], prompt_id)]


def test_the_coach_addresses_default_to_the_login(coach, monkeypatch):
    from trustdesk import mail_sync

    monkeypatch.setattr(mail_sync, "login_address", lambda: "morgan@server.example")
    Coach.update(email="Morgan@Home.example").execute()
    coach = Coach.get()
    assert coach_addresses(coach, Settings()) == {"morgan@home.example", "morgan@server.example"}
    named = coach_addresses(coach, Settings(my_addresses=("a@x.example",)), ["b@x.example"])
    assert named == {"a@x.example", "b@x.example", "morgan@home.example"}


def test_a_missing_or_unreadable_source_is_one_line_and_writes_nothing(
    coach, clients, maildir, tmp_path
):
    maildir.add(message("ann@example.com", ME, "Hello"))
    with pytest.raises(MailSyncError, match=r"mail source .*nowhere: no such folder or file"):
        run(coach, maildir._path, tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(MailSyncError, match="not a Maildir"):
        run(coach, tmp_path / "plain")
    with pytest.raises(MailSyncError, match="no mail source"):
        run(coach)
    assert Touch.select().count() == 0 and MailSource.select().count() == 0


# --- the command, in process -----------------------------------------------------------


@pytest.fixture
def cli(coach, isolated_home, capsys):
    from trustdesk.cli import main

    config.set_today(TODAY)
    db_path = str(isolated_home / "test.sqlite3")

    def call(*argv):
        code = main(["--db", db_path, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_cli_sync_says_what_it_logged(cli, clients, maildir, coach):
    maildir.add(message("ann@example.com", ME, "Hi"))
    maildir.add(message("bo@example.com", ME, "Re: x", List_Id="<l.example>"))
    code, out, err = cli("mail", "sync", maildir._path, "--me", ME)
    assert code == 0, err
    assert out == (
        f"Read 2 messages from {maildir._path}: logged 1 touch for 1 client; skipped 1 (lists).\n"
    )
    code, out, _ = cli("mail", "sync", maildir._path, "--me", ME)
    assert out == f"No new messages in {maildir._path}.\n"


def test_cli_dry_run_json(cli, clients, maildir, coach):
    maildir.add(message("ann@example.com", ME, "Hi"))
    code, out, _ = cli("mail", "sync", maildir._path, "--me", ME, "--dry-run", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "dry_run",
        "read",
        "logged",
        "clients",
        "replies",
        "skipped",
        "sources",
        "touches",
    }
    assert data["dry_run"] is True and data["logged"] == 1
    assert set(data["touches"][0]) == {
        "client_id", "client", "occurred_on", "direction", "channel",
        "summary", "message_id", "prompt_id", "source",
    }  # fmt: skip
    assert data["touches"][0]["client"] == "Ann Lee"
    assert Touch.select().count() == 0


def test_cli_errors_are_one_line_and_write_nothing(cli, clients, tmp_path):
    code, out, err = cli("mail", "sync")
    assert code != 0 and out == "" and err.count("\n") == 1 and "mail_sources" in err
    code, _, err = cli("mail", "sync", str(tmp_path / "gone"))
    assert code != 0 and err.count("\n") == 1 and "gone" in err
    code, _, err = cli("mail", "sync", str(tmp_path), "--since", "someday")
    assert code != 0 and err.count("\n") == 1 and "--since" in err
    assert Touch.select().count() == 0 and MailSource.select().count() == 0


def test_raw_utf8_headers_reply_to_and_a_long_subject(coach, clients, maildir):
    raw = (
        "From: forms@service.example\nReply-To: Bo Chen <bo@example.com>\n"
        f"To: {ME}\nSubject: Réponse — {'x' * 2100}\n"
        "Date: Tue, 10 Mar 2026 09:00:00 +0100\nMessage-ID: <form1@service.example>\n\nbody\n"
    ).encode()
    maildir.add(raw)
    run(coach, maildir._path)
    (touch,) = Touch.select()
    assert touch.client_id == clients["bo"] and touch.direction == "inbound"
    assert touch.summary.startswith("Réponse — x") and len(touch.summary) == 2000


def test_a_message_in_two_sources_is_one_touch(coach, clients, maildir, tmp_path):
    sent = mailbox.Maildir(tmp_path / "Sent", create=True)
    one = message(ME, "ann@example.com", "Same message")
    maildir.add(one)
    sent.add(one)
    result = run(coach, maildir._path, sent._path)
    assert result.logged == 1 and [s.logged for s in result.sources] == [1, 0]
    assert Touch.select().count() == 1


def test_progress_is_told_how_far_each_source_is(coach, clients, maildir, tmp_path):
    for i in range(3):
        maildir.add(message("ann@example.com", ME, f"M{i}"))
    seen = []
    run(coach, maildir._path, progress=lambda source, done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)


def test_cli_reads_the_sources_in_settings(cli, clients, maildir, coach, isolated_home):
    maildir.add(message("ann@example.com", ME, "Hi"))
    (isolated_home / "settings.toml").write_text(
        f'mail_sources = ["{maildir._path}"]\nmy_addresses = ["{ME}"]\n'
    )
    code, out, err = cli("mail", "sync")
    assert code == 0, err
    assert out.startswith("Read 1 message from ") and "logged 1 touch for 1 client." in out
    assert Touch.select().count() == 1
