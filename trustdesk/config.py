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
    # The zone session times are kept in (an IANA name such as "Europe/London"); the
    # calendar export writes it beside every time. Empty: the system's (system_time_zone).
    time_zone: str = ""
    session_alarm_minutes: int = 0  # a calendar reminder this long before a session; 0: none

    # --- contact that logs itself (mail and calendar on the server) ---
    # Maildir folders and mbox files `trustdesk mail sync` reads when given none.
    mail_sources: tuple[str, ...] = ()
    # The coach's own addresses, beside the coach's email; empty: the login's address.
    my_addresses: tuple[str, ...] = ()
    # .ics files and vdir folders `trustdesk calendar sync` reads when given none.
    calendar_sources: tuple[str, ...] = ()
    # An event naming exactly one client in its summary becomes theirs (off: attendees only).
    calendar_match_summary: bool = False
    # Run mail and calendar sync when the app starts, in the background.
    sync_on_start: bool = False

    # --- sending mail (prompts, the digest) ---
    # "sendmail" (the system's `sendmail -t`), "smtp" (the settings below), or "": SMTP
    # when smtp_host is set, else sendmail when the system has it.
    send_with: str = ""
    sendmail_command: str = "/usr/sbin/sendmail"
    smtp_host: str = ""
    smtp_port: int = 0  # 0: 587 with starttls, 465 with tls, 25 with none
    smtp_security: str = "starttls"  # starttls, tls or none
    smtp_user: str = ""
    # The SMTP password lives in the keyring, or in a file only the coach can read: never here.
    smtp_password_file: str = ""
    # The From of what trustdesk sends; empty: the coach's email.
    mail_from: str = ""


MAX_ALARM_MINUTES = 7 * 24 * 60  # a reminder further ahead than a week reminds of nothing


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
        kind = known[key].type
        if kind in ("tuple[str, ...]", tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(
                    f'settings file {path}: {key} must be a list of text, like ["a", "b"]'
                )
            values[key] = tuple(v.strip() for v in value if v.strip())
            continue
        expected = {"bool": bool, bool: bool, "str": str, str: str}.get(kind, int)
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"settings file {path}: {key} must be a whole number")
        if expected is bool and not isinstance(value, bool):
            raise ConfigError(f"settings file {path}: {key} must be true or false")
        if expected is str and not isinstance(value, str):
            raise ConfigError(f"settings file {path}: {key} must be text in quotes")
        if expected is int and value < 0:
            raise ConfigError(f"settings file {path}: {key} must not be negative")
        if key == "session_alarm_minutes" and value > MAX_ALARM_MINUTES:
            raise ConfigError(
                f"settings file {path}: {key} must be at most {MAX_ALARM_MINUTES} (a week)"
            )
        if key == "time_zone" and value.strip() and not known_time_zone(value.strip()):
            raise ConfigError(
                f"settings file {path}: time_zone {value!r} is not a time zone; use a name "
                'such as "Europe/London" or "America/New_York", or "" for the system\'s'
            )
        if key == "smtp_security" and value.strip() not in SMTP_SECURITY:
            raise ConfigError(
                f"settings file {path}: smtp_security must be one of {', '.join(SMTP_SECURITY)}"
            )
        if key == "send_with" and value.strip() not in ("", "sendmail", "smtp"):
            raise ConfigError(f'settings file {path}: send_with must be "sendmail" or "smtp"')
        values[key] = value.strip() if expected is str else value
    return Settings(**values)


SMTP_SECURITY = ("starttls", "tls", "none")


def known_time_zone(name: str) -> bool:
    """Whether `name` is a time zone of the IANA database (as a calendar names one)."""
    import zoneinfo

    if name in ("localtime", "posixrules"):  # files in the zone folder, not zones' names
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def system_time_zone(etc: Path = Path("/etc")) -> str:
    """The system's time zone by its IANA name, or "UTC" when the system names none.

    A calendar needs the zone's name, and Python's local time has none, so it is looked
    for where systems keep it, in this order: the TZ variable (":Europe/London" and a path
    into a zoneinfo folder too), /etc/timezone (Debian, Ubuntu), then where the
    /etc/localtime link points (most other Linux systems, and macOS); else UTC. A
    name that is not a known zone is passed over.
    """
    found: list[str] = []
    tz = os.environ.get("TZ", "").strip().removeprefix(":")
    if tz:
        found.append(tz)
    try:
        found.append((etc / "timezone").read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        pass
    try:
        found.append(os.readlink(etc / "localtime"))
    except OSError:
        pass
    for name in found:
        if "zoneinfo/" in name:
            name = name.rpartition("zoneinfo/")[2]
            for variant in ("posix/", "right/"):
                name = name.removeprefix(variant)
        if name and known_time_zone(name):
            return name
    return "UTC"


def time_zone_name(settings: Settings) -> str:
    """The zone session times are kept in: the setting, else the system's."""
    return settings.time_zone or system_time_zone()


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
