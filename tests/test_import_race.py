"""Two `trustdesk import` runs of the same file at once create each client once.

The race is made to happen, not hoped for: the test holds the database's write lock
(SQLite) or a lock that stops inserts into the clients' table (PostgreSQL) while both
processes start, read what is already there and reach their first write; only once
both are waiting does it let go. Without a check inside the write transaction, backed
by the database, both would then insert every client.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from helpers import one_line_error, text

ROWS = 2000
PATIENCE = 60  # seconds for both processes to reach their first write on a busy machine


def _child_pids() -> set[int]:
    """The processes this test process started (from any of its threads)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except FileNotFoundError:  # the thread has ended
            continue
    return pids


def _sleeping_in_sqlite(pid: int) -> bool:
    """Whether a process sleeps between tries at a SQLite lock (its busy handler)."""
    try:
        return "nanosleep" in Path(f"/proc/{pid}/wchan").read_text()
    except FileNotFoundError:
        return False


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting until {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)
def test_two_imports_of_the_same_file_at_once_create_each_client_once(
    initialised, practice_target, store_backend, tmp_path, request
):
    source = tmp_path / "clients.csv"
    rows = "".join(f"Client {i:04d},c{i}@example.com\n" for i in range(ROWS))
    source.write_text("name,email\n" + rows)

    results = []

    def import_file() -> None:
        results.append(initialised("import", str(source)))

    runs = [threading.Thread(target=import_file) for _ in range(2)]
    if store_backend == "sqlite":
        holder = sqlite3.connect(practice_target, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        for thread in runs:
            thread.start()

        def both_wait() -> bool:
            pids = _child_pids()
            return len(pids) == 2 and all(_sleeping_in_sqlite(p) for p in pids)

        try:
            _wait_until(both_wait, "both imports wait for the write lock")
            time.sleep(0.2)
            # Still waiting (a process is seen between two tries at the lock now and then).
            _wait_until(both_wait, "both imports still wait for the write lock")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        import psycopg

        practice = request.getfixturevalue("pg_practice")
        with (
            psycopg.connect(practice.admin) as holder,
            psycopg.connect(practice.admin, autocommit=True) as watcher,
        ):
            # SHARE lets the imports read but holds up every insert until COMMIT.
            holder.execute("LOCK TABLE public.client IN SHARE MODE")
            for thread in runs:
                thread.start()

            def both_wait() -> bool:
                (waiting,) = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE usename = %s AND wait_event_type = 'Lock'",
                    (practice.ann_role,),
                ).fetchone()
                return waiting == 2

            try:
                _wait_until(both_wait, "both imports wait to insert")
            finally:
                holder.commit()
    for thread in runs:
        thread.join(120)

    assert len(results) == 2
    won, lost = sorted(results, key=lambda r: r.returncode)
    assert won.returncode == 0, text(won)
    assert f"Imported {ROWS} clients" in text(won)[1]
    line = one_line_error(lost)
    assert "nothing was imported" in line
    assert f"{ROWS} clients" in line and "already imported" in line

    export = initialised("export", "--json")
    assert export.returncode == 0, text(export)
    names = [c["name"] for c in json.loads(export.stdout)["tables"]["client"]]
    assert len(names) == ROWS
    assert len(set(names)) == ROWS
