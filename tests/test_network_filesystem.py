"""A database on a network file system is refused before SQLite touches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustdesk import cli
from trustdesk.store import StoreError, current_coach, ensure_coach, filesystems, open_database

LOCAL = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"


def mountinfo(tmp_path: Path, *mounts: tuple) -> Path:
    """A mountinfo file with a local root and the given (mount point, type[, source]) lines."""
    lines = [LOCAL]
    for i, (point, fstype, *source) in enumerate(mounts):
        escaped = str(point).replace("\\", "\\134").replace(" ", "\\040")
        source = source[0] if source else "server:/x"
        lines.append(f"{40 + i} 22 0:{50 + i} / {escaped} rw,relatime - {fstype} {source} rw\n")
    info = tmp_path / "mountinfo"
    info.write_text("".join(lines))
    return info


@pytest.mark.parametrize(
    ("fstype", "network"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("fuse.sshfs", True),
        ("fuse.rclone", True),
        ("fuse", False),
        ("fuse.gocryptfs", False),
        ("9p", True),
        ("ext4", False),
        ("xfs", False),
        ("btrfs", False),
        ("tmpfs", False),
        (None, False),
    ],
)
def test_which_file_systems_count_as_network(fstype, network):
    assert filesystems.is_network_filesystem(fstype) is network


def test_the_deepest_mount_holding_the_path_decides(tmp_path):
    share = tmp_path / "home share"
    local = share / "local disk"
    local.mkdir(parents=True)
    info = mountinfo(tmp_path, (share, "nfs4"), (local, "ext4"))
    assert filesystems.filesystem_type(share / "practice.sqlite3", info) == "nfs4"
    assert filesystems.filesystem_type(local / "practice.sqlite3", info) == "ext4"
    # A file not made yet is judged by the folder it would be made in.
    assert filesystems.filesystem_type(share / "not" / "yet" / "there.db", info) == "nfs4"
    assert filesystems.filesystem_type(tmp_path / "elsewhere.db", info) == "ext4"


def test_a_later_mount_on_the_same_point_hides_the_earlier(tmp_path):
    info = mountinfo(tmp_path, (tmp_path, "ext4"), (tmp_path, "cifs"))
    assert filesystems.filesystem_type(tmp_path / "x.db", info) == "cifs"


def test_no_mountinfo_means_no_judgement(tmp_path):
    assert filesystems.filesystem_type(tmp_path, tmp_path / "absent") is None


def test_a_database_on_nfs_is_refused_and_left_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, "nfs4")))
    target = tmp_path / "practice.sqlite3"
    with pytest.raises(StoreError, match="network file system \\(nfs4\\)") as caught:
        open_database(target, create=True)
    assert "PostgreSQL" in str(caught.value)
    assert "TRUSTDESK_DB" in str(caught.value)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "mountinfo"]


def test_an_existing_database_moved_onto_a_share_is_refused(database, tmp_path, monkeypatch):
    path = Path(database.path)
    database.close()
    before = path.read_bytes()
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (path.parent, "cifs")))
    with pytest.raises(StoreError, match="network file system \\(cifs\\)"):
        open_database(path)
    assert path.read_bytes() == before


def test_the_command_line_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, "fuse.sshfs")))
    code = cli.main(["--db", str(tmp_path / "p.sqlite3"), "report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1
    assert err[0].startswith("trustdesk: ")
    assert "fuse.sshfs" in err[0]


def test_a_local_disk_still_opens(tmp_path, monkeypatch):
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, "ext4")))
    database = open_database(tmp_path / "p.sqlite3", create=True)
    database.close()


@pytest.mark.parametrize("fstype", ["fuse.gocryptfs", "fuse.encfs", "fuseblk"])
def test_an_encrypted_folder_on_this_machine_opens_with_the_rollback_journal(
    tmp_path, monkeypatch, fstype
):
    """Locks hold on a FUSE file system every process reaches on this machine; WAL's
    shared memory might not, so the journal that needs none is used there."""
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, fstype)))
    database = open_database(tmp_path / "p.sqlite3", create=True)
    try:
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        ensure_coach("Morgan Reyes")
    finally:
        database.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mountinfo", "p.sqlite3"]


def test_a_practice_moved_into_an_encrypted_folder_leaves_wal(database, tmp_path, monkeypatch):
    path = Path(database.path)
    database.close()
    monkeypatch.setattr(
        filesystems, "MOUNTINFO", mountinfo(tmp_path, (path.parent, "fuse.gocryptfs"))
    )
    reopened = open_database(path)
    try:
        assert reopened.execute_sql("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert current_coach().name == "Morgan Reyes"
    finally:
        reopened.close()
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()


def test_an_unknown_fuse_file_system_opens_only_when_declared_local(tmp_path, monkeypatch):
    monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, "fuse.mystery")))
    target = tmp_path / "p.sqlite3"
    with pytest.raises(StoreError) as caught:
        open_database(target, create=True)
    assert "FUSE file system (fuse.mystery)" in str(caught.value)
    assert str(caught.value).endswith("set TRUSTDESK_LOCAL_FUSE=1")
    assert not target.exists()
    monkeypatch.setenv("TRUSTDESK_LOCAL_FUSE", "1")
    database = open_database(target, create=True)
    try:
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        database.close()


def test_declaring_a_network_share_local_does_not_make_it_so(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_LOCAL_FUSE", "1")
    for fstype in ("fuse.sshfs", "nfs4", "cifs"):
        monkeypatch.setattr(filesystems, "MOUNTINFO", mountinfo(tmp_path, (tmp_path, fstype)))
        with pytest.raises(StoreError, match=f"network file system \\({fstype}\\)"):
            open_database(tmp_path / "p.sqlite3", create=True)
    assert not (tmp_path / "p.sqlite3").exists()


def test_an_encrypted_folder_is_judged_by_where_its_files_are_kept(tmp_path, monkeypatch):
    share, plain, local = tmp_path / "share", tmp_path / "plain", tmp_path / "local"
    for folder in (share / "cipher", plain, local / "cipher"):
        folder.mkdir(parents=True)
    monkeypatch.setattr(
        filesystems,
        "MOUNTINFO",
        mountinfo(tmp_path, (share, "nfs4"), (plain, "fuse.gocryptfs", str(share / "cipher"))),
    )
    with pytest.raises(StoreError) as caught:
        open_database(plain / "p.sqlite3", create=True)
    assert "whose files are kept on a network file system (nfs4 at " in str(caught.value)
    assert not (plain / "p.sqlite3").exists()
    # cryfs names its folder after an @; kept on a local disk, the folder is fine.
    monkeypatch.setattr(
        filesystems,
        "MOUNTINFO",
        mountinfo(tmp_path, (share, "nfs4"), (plain, "fuse.cryfs", f"cryfs@{local / 'cipher'}")),
    )
    open_database(plain / "p.sqlite3", create=True).close()


def test_a_file_held_open_in_wal_elsewhere_is_not_used_on_fuse(database, tmp_path, monkeypatch):
    path = Path(database.path)  # still open, in WAL, as another trustdesk would hold it
    monkeypatch.setattr(
        filesystems, "MOUNTINFO", mountinfo(tmp_path, (path.parent, "fuse.gocryptfs"))
    )
    with pytest.raises(StoreError, match="is open elsewhere in WAL mode"):
        open_database(path)
