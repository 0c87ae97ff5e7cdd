"""Two writers at once: nobody sees "database is locked", and no write is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from trustdesk.store import Client, Touch, current_coach, db

WRITER = """
import sys, datetime as dt
from trustdesk import config
from trustdesk.store import open_database, current_coach, Client
from trustdesk.trust import contact, promises
from trustdesk.trust.notes import add_note

today = dt.date(2026, 3, 16)
config.set_today(today)
open_database(sys.argv[1])
coach = current_coach()
ids = [c.id for c in Client.select(Client.id).where(Client.coach == coach)]
tag, n = sys.argv[2], int(sys.argv[3])
for i in range(n):
    cid = ids[i % len(ids)]
    contact.log_touch(coach, cid, occurred_on=today, today=today, channel="email",
                      direction="outbound", summary=f"{tag} {i}")
    pid = promises.add_commitment(coach, cid, owner="coach", title=f"{tag} {i}",
                                 due_on=today, promised_on=today)
    promises.renegotiate(coach, pid, today + dt.timedelta(days=3), today)
print("done")
"""


def test_a_transaction_that_reads_first_waits_instead_of_failing(database, coach):
    """The race behind most "database is locked" errors in WAL mode, made to happen.

    A reads inside its transaction; B writes and commits meanwhile; then A writes. With a
    deferred BEGIN, A's snapshot is stale and SQLite refuses A at once, busy timeout or not.
    With the write lock taken at BEGIN, B simply waits for A.
    """
    Client.create(coach=coach, name="Ann", sort_name="ann", started_on="2026-01-05")
    a_has_read = threading.Event()
    b_started = threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with db.obj.lease(), db.atomic():
                Client.select().count()
                a_has_read.set()
                b_started.wait(5)
                threading.Event().wait(0.2)  # give B every chance to write first
                Touch.create(coach=coach, client=1, occurred_on="2026-03-16", channel="email",
                             direction="outbound", summary="from A")  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def b() -> None:
        a_has_read.wait(5)
        b_started.set()
        try:
            with db.obj.lease(), db.atomic():
                Touch.create(coach=coach, client=1, occurred_on="2026-03-16", channel="email",
                             direction="outbound", summary="from B")  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(t.summary for t in Touch.select()) == ["from A", "from B"]


def test_two_processes_writing_at_once_lose_nothing(demo_practice, isolated_home):
    demo_practice(20)
    path = Path(db.obj.path)
    coach = current_coach()
    touches = Touch.select().where(Touch.coach == coach).count()
    db.close()
    n = 300
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), tag, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for tag in ("first", "second", "third")
    ]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
        assert b"locked" not in err
        assert out.strip() == b"done"
    db.connect(reuse_if_open=True)
    assert Touch.select().where(Touch.coach == coach).count() == touches + 3 * n
    for tag in ("first", "second", "third"):
        mine = Touch.select().where(Touch.summary.startswith(f"{tag} ")).count()
        assert mine == n


def test_a_backup_taken_while_another_process_writes_is_whole(demo_practice, tmp_path):
    import os
    import sqlite3

    from trustdesk.store import open_database

    demo_practice(20)
    path = Path(db.obj.path)
    db.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "busy", "1500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    backups = []
    try:
        for i in range(3):
            dest = tmp_path / f"during-{i}.sqlite3"
            result = subprocess.run(
                [sys.executable, "-m", "trustdesk", "--db", str(path), "backup", str(dest)],
                capture_output=True,
                timeout=120,
                env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            )
            assert result.returncode == 0, result.stderr.decode()
            backups.append(dest)
            if i == 0:
                assert writer.poll() is None  # the writer was still at work
    finally:
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err.decode()
    counts = []
    for dest in backups:
        conn = sqlite3.connect(dest)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts.append(conn.execute("SELECT COUNT(*) FROM touch").fetchone()[0])
        conn.close()
        open_database(dest).close()  # opens cleanly as a practice of its own
    assert counts == sorted(counts)  # each a moment of the practice, later ones later
