"""Shared fixtures: every test gets its own TRUSTDESK_HOME and a keyring that lives in memory."""

from __future__ import annotations

import datetime as dt
import os

import keyring
import keyring.backend
import pytest
from hypothesis import settings

from trustdesk import config

# No example database: property tests leave nothing behind in the working tree.
settings.register_profile("trustdesk", database=None, deadline=None)
settings.load_profile("trustdesk")

FIXED_TODAY = dt.date(2026, 3, 16)  # a Monday


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring for tests: secrets live in a dict and vanish with the test."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Never the real home, settings, database or keyring."""
    home = tmp_path_factory.mktemp("trustdesk-home")
    os.chmod(home, 0o700)
    monkeypatch.setenv("TRUSTDESK_HOME", str(home))
    monkeypatch.delenv("TRUSTDESK_DB", raising=False)
    monkeypatch.delenv("TRUSTDESK_TODAY", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    config.set_today(None)
    old_umask = os.umask(0o077)
    yield home
    os.umask(old_umask)
    config.set_today(None)
    keyring.set_keyring(previous)


@pytest.fixture
def today():
    """Freeze trustdesk's clock on a known Monday."""
    config.set_today(FIXED_TODAY)
    return FIXED_TODAY


@pytest.fixture
def database(isolated_home):
    """A fresh, migrated SQLite database with one coach; the models are bound to it."""
    from trustdesk.store import ensure_coach, open_database

    database = open_database(isolated_home / "test.sqlite3", create=True)
    ensure_coach("Morgan Reyes")
    yield database
    database.close()


@pytest.fixture
def coach(database):
    from trustdesk.store import current_coach

    return current_coach()
