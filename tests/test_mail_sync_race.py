"""Two mail syncs at once (cron and a coach at a terminal) log each message once.

The race is made to happen: both syncs read the mail and check what is logged before
either writes (a barrier holds each at the start of its write), so only the database's
unique index on (coach, client, message_id) stands between them and every touch twice.
Runs on a SQLite file and as a coach of a shared PostgreSQL practice.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import threading
from email.message import EmailMessage
from email.utils import format_datetime

from trustdesk import mail_sync
from trustdesk.config import Settings
from trustdesk.store import borrowed
from trustdesk.store.models import MailSource, Touch
from trustdesk.trust.clients import add_client

ME = "morgan@coach.example"
MESSAGES = 300


def test_two_syncs_at_once_log_each_message_once(coach, tmp_path, monkeypatch):
    clients = [add_client(coach, f"Client {i}", emails=[f"c{i}@example.com"]) for i in range(5)]
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for i in range(MESSAGES):
        m = EmailMessage()
        m["From"] = f"c{i % 5}@example.com"
        m["To"] = ME
        m["Subject"] = f"Message {i}"
        m["Date"] = format_datetime(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
        m["Message-ID"] = f"<m{i}@example.com>"
        m.set_content("body")
        box.add(m)

    barrier = threading.Barrier(2, timeout=30)
    real_write, real_logged = mail_sync._write, mail_sync._already_logged
    checked = threading.Barrier(2, timeout=30)

    def write_together(*args, **kwargs):
        barrier.wait()  # both have read every message before either writes
        return real_write(*args, **kwargs)

    def logged_together(*args, **kwargs):
        found = real_logged(*args, **kwargs)
        try:
            checked.wait(timeout=2)  # both checked before either inserted (PostgreSQL)
        except threading.BrokenBarrierError:
            pass  # SQLite: the other sync waits for the write lock, before its check
        return found

    monkeypatch.setattr(mail_sync, "_write", write_together)
    monkeypatch.setattr(mail_sync, "_already_logged", logged_together)

    results, errors = [], []

    def sync() -> None:
        try:
            with borrowed():
                results.append(
                    mail_sync.sync_mail(
                        coach,
                        [str(tmp_path / "Maildir")],
                        settings=Settings(my_addresses=(ME,)),
                        today=dt.date(2026, 3, 16),
                        now=dt.datetime(2026, 3, 16, 12),
                    )
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    runs = [threading.Thread(target=sync) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(60)
    assert not errors, errors
    assert len(results) == 2
    # Each message once in the database, and each run reports only what it wrote.
    rows = list(Touch.select(Touch.client, Touch.message_id).tuples())
    assert len(rows) == len(set(rows)) == MESSAGES
    assert sum(r.logged for r in results) == MESSAGES
    assert {t.client_id for r in results for t in r.touches} == {c.client_id for c in clients}
    assert MailSource.select().count() == 1
