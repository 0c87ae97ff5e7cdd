"""`trustdesk restore PATH`: a backup comes back whole, and what it replaces is kept."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from helpers import one_line_error, text

from trustdesk import asking, cli


def names(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [n for (n,) in conn.execute("SELECT name FROM client ORDER BY name")]
    finally:
        conn.close()


def add_client(path, name: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO client (coach_id, name, sort_name, email, phone, status, started_on,"
            " ideal_gap_days, max_gap_days, reference_consent, created_at)"
            " VALUES (1, ?, lower(?), '', '', 'active', '2026-01-05', 7, 21, 0, '2026-01-05')",
            (name, name),
        )
    conn.close()


@pytest.fixture
def practice(initialised, isolated_home, tmp_path):
    """The practice with Ann, a backup holding only Ann, then Ben added after the backup."""
    db = isolated_home / "trustdesk.sqlite3"
    assert db.exists()
    add_client(db, "Ann")
    backup = tmp_path / "monday.sqlite3"
    result = initialised("backup", str(backup))
    assert result.returncode == 0, text(result)
    add_client(db, "Ben")
    return db, backup


def test_restore_brings_the_backup_back_and_keeps_what_it_replaced(practice, initialised):
    db, backup = practice
    result = initialised("restore", str(backup), "--yes")
    out, err = text(result)
    assert result.returncode == 0, (out, err)
    assert names(db) == ["Ann"]
    kept = list(db.parent.glob("trustdesk.sqlite3.before-restore-*"))
    assert len(kept) == 1
    assert names(kept[0]) == ["Ann", "Ben"]
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert str(kept[0]) in err and "(1 client, " in err
    # The restored practice is a working one: the notes key came back with it.
    assert initialised("report").returncode == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_without_a_terminal_or_yes_nothing_is_restored(practice, initialised):
    db, backup = practice
    before = db.read_bytes()
    line = one_line_error(initialised("restore", str(backup)))
    assert "--yes" in line
    assert names(db) == ["Ann", "Ben"]
    assert not list(db.parent.glob("*.before-restore-*"))
    assert db.read_bytes() == before


@pytest.mark.parametrize("answer", [True, False])
def test_the_coach_is_asked_first(practice, monkeypatch, capsys, answer):
    db, backup = practice
    asked = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return answer

    monkeypatch.setattr(asking, "confirm", confirm)
    code = cli.main(["--db", str(db), "restore", str(backup)])
    assert len(asked) == 1
    assert "2 clients" in asked[0] and "1 client," in asked[0]
    if answer:
        assert code == 0
        assert names(db) == ["Ann"]
    else:
        assert code != 0
        assert "Nothing was restored" in capsys.readouterr().err
        assert names(db) == ["Ann", "Ben"]


def test_restoring_where_there_is_no_practice_yet_makes_one(practice, initialised, tmp_path):
    _, backup = practice
    fresh = tmp_path / "elsewhere" / "practice.sqlite3"
    fresh.parent.mkdir(mode=0o700)
    result = initialised("--db", str(fresh), "restore", str(backup))
    assert result.returncode == 0, text(result)
    assert names(fresh) == ["Ann"]
    assert not list(fresh.parent.glob("*.before-restore-*"))


def test_what_is_not_a_whole_trustdesk_backup_is_refused(practice, initialised, tmp_path):
    db, backup = practice
    before = db.read_bytes()
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert "not a trustdesk database" in one_line_error(initialised("restore", str(other), "--yes"))
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "not a trustdesk database" in one_line_error(initialised("restore", str(notes), "--yes"))
    assert "no backup at" in one_line_error(
        initialised("restore", str(tmp_path / "missing.sqlite3"), "--yes")
    )
    damaged = tmp_path / "damaged.sqlite3"
    raw = bytearray(backup.read_bytes())
    for offset in range(4096, len(raw), 4096):  # every page header but the first page's
        raw[offset : offset + 8] = b"\xff" * 8
    damaged.write_bytes(bytes(raw))
    line = one_line_error(initialised("restore", str(damaged), "--yes"))
    assert "nothing was restored" in line or "integrity" in line
    assert "is the practice itself" in one_line_error(initialised("restore", str(db), "--yes"))
    assert db.read_bytes() == before
    assert not list(db.parent.glob("*.before-restore-*"))


def test_a_backup_from_a_newer_trustdesk_is_refused(practice, initialised):
    db, backup = practice
    conn = sqlite3.connect(backup)
    with conn:
        conn.execute(
            "INSERT INTO schema_migration (name, applied) VALUES ('9999_future', '2030-01-01')"
        )
    conn.close()
    line = one_line_error(initialised("restore", str(backup), "--yes"))
    assert "newer trustdesk" in line and "9999_future" in line
    assert names(db) == ["Ann", "Ben"]


def _at_a_terminal(args: list[str], answer: bytes, home) -> tuple[int, bytes]:
    """Run trustdesk with a real pseudo-terminal as its controlling terminal, and answer."""
    import fcntl
    import os
    import pty
    import select
    import subprocess
    import sys
    import termios
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(TRUSTDESK_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    leader, follower = pty.openpty()

    def take_the_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        [sys.executable, "-m", "trustdesk", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=home,
        preexec_fn=take_the_terminal,
    )
    os.close(follower)
    seen = b""
    answered = False
    try:
        deadline = time.monotonic() + 60
        while child.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
            if not answered and b"[y/N]" in seen:
                os.write(leader, answer)
                answered = True
        assert answered, seen
        return child.wait(timeout=10), seen
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)


@pytest.mark.parametrize(("answer", "restored"), [(b"y\n", True), (b"\n", False)])
def test_the_question_is_asked_at_the_terminal(practice, isolated_home, answer, restored):
    db, backup = practice
    code, seen = _at_a_terminal(["restore", str(backup)], answer, isolated_home)
    assert b"Replace the practice" in seen
    if restored:
        assert code == 0, seen
        assert names(db) == ["Ann"]
    else:
        assert code != 0, seen
        assert b"Nothing was restored" in seen
        assert names(db) == ["Ann", "Ben"]


@pytest.mark.parametrize("owner", ["coach", "another user"])
def test_a_backup_others_can_write_or_another_user_owns_is_refused(practice, initialised, owner):
    if owner == "another user" and os.getuid() != 0:
        pytest.skip("changing a file's owner needs root")
    db, backup = practice
    before = db.read_bytes()
    os.chmod(backup, 0o666)
    fix = f"chmod 600 '{backup}'"
    if owner == "another user":
        os.chown(backup, 65534, 65534)
        fix = "chown"
    line = one_line_error(initialised("restore", str(backup), "--yes"))
    assert fix in line and str(backup) in line
    assert db.read_bytes() == before
    assert not list(db.parent.glob("*.before-restore-*"))


def test_a_backup_with_a_planted_wal_beside_it_is_refused(practice, initialised):
    db, backup = practice
    before = db.read_bytes()
    wal = backup.with_name(f"{backup.name}-wal")
    wal.write_bytes(b"")
    os.chmod(wal, 0o666)
    assert f"chmod 600 '{wal}'" in one_line_error(initialised("restore", str(backup), "--yes"))
    assert db.read_bytes() == before
