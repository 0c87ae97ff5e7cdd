"""Keeping the notes key and opened notes out of core dumps.

A process that can unlock notes holds the data key, a typed passphrase and opened
notes in memory; a core dump would write all of them to disk. While such a process
runs, its core size limit is 0 and (on Linux) it is marked not dumpable, which also
keeps other processes of the same user from attaching to it. Elsewhere this does what
the platform allows and nothing more.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4


def keep_out_of_core_dumps() -> None:
    """Idempotent and cheap: two system calls."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on this platform
        pass
    else:
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
            if soft != 0:
                resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
        except (ValueError, OSError):  # pragma: no cover - refused by the platform
            pass
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
