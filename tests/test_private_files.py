"""Files trustdesk creates beside others' files: never through a link or a file planted there."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from trustdesk.store import StoreError, backup_database, ensure_coach, open_database
from trustdesk.store.database import restore_database
from trustdesk.store.models import Client

AS_ROOT = pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
SECRET = b"ssh-ed25519 AAAA the coach's key\n"


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def practice(tmp_path):
    path = tmp_path / "home" / "td.sqlite3"
    database = open_database(path, create=True)
    ensure_coach("Morgan")
    Client.create(coach=1, name="Ann", started_on="2026-01-01")
    yield database
    database.close()


@pytest.fixture
def victim(tmp_path):
    """A file the coach owns that another user would like overwritten (authorized_keys)."""
    path = tmp_path / "authorized_keys"
    path.write_bytes(SECRET)
    os.chmod(path, 0o600)
    return path


def plant(kind: str, where, victim) -> None:
    if kind == "symlink":
        os.symlink(victim, where)
    elif kind == "hardlink":
        os.link(victim, where)
    else:  # a file of the coach's own, left under the name trustdesk would use
        where.write_bytes(SECRET)
        os.chmod(where, 0o600)


def clients_in(path) -> list[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [n for (n,) in conn.execute("SELECT name FROM client")]
    finally:
        conn.close()


# --- item: a file planted at the name of a partial file ---------------------------------


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "file"])
def test_backup_goes_around_what_was_planted_at_its_partial_name(practice, tmp_path, victim, kind):
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    dest = folder / "monday.sqlite3"
    planted = folder / ".monday.sqlite3.partial"
    plant(kind, planted, victim)
    backup_database(practice, dest)
    assert victim.read_bytes() == SECRET
    assert os.path.lexists(planted)
    if kind == "file":
        assert planted.read_bytes() == SECRET
    assert clients_in(dest) == ["Ann"]
    assert mode(dest) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [".monday.sqlite3.partial", dest.name]


@pytest.mark.parametrize("kind", ["symlink", "dangling"])
def test_a_link_at_the_destination_itself_is_never_written_through(practice, tmp_path, kind):
    dest = tmp_path / "monday.sqlite3"
    target = tmp_path / ("authorized_keys" if kind == "symlink" else "nowhere")
    if kind == "symlink":
        target.write_bytes(SECRET)
    os.symlink(target, dest)
    with pytest.raises(StoreError, match="already exists"):
        backup_database(practice, dest)
    assert os.path.islink(dest)
    assert target.read_bytes() == SECRET if kind == "symlink" else not target.exists()


def test_the_copy_kept_by_a_restore_goes_around_a_planted_link(practice, tmp_path, victim):
    source = tmp_path / "source.sqlite3"
    backup_database(practice, source)
    keep = practice.path.with_name("td.sqlite3.before-restore-20260316-090000")
    os.symlink(victim, keep.with_name(f".{keep.name}.partial"))
    restore_database(practice, source, keep)
    assert victim.read_bytes() == SECRET
    assert clients_in(keep) == ["Ann"]


def test_a_folder_others_can_change_is_refused_with_the_fix(practice, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    dest = shared / "monday.sqlite3"
    with pytest.raises(StoreError, match=f"chmod go-w '{shared}'"):
        backup_database(practice, dest)
    assert list(shared.iterdir()) == []
    # The sticky bit (as on /tmp) lets no one remove or rename another user's files.
    os.chmod(shared, 0o1777)
    backup_database(practice, dest)
    assert clients_in(dest) == ["Ann"]


@AS_ROOT
def test_a_folder_of_another_user_is_refused(practice, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(StoreError, match="belongs to another user"):
        backup_database(practice, theirs / "monday.sqlite3")
    assert list(theirs.iterdir()) == []


def test_a_new_private_file_is_made_only_in_a_private_folder_and_linked_in(tmp_path):
    from trustdesk.store.database import new_private_file

    dest = tmp_path / "out.txt"
    with new_private_file(dest) as partial:
        assert partial.parent != tmp_path and mode(partial.parent) == 0o700
        assert mode(partial) == 0o600
        partial.write_text("done")
        assert not dest.exists()
    assert dest.read_text() == "done" and mode(dest) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with pytest.raises(RuntimeError), new_private_file(tmp_path / "half.txt") as partial:
        partial.write_text("half")
        raise RuntimeError("stopped")
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "file"])
def test_export_to_a_file_goes_around_what_was_planted_at_its_partial_name(
    run, passphrase_file, tmp_path, victim, kind
):
    made = run("init", "--name", "Morgan", "--passphrase-file", str(passphrase_file))
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "out"
    folder.mkdir(mode=0o700)
    dest = folder / "practice.json"
    plant(kind, folder / ".practice.json.partial", victim)
    result = run("export", "--json", "-o", str(dest))
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes() == SECRET
    assert dest.read_text().startswith("{") and mode(dest) == 0o600


def test_a_prompt_file_goes_around_a_planted_partial_and_never_through_a_link(tmp_path, victim):
    from trustdesk.store.database import write_private

    os.symlink(victim, tmp_path / ".prompt.txt.partial")
    write_private(tmp_path / "prompt.txt", "Subject: hello\n")
    assert (tmp_path / "prompt.txt").read_text() == "Subject: hello\n"
    os.symlink(victim, tmp_path / "linked.txt")
    with pytest.raises((OSError, StoreError)):
        write_private(tmp_path / "linked.txt", "Subject: hello\n")
    assert victim.read_bytes() == SECRET
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(StoreError, match="chmod go-w"):
        write_private(shared / "prompt.txt", "Subject: hello\n")
    assert list(shared.iterdir()) == []


# --- item: files SQLite keeps beside the database ---------------------------------------

SIDECARS = ["-wal", "-shm", "-journal"]


@AS_ROOT
@pytest.mark.parametrize("suffix", SIDECARS)
def test_a_new_database_is_refused_beside_another_users_sidecar(tmp_path, suffix):
    path = tmp_path / "td.sqlite3"
    planted = tmp_path / f"td.sqlite3{suffix}"
    planted.write_bytes(b"")
    os.chmod(planted, 0o666)
    os.chown(planted, 65534, 65534)
    with pytest.raises(StoreError) as err:
        open_database(path, create=True)
    assert "belongs to another user" in str(err.value) and "\n" not in str(err.value)
    assert planted.read_bytes() == b"" and not path.exists()


@pytest.mark.parametrize("suffix", SIDECARS)
def test_a_new_database_is_refused_beside_a_sidecar_others_can_read(tmp_path, suffix):
    path = tmp_path / "td.sqlite3"
    planted = tmp_path / f"td.sqlite3{suffix}"
    planted.write_bytes(b"")
    os.chmod(planted, 0o666)
    with pytest.raises(StoreError, match=f"chmod 600 '{planted}'"):
        open_database(path, create=True)
    assert planted.read_bytes() == b"" and not path.exists()


def test_a_new_database_is_refused_beside_a_sidecar_left_from_another(tmp_path):
    path = tmp_path / "td.sqlite3"
    (tmp_path / "td.sqlite3-journal").write_bytes(b"left")
    with pytest.raises(StoreError, match=f"rm '{tmp_path / 'td.sqlite3-journal'}'"):
        open_database(path, create=True)
    assert not path.exists()


def test_a_database_made_a_moment_ago_elsewhere_is_never_called_left_over(tmp_path, monkeypatch):
    """Another init publishes its file and opens it in WAL mode between this one's two
    looks: this one is told the database exists, never to remove that database's WAL."""
    from trustdesk.store import database as store

    path = tmp_path / "td.sqlite3"
    wal = tmp_path / "td.sqlite3-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o600)
    lexists = os.path.lexists

    def the_other_init_publishes_its_file(candidate):
        if os.fspath(candidate) == os.fspath(wal) and not lexists(path):
            path.write_bytes(b"")
            os.chmod(path, 0o600)
        return lexists(candidate)

    monkeypatch.setattr(store.os.path, "lexists", the_other_init_publishes_its_file)
    with pytest.raises(store.AlreadyThere, match="already exists") as refused:
        store.check_private(path)
    monkeypatch.undo()
    assert "rm " not in str(refused.value)
    assert wal.exists() and path.exists()


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_a_sidecar_that_links_to_a_coachs_file_is_refused(tmp_path, victim, suffix, kind):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True).close()
    plant(kind, tmp_path / f"td.sqlite3{suffix}", victim)
    with pytest.raises(StoreError, match="is a link.*rm '"):
        open_database(path)
    assert victim.read_bytes() == SECRET


