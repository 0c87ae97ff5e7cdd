"""Shared fixtures: every test gets its own TRUSTDESK_HOME and a keyring that lives in memory."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import keyring
import keyring.backend
import pytest
from helpers import PASSPHRASE
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
    keyring.set_keyring(MemoryKeyring())
    config.set_today(None)
    old_umask = os.umask(0o077)
    yield home
    os.umask(old_umask)
    config.set_today(None)
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(monkeypatch):
    """An in-memory keyring that the coach chose in keyring's own settings, so it is trusted."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    cls = type(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{cls.__module__}.{cls.__qualname__}")
    return backend


# Argon2id at its weakest allowed setting keeps the suite fast; production uses 64 MiB.
FAST_ARGON2 = {"memory_kib": 19 * 1024, "iterations": 2, "lanes": 1}


@pytest.fixture
def today():
    """Freeze trustdesk's clock on a known Monday."""
    config.set_today(FIXED_TODAY)
    return FIXED_TODAY


# The behaviour suites whose `database` runs on both backends: every test in them runs
# once on a SQLite file and once as a coach of a shared PostgreSQL practice.
BOTH_BACKENDS = {
    "test_trust_actions",
    "test_trust_dashboard",
    "test_trust_journey",
    "test_trust_programs",
    "test_trust_prompts",
    "test_trust_rules",
    "test_trust_promises",
    "test_trust_sessions",
    "test_trust_workspace",
    "test_trust_clients",
    "test_importer",
    "test_import_again",
    "test_versions",
    "test_hostile_input",
    "test_ics",
    "test_practice_uid",
    "test_vault",
    "test_fast_paths",
    "test_trust_notes",
    # Calendar sync: two syncs at once make each session once.
    "test_calendar_sync_race",
    # The app itself, through Pilot: the demo practice, brought into a coach's share.
    "test_tui_client",
    "test_tui_dashboard",
    "test_tui_journey",
    "test_tui_prompts",
    "test_tui_promises",
    "test_tui_clients",
    "test_tui_history",
    # The command line, from `trustdesk init` on.
    "test_cli",
    "test_cli_keys",
    "test_cli_promises",
    "test_cli_clients",
    "test_cli_sessions",
    "test_cli_coach",
    "test_cli_notes",
    # Two mail syncs at once: the unique index, not luck, keeps each message once.
    "test_mail_sync_race",
    # What the dashboard keeps of each client's history, kept by triggers on both.
    "test_rollups",
}


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rpartition(".")[2]
    if (
        module in BOTH_BACKENDS
        and {"database", "demo_practice", "initialised"} & set(metafunc.fixturenames)
        and metafunc.definition.get_closest_marker("sqlite_only") is None
    ):
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store_backend(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database(isolated_home, store_backend, request):
    """A fresh, migrated database with one coach; the models are bound to it.

    A SQLite file, or (for the suites in BOTH_BACKENDS, a second time) a new PostgreSQL
    practice opened as its coach Morgan, with another coach beside her whose rows she
    must never see.
    """
    from trustdesk.store import ensure_coach, open_database

    if store_backend == "postgresql":
        practice = request.getfixturevalue("pg_practice")
        database = open_database(practice.ann)
    else:
        database = open_database(isolated_home / "test.sqlite3", create=True)
        ensure_coach("Morgan Reyes")
    yield database
    database.close()


@pytest.fixture
def demo_practice(isolated_home, today, store_backend, request):
    """Build the demo practice for the frozen Monday, at the size asked, and open it.

    On PostgreSQL, the demo file is brought into the share of the practice's coach
    Morgan (`practice join`), and that share is what is opened.
    """
    from trustdesk.demo import DemoSize, build_demo
    from trustdesk.store import open_database

    opened = []

    def make(clients: int = 24):
        path = isolated_home / f"demo-{clients}.sqlite3"
        build_demo(path, today=today, size=DemoSize(clients=clients))
        if store_backend == "postgresql":
            from trustdesk.demo import DEMO_PASSPHRASE
            from trustdesk.store.practice import join_practice
            from trustdesk.vault.vault import BroughtKey

            opened.append(open_database(request.getfixturevalue("pg_practice").ann))
            join_practice(opened[-1], path, lambda s: BroughtKey(s, passphrase=DEMO_PASSPHRASE))
        else:
            opened.append(open_database(path))
        return opened[-1]

    yield make
    for database in opened:
        database.close()


@pytest.fixture
def coach(database):
    from trustdesk.store import current_coach

    return current_coach()


# --- the command line, as a separate process ----------------------------------------


@pytest.fixture
def run(isolated_home, store_backend, request):
    """Run `python -m trustdesk ARGS` with this test's home and no terminal to prompt on.

    On PostgreSQL (the suites in BOTH_BACKENDS that start from `initialised`), every
    command runs as the practice's coach Morgan: TRUSTDESK_DB names her share.
    """
    practice = {}
    if store_backend == "postgresql":
        practice["TRUSTDESK_DB"] = request.getfixturevalue("pg_practice").ann

    def run(*args, input=None, env=None, cwd=None):
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))
        }
        full_env.update(
            TRUSTDESK_HOME=str(isolated_home),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            NO_COLOR="1",
            **practice,
        )
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "trustdesk", *args],
            input=input,
            capture_output=True,
            env=full_env,
            cwd=cwd or isolated_home,
            timeout=120,
            # No controlling terminal: a prompt fails at once instead of waiting for a person.
            start_new_session=True,
        )

    return run


