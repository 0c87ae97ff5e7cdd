"""`trustdesk backup` with no PATH: a dated private copy in the backups folder, the last N kept."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from helpers import one_line_error, text

pytestmark = pytest.mark.sqlite_only


def backups(home):
    return sorted(p.name for p in (home / "backups").iterdir())


def test_a_dated_copy_goes_into_a_private_backups_folder(initialised, isolated_home):
    result = initialised("backup")
    assert result.returncode == 0, text(result)
    folder = isolated_home / "backups"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (name,) = backups(isolated_home)
    assert name.startswith("trustdesk-") and name.endswith(".sqlite3")
    copy = folder / name
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert str(copy) in text(result)[1]


def test_only_the_last_n_copies_are_kept_and_nothing_else_is_touched(initialised, isolated_home):
    (isolated_home / "settings.toml").write_text("backups_kept = 3\n")
    folder = isolated_home / "backups"
    folder.mkdir(mode=0o700)
    mine = folder / "keep-me.sqlite3"
    mine.write_text("the coach's own file")
    other = folder / "other-2020-01-01-000000.sqlite3"
    other.write_text("another practice's copy")
    made: list[str] = []
    for n in range(5):
        result = initialised("backup")
        assert result.returncode == 0, text(result)
        (new,) = {p for p in backups(isolated_home) if p.startswith("trustdesk-")} - set(made)
        made.append(new)
        # Each copy clearly older than the next: the oldest go, by modification time.
        os.utime(folder / new, (1_000_000 + n, 1_000_000 + n))
    copies = [p for p in backups(isolated_home) if p.startswith("trustdesk-")]
    assert len(copies) == 3
    assert sorted(copies) == sorted(made[-3:])
    assert mine.read_text() == "the coach's own file" and other.exists()
    assert "removed 1 older" in text(initialised("backup"))[1]


def test_zero_keeps_every_copy(initialised, isolated_home):
    (isolated_home / "settings.toml").write_text("backups_kept = 0\n")
    for _ in range(3):
        assert initialised("backup").returncode == 0
    assert len(backups(isolated_home)) == 3


def test_a_backups_folder_others_can_read_is_refused(initialised, isolated_home):
    folder = isolated_home / "backups"
    folder.mkdir()
    os.chmod(folder, 0o755)
    line = one_line_error(initialised("backup"))
    assert "chmod 700" in line
    assert backups(isolated_home) == []


def test_with_a_path_it_is_as_before(initialised, tmp_path, isolated_home):
    dest = tmp_path / "nightly.sqlite3"
    assert initialised("backup", str(dest)).returncode == 0
    assert dest.exists() and not (isolated_home / "backups").exists()


def test_on_postgresql_it_says_who_backs_the_practice_up(run, isolated_home):
    line = one_line_error(run("--db", "postgresql:///practice", "backup"))
    assert "pg_dump" in line
    assert not (isolated_home / "backups").exists()
