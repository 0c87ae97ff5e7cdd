"""A SQLite process never loads a PostgreSQL driver; a PostgreSQL practice still connects.

Peewee imports every driver it finds when it is imported, which cost every SQLite
process about 80 ms and 10 MB; trustdesk/__init__.py keeps the drivers out of its sight
and store.database.load_postgres_driver hands psycopg over when a server is named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DRIVERS = ("psycopg", "psycopg2", "psycopg_binary", "psycopg_c", "psycopg2cffi")

# Runs the command line in a fresh interpreter and prints the driver modules it loaded.
SCRIPT = f"""
import json, sys
from trustdesk.cli import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {DRIVERS!r})
print("LOADED=" + json.dumps(loaded), file=sys.stderr)
raise SystemExit(code)
"""


def run_cli(args: list[str]) -> tuple[subprocess.CompletedProcess, list[str]]:
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("LOADED=")]
    assert marker, result.stderr[-2000:]
    return result, json.loads(marker[-1][len("LOADED=") :])


def test_help_loads_no_postgres_driver():
    result, loaded = run_cli(["--help"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert loaded == []


def test_a_sqlite_report_loads_no_postgres_driver(isolated_home):
    from trustdesk.store import ensure_coach, open_database
    from trustdesk.store.models import db

    path = isolated_home / "practice.sqlite3"
    previous = db.obj
    database = open_database(path, create=True)
    try:
        ensure_coach("Morgan Reyes")
    finally:
        database.close()
        db.initialize(previous)
    result, loaded = run_cli(["--db", str(path), "report", "--json"])
    assert result.returncode == 0, result.stderr[-2000:]
    json.loads(result.stdout)
    assert loaded == []


def test_psycopg_imports_as_usual_after_trustdesk():
    """Only peewee's own import is blinded: anything imported later sees the driver."""
    pytest.importorskip("psycopg")
    code = (
        "import trustdesk.store.database, peewee, psycopg, sys;"
        "assert peewee.psycopg is None;"
        "print(psycopg.__version__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_postgresql_practice_still_connects(pg_practice):
    """The driver is handed to peewee when a server is named, in a fresh process too."""
    code = (
        "import sys\n"
        "from trustdesk.store.database import connect_server\n"
        "assert 'psycopg' not in sys.modules\n"
        "database = connect_server(sys.argv[1])\n"
        "assert database.execute_sql('SELECT 41 + 1').fetchone()[0] == 42\n"
        "with database.atomic():\n"
        "    database.execute_sql('SELECT 1')\n"
        "database.close()\n"
        "print(type(database._adapter).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, pg_practice.admin], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "Psycopg3Adapter"


def test_the_rules_package_loads_a_habit_only_when_it_is_asked_for():
    """Mail sync needs `trust.common` alone; every name the package offers still resolves."""
    script = (
        "import sys, trustdesk.trust as trust, trustdesk.trust.common\n"
        "print(sorted(m for m in sys.modules if m.startswith('trustdesk.trust.')))\n"
        "for name in trust.__all__:\n"
        "    getattr(trust, name)\n"
        "print(sorted(set(trust.__all__) ^ set(trust._WHERE)))\n"
        "print(set(trust.__all__) <= set(dir(trust)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first, mismatched, listed = done.stdout.splitlines()
    assert first == "['trustdesk.trust.common']"
    assert mismatched == "[]" and listed == "True"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        import trustdesk.trust

        trustdesk.trust.nothing_here  # noqa: B018
