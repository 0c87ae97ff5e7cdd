"""settings.toml: each kind of value read or refused in one line; the calendar's time zone
(the system's by default) and reminders; the lists mail and calendar sync read."""

from __future__ import annotations

import os

import pytest

from trustdesk import config
from trustdesk.config import ConfigError, Settings, load_settings, system_time_zone


def settings_from(tmp_path, text: str) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return load_settings(path)


def test_a_zone_and_a_reminder_are_read(tmp_path):
    found = settings_from(tmp_path, 'time_zone = "Europe/London"\nsession_alarm_minutes = 15\n')
    assert (found.time_zone, found.session_alarm_minutes) == ("Europe/London", 15)
    assert config.time_zone_name(found) == "Europe/London"
    assert (Settings().time_zone, Settings().session_alarm_minutes) == ("", 0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('time_zone = "Europe/Londn"', "time_zone 'Europe/Londn' is not a time zone; use a name"),
        ('time_zone = "Europe"', "is not a time zone"),
        ('time_zone = "../../etc/passwd"', "is not a time zone"),
        ('time_zone = "localtime"', "is not a time zone"),
        ("time_zone = 1", "time_zone must be text in quotes"),
        ('session_alarm_minutes = "15"', "session_alarm_minutes must be a whole number"),
        ("session_alarm_minutes = -5", "session_alarm_minutes must not be negative"),
        ("session_alarm_minutes = 99999999999", "must be at most 10080 (a week)"),
    ],
)
def test_a_wrong_value_is_one_line_that_says_what_fits(tmp_path, text, says):
    with pytest.raises(ConfigError) as refused:
        settings_from(tmp_path, text + "\n")
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_the_other_settings_keep_their_types(tmp_path):
    with pytest.raises(ConfigError, match="backups_kept must be a whole number"):
        settings_from(tmp_path, 'backups_kept = "3"\n')
    with pytest.raises(ConfigError, match="must be true or false"):
        settings_from(tmp_path, 'allow_plaintext_keyring = "yes"\n')


def test_lists_of_sources_and_the_sending_choices_are_read(tmp_path):
    found = settings_from(
        tmp_path,
        'mail_sources = ["~/Maildir", "  ", "~/mbox"]\nsmtp_security = "tls"\n'
        'send_with = "smtp"\nsync_on_start = true\n',
    )
    assert found.mail_sources == ("~/Maildir", "~/mbox")  # blanks dropped
    assert (found.smtp_security, found.send_with, found.sync_on_start) == ("tls", "smtp", True)
    assert Settings().mail_sources == () and Settings().send_with == ""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('mail_sources = "~/Maildir"', 'mail_sources must be a list of text, like ["a", "b"]'),
        ("calendar_sources = [1]", "calendar_sources must be a list of text"),
        ('smtp_security = "ssl"', "smtp_security must be one of starttls, tls, none"),
        ('send_with = "pigeon"', 'send_with must be "sendmail" or "smtp"'),
    ],
)
def test_a_wrong_list_or_choice_is_one_line(tmp_path, text, says):
    with pytest.raises(ConfigError) as refused:
        settings_from(tmp_path, text + "\n")
    assert says in str(refused.value) and "\n" not in str(refused.value)


@pytest.fixture
def etc(tmp_path, monkeypatch):
    monkeypatch.delenv("TZ", raising=False)
    where = tmp_path / "etc"
    where.mkdir()
    return where


def test_the_system_zone_comes_from_tz_first(etc, monkeypatch):
    (etc / "timezone").write_text("Asia/Tokyo\n")
    monkeypatch.setenv("TZ", "America/Chicago")
    assert system_time_zone(etc) == "America/Chicago"
    monkeypatch.setenv("TZ", ":/usr/share/zoneinfo/posix/Europe/Paris")
    assert system_time_zone(etc) == "Europe/Paris"
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")  # a rule, not a name: passed over
    assert system_time_zone(etc) == "Asia/Tokyo"


def test_then_etc_timezone_then_the_localtime_link_then_utc(etc):
    assert system_time_zone(etc) == "UTC"
    os.symlink("../usr/share/zoneinfo/Australia/Sydney", etc / "localtime")
    assert system_time_zone(etc) == "Australia/Sydney"
    (etc / "timezone").write_text("Africa/Nairobi\n")
    assert system_time_zone(etc) == "Africa/Nairobi"
    (etc / "timezone").write_text("Nowhere/Special\n")
    assert system_time_zone(etc) == "Australia/Sydney"


def test_an_empty_setting_means_the_systems_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    assert config.time_zone_name(Settings()) == "Pacific/Auckland"
    assert config.time_zone_name(Settings(time_zone="Europe/Oslo")) == "Europe/Oslo"
