"""A growing wait after failed unlocks, so a passphrase cannot be guessed at full speed.

After n failures in a row the next attempt waits `delay_after(n)` seconds: 1, 2, 4, ...
up to five minutes. A success starts again from nothing. The app counts per process
(`UnlockThrottle`); the command line, where each command is a new process, keeps the
count in a private file in the coach's state folder (`FileThrottle`). Never in the
database: a failed unlock leaves the database exactly as it was.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from trustdesk import config

try:
    import fcntl
except ImportError:  # pragma: no cover - not on this platform: no lock, the count still works
    fcntl = None  # type: ignore[assignment]

FIRST_DELAY = 1.0
MAX_DELAY = 300.0
FAILURES_FILENAME = "unlock-failures.json"


def delay_after(failures: int) -> float:
    """Seconds to wait before the next attempt after `failures` failures in a row."""
    if failures <= 0:
        return 0.0
    return min(FIRST_DELAY * 2 ** min(failures - 1, 30), MAX_DELAY)


class UnlockThrottle:
    """Failures counted in this process, on a monotonic `clock`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.failures = 0
        self._not_before = 0.0

    def wait_left(self) -> float:
        return max(0.0, self._not_before - self._clock())

    def failed(self) -> float:
        """Count a failure; the seconds the next attempt must wait."""
        self.failures += 1
        delay = delay_after(self.failures)
        self._not_before = self._clock() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self._not_before = 0.0


def failures_path() -> Path:
    return config.state_dir() / FAILURES_FILENAME


class FileThrottle:
    """Failures counted across commands in a 0600 file, on the wall clock (`clock`).

    The file is opened without following a symlink, and refused if it is not a regular
    file of this user that only they can read.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.path = path
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep

    def _open(self) -> int:
        path = self.path or failures_path()
        self.path = path
        config.ensure_private_dir(path.parent)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise config.ConfigError(f"{path} is a symbolic link; remove it") from None
            raise config.ConfigError(f"cannot open {path}: {exc.strerror}") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            os.close(fd)
            raise config.ConfigError(f"{path} is not a file of yours; remove it")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.close(fd)
            raise config.ConfigError(
                f"{path} can be read by other users; fix it with: chmod 600 '{path}'"
            )
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def _read(fd: int) -> tuple[int, float]:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = b""
        while chunk := os.read(fd, 4096):
            raw += chunk
        try:
            data = json.loads(raw or b"{}")
            return max(0, int(data.get("failures", 0))), float(data.get("last", 0.0))
        except (ValueError, TypeError, AttributeError):
            return 0, 0.0  # a damaged count starts again; it guards nothing by itself

    @staticmethod
    def _write(fd: int, failures: int, last: float) -> None:
        data = json.dumps({"failures": failures, "last": last}).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data)

    def wait_left(self) -> tuple[int, float]:
        """Failures in a row so far, and the seconds still to wait before the next attempt."""
        fd = self._open()
        try:
            failures, last = self._read(fd)
        finally:
            os.close(fd)
        left = last + delay_after(failures) - self._clock()
        return failures, max(0.0, min(left, delay_after(failures)))

    def wait(self, say: Callable[[str], None]) -> None:
        """Wait out the delay the failures so far ask for, saying so first."""
        failures, left = self.wait_left()
        if left > 0:
            say(
                f"trustdesk: {failures} failed unlock{'s' if failures != 1 else ''} in a row; "
                f"waiting {math.ceil(left)} s before trying again"
            )
            self._sleep(left)

    def failed(self) -> None:
        fd = self._open()
        try:
            failures, _last = self._read(fd)
            self._write(fd, failures + 1, self._clock())
        finally:
            os.close(fd)

    def succeeded(self) -> None:
        fd = self._open()
        try:
            if self._read(fd)[0]:
                self._write(fd, 0, 0.0)
        finally:
            os.close(fd)
