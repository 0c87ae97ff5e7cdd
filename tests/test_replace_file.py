"""replace_file: a file written again and again (the calendar a cron job refreshes)."""

from __future__ import annotations

import os
import stat

import pytest

from trustdesk.store import StoreError
from trustdesk.store.database import replace_file

SECRET = b"ssh-ed25519 AAAA the coach's key\n"


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def folder(tmp_path):
    where = tmp_path / "web"
    where.mkdir(mode=0o755)
    return where


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "authorized_keys"
    path.write_bytes(SECRET)
    os.chmod(path, 0o600)
    return path


def test_a_new_file_is_private_and_an_existing_one_keeps_its_mode(folder):
    dest = folder / "trustdesk.ics"
    replace_file(dest, b"first")
    assert (dest.read_bytes(), mode(dest)) == (b"first", 0o600)
    os.chmod(dest, 0o644)  # published for the web server
    before = os.stat(dest).st_ino
    replace_file(dest, b"second")
    assert (dest.read_bytes(), mode(dest)) == (b"second", 0o644)
    assert os.stat(dest).st_ino != before  # a new file renamed in, not the old one rewritten
    os.chmod(dest, 0o666)  # nobody else should be able to change what calendars read
    replace_file(dest, b"third")
    assert (dest.read_bytes(), mode(dest)) == (b"third", 0o644)
    assert sorted(os.listdir(folder)) == ["trustdesk.ics"]


def test_a_link_at_the_destination_is_replaced_never_followed(folder, victim):
    dest = folder / "trustdesk.ics"
    os.symlink(victim, dest)
    replace_file(dest, b"calendar")
    assert not os.path.islink(dest) and dest.read_bytes() == b"calendar"
    assert mode(dest) == 0o600
    assert victim.read_bytes() == SECRET


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "file"])
def test_what_was_planted_at_a_temporary_name_is_gone_around(folder, victim, kind):
    dest = folder / "trustdesk.ics"
    dest.write_bytes(b"old")
    planted = [folder / ".trustdesk.ics.partial", folder / "trustdesk.ics.tmp"]
    for where in planted:
        if kind == "symlink":
            os.symlink(victim, where)
        elif kind == "hardlink":
            os.link(victim, where)
        else:
            where.write_bytes(SECRET)
    replace_file(dest, b"new")
    assert dest.read_bytes() == b"new"
    assert victim.read_bytes() == SECRET
    assert all(os.path.lexists(where) for where in planted)


def test_a_folder_or_a_strange_file_is_refused_and_left_alone(folder):
    inside = folder / "calendar"
    inside.mkdir()
    with pytest.raises(StoreError, match="it is a folder"):
        replace_file(inside, b"x")
    assert os.listdir(inside) == []
    fifo = folder / "pipe.ics"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a plain file"):
        replace_file(fifo, b"x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(StoreError, match="does not exist"):
        replace_file(folder / "missing" / "trustdesk.ics", b"x")
    assert sorted(os.listdir(folder)) == ["calendar", "pipe.ics"]


def test_a_folder_others_can_change_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(StoreError, match="chmod go-w"):
        replace_file(shared / "trustdesk.ics", b"x")
    assert os.listdir(shared) == []


def test_a_failure_while_writing_leaves_the_old_file_and_nothing_beside_it(folder, monkeypatch):
    dest = folder / "trustdesk.ics"
    dest.write_bytes(b"old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        replace_file(dest, b"new")
    assert dest.read_bytes() == b"old"
    assert sorted(os.listdir(folder)) == ["trustdesk.ics"]


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
def test_another_users_file_is_refused(folder):
    dest = folder / "trustdesk.ics"
    dest.write_bytes(b"theirs")
    os.chown(dest, 65534, 65534)
    with pytest.raises(StoreError, match="belongs to another user"):
        replace_file(dest, b"mine")
    assert dest.read_bytes() == b"theirs"
