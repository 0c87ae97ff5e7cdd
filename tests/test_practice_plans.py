"""On a shared practice every dashboard query reads a fenced table through an index that
holds the coach's fence (coach_id), so no scan reads another coach's rows and drops them
in a filter (EXPLAIN would count them for the coach, and the work would grow with the
whole practice, not with the coach's own share).

A practice of three coaches, each a copy of the same small demo, is analysed; the
dashboard is driven as one coach (first paint, cursor, page down, workspace, filter) and
the report built, every statement recorded, and each EXPLAINed as that coach with
sequential scans priced out (at this size a sequential scan is cheap, and the test is
about which indexes exist, not about the planner's taste on a few thousand rows).
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import pg_url

sys.path.insert(0, str(Path(__file__).parent / "perf"))

import bench_practice  # noqa: E402

TODAY = dt.date(2026, 3, 16)
CLIENTS = 40


@dataclass(frozen=True)
class PlanPractice:
    admin: str
    coach: str  # the URL that logs in as the measured coach
    role: str


@pytest.fixture(scope="module")
def plan_practice(pg_server_url, tmp_path_factory):
    from trustdesk.demo import DemoSize, build_demo
    from trustdesk.store.database import connect_server
    from trustdesk.store.models import db
    from trustdesk.store.practice import add_coach, setup_practice

    folder = tmp_path_factory.mktemp("plans")
    folder.chmod(0o700)
    template = folder / "demo.sqlite3"
    size = DemoSize(clients=CLIENTS, touches=2000, commitments=400, notes=200, history_days=365)
    build_demo(template, seed=7, today=TODAY, size=size)
    suffix = uuid.uuid4().hex[:8]
    name = f"td_plans_{suffix}"
    roles = [f"plans_{suffix}_{n}" for n in range(3)]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = pg_url(pg_server_url, dbname=name)
    database = connect_server(admin)
    db.initialize(database)
    try:
        setup_practice(database)
        ids = [add_coach(database, f"Coach {n}", role).id for n, role in enumerate(roles)]
    finally:
        database.close()
    bench_practice.pour(admin, [CLIENTS] * 3, {CLIENTS: template}, ids)
    yield PlanPractice(admin, pg_url(admin, user=roles[0]), roles[0])
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def dashboard_rules_statements(url: str) -> list[dict]:
    """The statements of the dashboard's rules, run as the coach (no app needed)."""
    from trustdesk.config import Settings
    from trustdesk.store import current_coach, open_database
    from trustdesk.trust import contact, promises
    from trustdesk.trust import dashboard as rules

    recorder = bench_practice.Recorder()
    recorder.install()
    try:
        database = open_database(url)
        try:
            coach = current_coach()
            rules.summary(coach, TODAY, Settings())
            rules.client_page(coach, TODAY, limit=40)
            rules.client_page(coach, TODAY, name_filter="a", offset=10, limit=40)
            contact.cadence(coach, TODAY)
            promises.overdue_promises(coach, TODAY, limit=40, offset=0)
        finally:
            database.close()
    finally:
        recorder.uninstall()
    return recorder.distinct()


def failures(explained: list[dict]) -> str:
    lines = []
    for s in explained:
        if s["verdict"] in ("FAILS", "error"):
            why = "; ".join(s.get("problems", [])) or s.get("why", "")
            lines.append(f"{why}\n    {s['sql']}")
    return "\n".join(lines)


async def test_every_dashboard_statement_keeps_the_fence_in_an_index(plan_practice):
    import bench

    from trustdesk import config
    from trustdesk.config import Settings
    from trustdesk.store import current_coach, open_database
    from trustdesk.trust.report import build_report

    config.set_today(TODAY)
    recorder = bench_practice.Recorder()
    recorder.install()
    try:
        database = open_database(plan_practice.coach)
        try:
            coach = current_coach()
            result: dict = {}
            # The app, headless: first paint, cursor, page down, workspace, a filter key.
            await bench.drive_dashboard(database, coach, 1, result)
            assert result["clients"] > 0
            recorder.phase = "report"
            build_report(coach, TODAY, Settings())
        finally:
            database.close()
    finally:
        recorder.uninstall()
    statements = recorder.distinct()
    explained = bench_practice.explain_all(
        plan_practice.coach, statements, bench_practice.FENCED, before=("SET enable_seqscan = off",)
    )
    judged = [s for s in explained if s["verdict"] != "skipped"]
    assert len(judged) >= 20, "the dashboard ran fewer queries than it does"
    assert not failures(explained), failures(explained)
    # Every fenced table the dashboard reads was seen, each through an index.
    read = {scan["table"] for s in judged for scan in s["scans"]}
    assert {"client", "touch", "commitment", "session"} <= read


def test_an_index_that_does_not_lead_with_the_coach_is_caught(plan_practice):
    """The check can fail: with touch's per-client indexes led by the client instead of
    the coach (as they were before setup made every index lead with coach_id), a
    dashboard query reads touches through an index that ignores the fence."""
    statements = dashboard_rules_statements(plan_practice.coach)
    with psycopg.connect(plan_practice.admin) as conn:
        with conn.transaction(force_rollback=True):
            for (index,) in conn.execute(
                "SELECT indexrelid::regclass::text FROM pg_index AS i "
                "WHERE indrelid = 'public.touch'::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid) "
                "AND pg_get_indexdef(indexrelid) LIKE '%%(coach_id, client_id%%'"
            ).fetchall():
                conn.execute(f"DROP INDEX {index}")
            conn.execute(
                "CREATE INDEX touch_by_client ON public.touch "
                "(client_id, counts_for_cadence, occurred_on)"
            )
            conn.execute("ANALYZE public.touch")
            conn.execute(f'SET LOCAL ROLE "{plan_practice.role}"')
            conn.execute("SET LOCAL enable_seqscan = off")
            explained = bench_practice.explain_on(conn, statements, bench_practice.FENCED)
    problems = [p for s in explained for p in s.get("problems", [])]
    assert any("on touch without coach_id in its index condition" in p for p in problems), problems


def test_the_policies_find_the_coach_through_an_index(plan_practice):
    """The fence's own lookup (the coach whose role is logged in) reads one coach's row,
    not every coach's: as the practice grows to thousands of coaches, a scan of them all
    would run several times in every statement (and counts them for any coach's EXPLAIN)."""
    statements = dashboard_rules_statements(plan_practice.coach)
    explained = bench_practice.explain_all(
        plan_practice.coach, statements, bench_practice.FENCED, before=("SET enable_seqscan = off",)
    )
    lookups = [found for s in explained for found in s.get("coach_lookups", [])]
    assert lookups
    assert all(found["node"] != "Seq Scan" for found in lookups), lookups
