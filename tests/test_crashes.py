"""A trustdesk process killed with SIGKILL mid-work leaves the old practice or the new one.

Each test runs the real command in a child process on a copy of a prepared practice,
once to the end to learn how long it takes, then again on fresh copies killed at points
spread across that time. After every kill the file must pass integrity_check and hold
exactly the state from before or the state from after, never a mix.

On a shared PostgreSQL practice the same is asked of the server: a coach's `practice
join` and `key rotate`, killed part way, leave their share all before or all after.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trustdesk.demo import DEMO_PASSPHRASE, DemoSize, build_demo
from trustdesk.store import APPLICATION_ID
from trustdesk.store.database import MIGRATIONS_DIR

FRACTIONS = (0.45, 0.6, 0.75, 0.9)
# A run that ends before its kill is tried again with the kill sooner, this many times in all.
RETRIES = 3


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def scalar(path: Path, sql: str):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def copy_practice(source: Path, folder: Path) -> Path:
    """A private copy of a closed practice (its WAL already folded in)."""
    folder.mkdir(mode=0o700)
    target = folder / source.name
    shutil.copy2(source, target)
    os.chmod(target, 0o600)
    return target


def child_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(
        TRUSTDESK_HOME=str(home),
        TRUSTDESK_TODAY="2026-03-16",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def start(args: list[str], home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trustdesk", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(home),
        cwd=home,
        start_new_session=True,
    )


def crash_runs(prepared: Path, args_for, tmp_path: Path, check) -> list[int]:
    """Run to the end twice, then kill at FRACTIONS of the shorter time (the first run may
    read a cold file, and a kill timed by it lands after the end); `check` every result."""
    timings = []
    for run in ("whole", "whole-again"):
        first = copy_practice(prepared, tmp_path / run)
        started = time.monotonic()
        child = start(args_for(first), first.parent)
        _, err = child.communicate(timeout=300)
        timings.append(time.monotonic() - started)
        assert child.returncode == 0, err.decode()
        check(first, finished=True)
    took = min(timings)
    codes = []
    for i, fraction in enumerate(FRACTIONS):
        for attempt in range(RETRIES):
            path = copy_practice(prepared, tmp_path / f"killed-{i}-{attempt}")
            child = start(args_for(path), path.parent)
            time.sleep(took * fraction / 2**attempt)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            child.stderr.close()
            assert integrity(path) == "ok"
            check(path, finished=child.returncode == 0)
            if child.returncode == -signal.SIGKILL:
                break
            # Quicker than the timed runs (a machine less busy than then): kill sooner.
        codes.append(child.returncode)
    # The kills really landed while the command was working, at least most of them.
    assert sum(code == -signal.SIGKILL for code in codes) >= len(FRACTIONS) - 1, codes
    return codes


@pytest.fixture(scope="module")
def big_demo(tmp_path_factory):
    """A demo practice with many notes, so re-sealing them takes a while."""
    import datetime as dt

    folder = tmp_path_factory.mktemp("demo")
    os.chmod(folder, 0o700)
    path = folder / "demo.sqlite3"
    build_demo(
        path, today=dt.date(2026, 3, 16), size=DemoSize(clients=400, touches=4000, notes=40_000)
    )
    return path


def test_kill_during_import(big_demo, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text(
        "name,email,started_on\n"
        + "".join(f"Imported {i:05d},p{i}@example.org,2026-01-05\n" for i in range(40_000))
    )
    before = scalar(big_demo, "SELECT COUNT(*) FROM client")

    def check(path: Path, finished: bool) -> None:
        count = scalar(path, "SELECT COUNT(*) FROM client")
        assert count in (before, before + 40_000)
        assert count == before + 40_000 or not finished

    crash_runs(big_demo, lambda db: ["--db", str(db), "import", str(source)], tmp_path, check)


def secret_file(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    os.chmod(path, 0o600)
    return path


def test_kill_during_key_rotation(big_demo, tmp_path):
    # Rotation asks for a passphrase of full length; the demo's is short, so change it first.
    demo = secret_file(tmp_path / "demo-passphrase", DEMO_PASSPHRASE)
    secret = secret_file(tmp_path / "passphrase", "a long walk on the beach")
    prepared = copy_practice(big_demo, tmp_path / "prepared")
    changed = subprocess.run(
        [sys.executable, "-m", "trustdesk", "--db", str(prepared), "key", "passphrase",
         "--passphrase-file", str(demo), "--new-passphrase-file", str(secret)],
        env=child_env(prepared.parent), cwd=prepared.parent, capture_output=True, timeout=120,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr.decode()
    sqlite3.connect(prepared).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    old_key = scalar(prepared, "SELECT hex(substr(body_sealed, 2, 8)) FROM note LIMIT 1")

    def check(path: Path, finished: bool) -> None:
        keys = {
            k
            for (k,) in sqlite3.connect(path).execute(
                "SELECT DISTINCT hex(substr(body_sealed, 2, 8)) FROM note"
            )
        }
        assert len(keys) == 1  # every note under one key: all old, or all new
        slot_keys = {
            k for (k,) in sqlite3.connect(path).execute("SELECT DISTINCT key_id FROM key_slot")
        }
        assert slot_keys == {k.lower() for k in keys}  # the slots open what the notes need
        if finished:
            assert keys != {old_key}
        # And the passphrase still opens every note.
        result = subprocess.run(
            [sys.executable, "-m", "trustdesk", "--db", str(path), "export", "--decrypt",
             "--passphrase-file", str(secret), "-o", str(path.parent / "out.json")],
            env=child_env(path.parent), cwd=path.parent, capture_output=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()

    crash_runs(
        prepared,
        lambda db: ["--db", str(db), "key", "rotate", "--passphrase-file", str(secret)],
        tmp_path,
        check,
    )


def test_kill_during_a_schema_upgrade(tmp_path):
    """A practice at schema 0001 with many clients, upgraded by simply opening it."""
    old_migrations = tmp_path / "migrations"
    old_migrations.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_initial.py", old_migrations)
    folder = tmp_path / "old"
    folder.mkdir(mode=0o700)
    prepared = folder / "practice.sqlite3"
    code = (
        "import sys; from pathlib import Path\n"
        "from trustdesk.store import open_database\n"
        "d = open_database(Path(sys.argv[1]), create=True, migrations_dir=Path(sys.argv[2]))\n"
        # The coach as schema 0001 had it (today's model has columns added since).
        'd.execute_sql("INSERT INTO coach (name, email, created_at)'
        " VALUES ('Morgan Reyes', '', '2026-01-05')\")\n"
        'd.execute_sql("INSERT INTO client (coach_id, name, email, phone, status, started_on,'
        " ideal_gap_days, max_gap_days, reference_consent, created_at)"
        " SELECT 1, 'Client ' || value, '', '', 'active', '2026-01-05', 7, 21, 0, '2026-01-05'"
        " FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n"
        ' WHERE value < 150000) SELECT value FROM n)")\n'
        "d.close()\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", code, str(prepared), str(old_migrations)],
        env=child_env(folder),
        capture_output=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr.decode()

    def check(path: Path, finished: bool) -> None:
        names = [n for (n,) in sqlite3.connect(path).execute("SELECT name FROM schema_migration")]
        columns = [c[1] for c in sqlite3.connect(path).execute("PRAGMA table_info(client)")]
        assert scalar(path, "SELECT COUNT(*) FROM client") == 150_000
        if names == ["0001_initial"]:
            assert "sort_name" not in columns
            assert not finished
        else:
            assert names[0] == "0001_initial" and len(names) == len(
                list(MIGRATIONS_DIR.glob("[0-9]*.py"))
            )
            assert "sort_name" in columns
            assert scalar(path, "SELECT COUNT(*) FROM client WHERE sort_name = ''") == 0
        assert scalar(path, "PRAGMA application_id") == APPLICATION_ID

    crash_runs(prepared, lambda db: ["--db", str(db), "report", "--json"], tmp_path, check)


def test_kill_during_backup_and_restore(big_demo, tmp_path):
    clients = scalar(big_demo, "SELECT COUNT(*) FROM client")

    def backup_check(path: Path, finished: bool) -> None:
        assert scalar(path, "SELECT COUNT(*) FROM client") == clients
        copy = path.parent / "copy.sqlite3"
        if copy.exists():  # a backup appears under its name only when it is whole
            assert integrity(copy) == "ok"
            assert scalar(copy, "SELECT COUNT(*) FROM client") == clients
        else:
            assert not finished

    (tmp_path / "backup").mkdir()
    crash_runs(
        big_demo,
        lambda db: ["--db", str(db), "backup", str(db.parent / "copy.sqlite3")],
        tmp_path / "backup",
        backup_check,
    )

    # Restore an empty practice over the big one: afterwards it is all one or all the other.
    empty_home = tmp_path / "empty"
    empty_home.mkdir(mode=0o700)
    empty = empty_home / "empty.sqlite3"
    made = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from trustdesk.store import open_database, "
         "ensure_coach; d = open_database(Path(sys.argv[1]), create=True); "
         "ensure_coach('Someone Else'); d.close()", str(empty)],
        env=child_env(empty_home), capture_output=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr.decode()

    def restore_check(path: Path, finished: bool) -> None:
        count = scalar(path, "SELECT COUNT(*) FROM client")
        coach = scalar(path, "SELECT name FROM coach")
        before = (clients, scalar(big_demo, "SELECT name FROM coach"))
        assert (count, coach) in (before, (0, "Someone Else"))
        assert count == 0 or not finished

    (tmp_path / "restore").mkdir()
    crash_runs(
        big_demo,
        lambda db: ["--db", str(db), "restore", str(empty), "--yes"],
        tmp_path / "restore",
        restore_check,
    )


# --- a shared practice on PostgreSQL: the server keeps the transaction whole ----------------


def server_crash_runs(args: list[str], home: Path, check, reset) -> None:
    """`crash_runs` for a PostgreSQL share: `reset` puts the share back between runs.

    Run to the end twice first, timing the quicker: the first run warms the server.
    """
    took = float("inf")
    for _ in range(2):
        reset()
        started = time.monotonic()
        child = start(args, home)
        _, err = child.communicate(timeout=300)
        took = min(took, time.monotonic() - started)
        assert child.returncode == 0, err.decode()
        check(finished=True)
    codes = []
    for fraction in FRACTIONS:
        for attempt in range(RETRIES):
            reset()
            child = start(args, home)
            time.sleep(took * fraction / 2**attempt)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            child.stderr.close()
            check(finished=child.returncode == 0)
            if child.returncode == -signal.SIGKILL:
                break
        codes.append(child.returncode)
    assert sum(code == -signal.SIGKILL for code in codes) >= len(FRACTIONS) - 1, codes


def test_kill_during_join_and_key_rotation_on_postgresql(big_demo, pg_practice, tmp_path):
    import psycopg

    from trustdesk.store.models import ALL_MODELS
    from trustdesk.store.practice import ADMIN_ROLE

    tables = [m._meta.table_name for m in ALL_MODELS if m._meta.table_name != "coach"]
    whole = {t: scalar(big_demo, f'SELECT COUNT(*) FROM "{t}"') for t in tables}
    home = tmp_path / "home"
    home.mkdir(mode=0o700)

    def as_admin(sql: str, params=()) -> list[tuple]:
        with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
            conn.execute(f"SET ROLE {ADMIN_ROLE}")
            found = conn.execute(sql, params)
            return found.fetchall() if found.description else []

    ((ann,),) = as_admin("SELECT id FROM coach WHERE db_role = %s", (pg_practice.ann_role,))

    def held() -> dict[str, int]:
        return {
            t: as_admin(f'SELECT COUNT(*) FROM "{t}" WHERE coach_id = %s', (ann,))[0][0]
            for t in tables
        }

    def joined(finished: bool) -> None:
        now = held()
        assert now in (whole, dict.fromkeys(tables, 0)), now  # all of it, or none
        assert now == whole or not finished

    def empty_share() -> None:
        for table in ("client", "program", "prompt", "key_slot"):  # the rest cascade
            as_admin(f'DELETE FROM "{table}" WHERE coach_id = %s', (ann,))

    demo = secret_file(tmp_path / "demo-passphrase", DEMO_PASSPHRASE)
    join = [
        "--db",
        pg_practice.ann,
        "practice",
        "join",
        str(big_demo),
        "--passphrase-file",
        str(demo),
    ]
    server_crash_runs(join, home, joined, empty_share)
    empty_share()
    assert start(join, home).wait(timeout=300) == 0

    secret = secret_file(tmp_path / "passphrase", "a long walk on the beach")
    changed = subprocess.run(
        [sys.executable, "-m", "trustdesk", "--db", pg_practice.ann, "key", "passphrase",
         "--passphrase-file", str(demo), "--new-passphrase-file", str(secret)],
        env=child_env(home), cwd=home, capture_output=True, timeout=120,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr.decode()

    def key_ids() -> tuple[set[str], set[str]]:
        notes = as_admin(
            "SELECT DISTINCT encode(substr(body_sealed, 2, 8), 'hex') FROM note"
            " WHERE coach_id = %s",
            (ann,),
        )
        slots = as_admin(
            "SELECT DISTINCT key_id FROM key_slot WHERE coach_id = %s AND revoked_at IS NULL",
            (ann,),
        )
        return {k for (k,) in notes}, {k for (k,) in slots}

    (first_key,), _ = key_ids()
    rotations = []

    def rotated(finished: bool) -> None:
        notes, slots = key_ids()
        assert len(notes) == 1 and notes == slots  # every note under the key the slots hold
        if finished:
            assert notes != {first_key}
        rotations.append(notes)
        result = subprocess.run(
            [sys.executable, "-m", "trustdesk", "--db", pg_practice.ann, "export", "--decrypt",
             "--passphrase-file", str(secret), "-o", str(home / f"out-{len(rotations)}.json")],
            env=child_env(home), cwd=home, capture_output=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()

    rotate = ["--db", pg_practice.ann, "key", "rotate", "--passphrase-file", str(secret)]
    server_crash_runs(rotate, home, rotated, lambda: None)