def test_init_refuses_another_users_planted_wal_and_writes_no_keys(run, passphrase_file):
    home = passphrase_file.parent
    db = home / "practice.sqlite3"
    wal = home / "practice.sqlite3-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o666)
    if os.getuid() == 0:
        os.chown(wal, 65534, 65534)
    result = run("--db", str(db), "init", "--passphrase-file", str(passphrase_file))
    err = result.stderr.decode()
    assert result.returncode != 0 and len(err.strip().splitlines()) == 1, err
    assert str(wal) in err and ("chown" in err or "chmod 600" in err)
    assert wal.read_bytes() == b"" and not db.exists()


def test_where_hard_links_are_not_allowed_the_file_is_renamed_into_place(tmp_path, monkeypatch):
    from trustdesk.store.database import new_private_file

    def no_links(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    dest = tmp_path / "out.txt"
    with new_private_file(dest) as partial:
        partial.write_text("done")
    assert dest.read_text() == "done" and mode(dest) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with (
        pytest.raises(StoreError, match="already exists"),
        new_private_file(tmp_path / "late.txt") as partial,
    ):
        (tmp_path / "late.txt").write_text("appeared meanwhile")
    assert (tmp_path / "late.txt").read_text() == "appeared meanwhile"


def test_backup_never_truncates_the_live_practice_through_a_planted_link(
    run, passphrase_file, isolated_home, tmp_path
):
    made = run("init", "--name", "Morgan", "--passphrase-file", str(passphrase_file))
    assert made.returncode == 0, made.stderr
    live = isolated_home / "trustdesk.sqlite3"
    before = clients_in(live), live.stat().st_size
    dest = tmp_path / "nightly.sqlite3"
    os.symlink(live, tmp_path / ".nightly.sqlite3.partial")
    result = run("backup", str(dest))
    assert result.returncode == 0, result.stderr
    assert (clients_in(live), live.stat().st_size) == before
    assert run("report").returncode == 0