def _secret_file(path, secret: str):
    """A secret in a file only its owner can read, as --passphrase-file asks."""
    path.write_text(secret + "\n")
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def passphrase_file(tmp_path):
    return _secret_file(tmp_path / "passphrase.txt", PASSPHRASE)


@pytest.fixture
def demo_passphrase_file(tmp_path):
    """The demo practice's passphrase, for `practice join` of a demo file."""
    from trustdesk.demo import DEMO_PASSPHRASE

    return _secret_file(tmp_path / "demo-passphrase", DEMO_PASSPHRASE)


@pytest.fixture
def practice_target(isolated_home, store_backend, request):
    """Where `initialised` makes the practice: the file in the home, or Morgan's share."""
    if store_backend == "postgresql":
        return request.getfixturevalue("pg_practice").ann
    return isolated_home / "trustdesk.sqlite3"


@pytest.fixture
def initialised(run, passphrase_file):
    """A practice made with `trustdesk init`, its notes behind PASSPHRASE."""
    result = run("init", "--name", "Morgan Reyes", "--passphrase-file", str(passphrase_file))
    assert result.returncode == 0, (result.stdout, result.stderr)
    return run


# --- a shared practice on PostgreSQL ----------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url():
    """The PostgreSQL server the PostgreSQL half of the suite runs on.

    TRUSTDESK_TEST_PG names it, as a role that may create databases and roles (the test
    server's superuser). Without it these tests are skipped, except where
    TRUSTDESK_REQUIRE_PG is set, as `.ci/run` sets it: there a missing server fails.
    """
    url = os.environ.get("TRUSTDESK_TEST_PG")
    if not url:
        if os.environ.get("TRUSTDESK_REQUIRE_PG"):
            pytest.fail("TRUSTDESK_REQUIRE_PG is set but TRUSTDESK_TEST_PG names no server")
        pytest.skip("no PostgreSQL server: set TRUSTDESK_TEST_PG=postgresql://... to run this")
    return url


@pytest.fixture
def pg_practice(pg_server_url):
    """A new practice database, set up, with two coaches, Ann and Ben, each with a role."""
    import uuid
    from dataclasses import dataclass

    import psycopg
    from helpers import pg_url

    from trustdesk.store.database import connect_server
    from trustdesk.store.models import db
    from trustdesk.store.practice import add_coach, setup_practice

    @dataclass(frozen=True)
    class Practice:
        admin: str
        ann: str
        ben: str
        ann_role: str
        ben_role: str

    suffix = uuid.uuid4().hex[:10]
    name, ann, ben = f"td_test_{suffix}", f"ann_{suffix}", f"ben_{suffix}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = pg_url(pg_server_url, dbname=name)
    database = connect_server(admin)
    db.initialize(database)
    try:
        setup_practice(database)
        add_coach(database, "Morgan Reyes", ann)
        add_coach(database, "Ben Coach", ben)
    finally:
        database.close()
    yield Practice(
        admin, pg_url(admin, user=ann), pg_url(admin, user=ben), ann_role=ann, ben_role=ben
    )
    if isinstance(db.obj, type(database)):
        db.obj.close()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (ann, ben):
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def practice_as_ann(request, isolated_home):
    """Ann's practice, opened as Ann: a SQLite file, or her share of a PostgreSQL practice."""
    from trustdesk.store import ensure_coach, open_database

    if request.param == "sqlite":
        database = open_database(isolated_home / "ann.sqlite3", create=True)
        ensure_coach("Ann Coach")
    else:
        practice = request.getfixturevalue("pg_practice")
        database = open_database(practice.ann)
    yield database
    database.close()
