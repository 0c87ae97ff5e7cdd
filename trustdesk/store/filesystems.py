"""Which file system a database lives on, so that one on a network share is refused.

SQLite's locking relies on POSIX locks and, in WAL mode, on shared memory beside the
file. On NFS, SMB/CIFS and most FUSE file systems those are unreliable or absent: two
processes can both believe they hold the write lock, and a crash can leave a file that
no longer opens. A coach's home folder on a shared server is often such a share, so
trustdesk looks before it opens.

A FUSE file system that lives on this machine (an encrypted folder such as gocryptfs,
or a local disk through ntfs-3g) is different: every process that locks the file runs
here, so the kernel's locks hold. There only the shared memory of WAL is doubtful, and
SQLite's older rollback journal, which needs none, is used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "davfs",
        "sshfs",
    }
)
# FUSE file systems that reach another machine: never trusted, whatever is declared.
NETWORK_FUSE = frozenset(
    {
        "fuse.sshfs",
        "fuse.s3fs",
        "fuse.rclone",
        "fuse.gcsfuse",
        "fuse.goofys",
        "fuse.juicefs",
        "fuse.glusterfs",
        "fuse.ceph-fuse",
        "fuse.ceph",
        "fuse.davfs",
        "fuse.curlftpfs",
        "fuse.smbnetfs",
        "fuse.cvmfs",
        "fuse.lizardfs",
        "fuse.mfs",
    }
)
# FUSE file systems kept on this machine's own disks.
LOCAL_FUSE = frozenset(
    {
        "fuseblk",
        "fuse.gocryptfs",
        "fuse.encfs",
        "fuse.securefs",
        "fuse.cryfs",
        "fuse.bindfs",
        "fuse.ntfs-3g",
        "fuse.exfat",
    }
)


def _unescape(field: str) -> str:
    """Mount points in mountinfo write space, tab, newline and backslash as octal escapes."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str, str]]:
    """(mount point, file system type, source) for each line of /proc/self/mountinfo."""
    mounts = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        source = _unescape(tail[1]) if len(tail) > 1 else ""
        mounts.append((_unescape(fields[4]), tail[0], source))
    return mounts


def mount_of(path: Path, mountinfo: Path | None = None) -> tuple[str, str] | None:
    """(type, source) of the file system holding `path` (or the folder it would be made in).

    None when the system does not say (not Linux, or /proc is not mounted).
    """
    # Resolved first: reaching an automounted share mounts it, and only then is it listed.
    where = Path(os.path.realpath(path))
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        text = (mountinfo or MOUNTINFO).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    best: tuple[int, str, str] | None = None
    for point, fstype, source in parse_mountinfo(text):
        mount = Path(point)
        if where == mount or mount in where.parents:
            depth = len(mount.parts)
            if best is None or depth >= best[0]:  # the last of equal mounts is on top
                best = (depth, fstype, source)
    return (best[1], best[2]) if best else None


def filesystem_type(path: Path, mountinfo: Path | None = None) -> str | None:
    found = mount_of(path, mountinfo)
    return found[0] if found else None


def backing_folder(source: str) -> Path | None:
    """Where a stacked FUSE file system keeps its files, when its source names a folder.

    gocryptfs names its cipher folder; cryfs and securefs write `name@/folder`.
    """
    folder = source.partition("@")[2] if "@/" in source else source
    return Path(folder) if folder.startswith("/") else None


def is_fuse(fstype: str | None) -> bool:
    return bool(fstype) and (fstype in ("fuse", "fuseblk") or fstype.startswith("fuse."))


def is_network_filesystem(fstype: str | None) -> bool:
    """A share whose locks other machines take part in: never safe for SQLite."""
    if not fstype:
        return False
    return fstype in NETWORK_FILESYSTEMS or fstype in NETWORK_FUSE or fstype.startswith("nfs")


def is_local_fuse(fstype: str | None, declared_local: bool = False) -> bool:
    """A FUSE file system on this machine: known to be, or declared so by the coach."""
    if not is_fuse(fstype) or is_network_filesystem(fstype):
        return False
    return fstype in LOCAL_FUSE or declared_local
