"""Where trustdesk keeps its files, what the coach has set, and what day it is.

Nothing here touches the disk at import time: paths are computed when asked for,
and directories are created only by `ensure_private_dir`.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

APP_NAME = "trustdesk"
DB_FILENAME = "trustdesk.sqlite3"
DEMO_DB_FILENAME = "demo.sqlite3"
SETTINGS_FILENAME = "settings.toml"


class ConfigError(Exception):
    """A problem the coach can fix: the message is one line and says how."""


# --- paths -------------------------------------------------------------------


def home_dir() -> Path:
    """The data directory: TRUSTDESK_HOME when set, else the platform's user data dir."""
    override = os.environ.get("TRUSTDESK_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Settings live beside the data when TRUSTDESK_HOME is set, so one variable isolates all."""
    override = os.environ.get("TRUSTDESK_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """What trustdesk keeps about this user between commands (failed unlocks): beside the
    data when TRUSTDESK_HOME is set, else the platform's user state dir."""
    override = os.environ.get("TRUSTDESK_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILENAME


def database_target(explicit: str | None = None) -> str:
    """The database to open: --db, then TRUSTDESK_DB, then the file in the data dir."""
    target = explicit or os.environ.get("TRUSTDESK_DB")
    if target:
        return target
    return str(home_dir() / DB_FILENAME)


def demo_database_path() -> Path:
    return home_dir() / DEMO_DB_FILENAME


def ensure_private_dir(path: Path) -> Path:
    """Create a directory, and any missing parents, that only its owner can enter (0700).

    Directories that already exist are left as they are: they may be shared on purpose.
    """
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(f"cannot create folder {directory}: {exc.strerror}") from None
        os.chmod(directory, 0o700)
    if not path.is_dir():
        raise ConfigError(f"{path} is not a folder")
    return path


def is_url(target: str) -> bool:
    return "://" in target


# --- settings ------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What a coach may change in settings.toml; every field has a safe default."""

    allow_plaintext_keyring: bool = False
    idle_lock_minutes: int = 10
    punctuality_grace_minutes: int = 5
    follow_through_days: int = 90
    default_ideal_gap_days: int = 7
    default_max_gap_days: int = 21
    due_soon_days: int = 7  # how far ahead "Due soon" looks for open promises
    backups_kept: int = 14  # dated copies `trustdesk backup` keeps in the backups folder; 0: all


def load_settings(path: Path | None = None) -> Settings:
    """Read settings.toml if it exists; an unknown key or a wrong type is a ConfigError."""
    path = path or settings_path()
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Settings()
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None

    known = {f.name: f for f in fields(Settings)}
    values: dict[str, object] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"settings file {path}: unknown setting {key!r}")
        expected = bool if known[key].type in ("bool", bool) else int
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"settings file {path}: {key} must be a whole number")
        if expected is bool and not isinstance(value, bool):
            raise ConfigError(f"settings file {path}: {key} must be true or false")
        if expected is int and value < 0:
            raise ConfigError(f"settings file {path}: {key} must not be negative")
        values[key] = value
    return Settings(**values)


# --- the clock -------------------------------------------------------------------

_fixed_today: dt.date | None = None


def parse_date(text: str, what: str = "date") -> dt.date:
    """Parse YYYY-MM-DD, naming the bad value in one line when it is not a date."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a date in the form YYYY-MM-DD") from None


def set_today(day: dt.date | None) -> None:
    """Fix "today" for this process (--today); None returns to the environment or the calendar."""
    global _fixed_today
    _fixed_today = day


def today() -> dt.date:
    """The one "today" for rules and screens: --today, else TRUSTDESK_TODAY, else the calendar."""
    if _fixed_today is not None:
        return _fixed_today
    env = os.environ.get("TRUSTDESK_TODAY")
    if env:
        return parse_date(env, "TRUSTDESK_TODAY")
    return dt.date.today()


def now() -> dt.datetime:
    """A timestamp on "today": the wall-clock time, moved onto the fixed day when one is set."""
    wall = dt.datetime.now().replace(microsecond=0)
    day = today()
    if day == wall.date():
        return wall
    return dt.datetime.combine(day, wall.time())


# --- permissions -------------------------------------------------------------------


def loose_permission_problem(path: Path) -> str | None:
    """Say what is wrong with a private file's owner or mode, with the command that fixes it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    uid = os.getuid()
    if st.st_uid != uid:
        import pwd

        try:
            me = pwd.getpwuid(uid).pw_name
        except KeyError:
            me = str(uid)
        return (
            f"{path} belongs to another user (uid {st.st_uid}); "
            f"if it is yours, fix it with: chown {me} '{path}'"
        )
    if stat.S_IMODE(st.st_mode) & 0o077:
        return (
            f"{path} can be read by other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"fix it with: chmod 600 '{path}'"
        )
    return None
