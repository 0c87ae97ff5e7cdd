#!/usr/bin/env python
"""One coach of a 500-coach practice on PostgreSQL, against the same coach alone (issue 17).

    python tests/perf/bench_practice.py [--pg URL] [--json FILE] [--repeat K]
        [--coaches 500] [--clients 100000] [--big 2000] [--load-seconds 60] [--workers 40]

The server is --pg or TRUSTDESK_TEST_PG, as a role that may create databases and roles
(its superuser). Built once, cached by size and seed (a database's comment says what it
holds), so reruns skip building (but run setup_practice again on what they reuse, then
ANALYZE, so indexes, settings and trigger functions are those the code makes now):

- the practice: `--coaches` coaches (roles made by add_coach after setup_practice) with
  `--clients` clients between them, a long tail (most 50 to 300 clients, one in 25 with
  `--big`), 100 touches, 10 promises and 10 sealed notes per client. Each coach's rows are
  a copy of a demo practice (demo.py) of the coach's size, with ids, uids and note ids of
  its own, poured in with COPY; the measured coach's copy keeps the demo's note ids and
  client uids, so its notes open with the demo passphrase;
- the same coach alone in a one-coach practice on the same server, same rows;
- the same rows in a SQLite file (the demo file itself).

Then, logged in as the measured coach's role (row-level security on), each figure is
taken K times in child processes, the three practices interleaved: dashboard first
paint, all panes, filter keystroke, cursor down, page down, workspace open (headless app,
as bench.py drives it) and `trustdesk report --json` as a process. Every SQL statement
the dashboard, filter, page down, workspace open and report run is recorded and
EXPLAIN (ANALYZE, BUFFERS)ed as the coach: a fenced table must be read through an index
whose condition holds the coach's fence (coach_id), never by a sequential scan, and no
filter may remove rows read from outside the fence.

Last, `--workers` coach processes run the dashboard's queries in a loop for
`--load-seconds`, one in five of them also writing touches, promises and sessions
through the trust rules, against a single coach running the same loop alone; latency
percentiles, errors, lock waits and deadlocks go into the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (tests/perf/bench.py: its children drive the app)

TODAY = bench.TODAY
SEED = bench.SEED  # the demo's seed: bench.py's build child uses it
HISTORY_DAYS = 3 * 365
TOUCHES_PER_CLIENT = 100
PROMISES_PER_CLIENT = 10
NOTES_PER_CLIENT = 10
# The long tail: what most coaches hold, drawn with these weights (then nudged so the
# practice holds exactly --clients); one coach in BIG_SHARE holds --big.
SMALL_SIZES = (50, 80, 100, 120, 150, 200, 250, 300)
SMALL_WEIGHTS = (16, 20, 20, 14, 12, 8, 6, 4)
BIG_SHARE = 25
TIMEOUT = 900.0

FIGURES = {
    # name: (unit, what); each is taken for practice, alone and sqlite
    "first_paint": ("ms", "first paint"),
    "all_panes": ("ms", "all three panes loaded"),
    "filter_keystroke": ("ms", "filter keystroke"),
    "cursor_down": ("ms", "cursor down"),
    "page_down": ("ms", "page down"),
    "open_workspace": ("ms", "open client workspace"),
    "report": ("ms", "trustdesk report --json (process)"),
    "peak_rss": ("MiB", "peak resident memory of the app"),
}
VARIANTS = ("practice", "alone", "sqlite")
RATIO_LIMIT = 1.3
SQLITE_LIMIT = 1.5
LOAD_LIMIT = 3.0
# Every table a coach's rows are in: store.practice.FENCED_TABLES and the rollups (schema
# 0017), which the fence check covers too; written here so the parent imports no store.
FENCED = ("program", "stage", "client", "stage_change", "session", "commitment", "prompt",
          "touch", "outcome", "note", "key_slot", "calendar_source", "mail_source",
          "client_rollup")  # fmt: skip
LOOKUP_TARGET = "the policies find the coach by an index (coach.db_role)"
FENCE_TARGET = "fence is an index condition in every dashboard query"


def say(text: str) -> None:
    print(f"bench_practice: {text}", file=sys.stderr, flush=True)


# --- the practice's shape ---------------------------------------------------------------


def plan_coaches(coaches: int, clients: int, big: int, seed: int) -> list[int]:
    """Each coach's number of clients: a long tail summing to `clients` exactly.

    The first big coach (index 0) is the one measured.
    """
    rng = random.Random(seed)
    n_big = max(1, coaches // BIG_SHARE)
    rest = clients - n_big * big
    n_small = coaches - n_big
    if n_small < 1 or rest < n_small * SMALL_SIZES[0]:
        raise SystemExit("bench_practice: too few clients for that many coaches")
    small = rng.choices(SMALL_SIZES, SMALL_WEIGHTS, k=n_small)
    # Nudge sizes one step up or down the ladder until the next step would overshoot.
    ladder = list(SMALL_SIZES)
    for _ in range(100 * n_small):
        gap = rest - sum(small)
        i = rng.randrange(n_small)
        at = ladder.index(small[i])
        if gap > 0 and at + 1 < len(ladder) and ladder[at + 1] - small[i] <= gap:
            small[i] = ladder[at + 1]
        elif gap < 0 and at > 0 and small[i] - ladder[at - 1] <= -gap:
            small[i] = ladder[at - 1]
        elif abs(gap) < ladder[1] - ladder[0]:
            break
    gap = rest - sum(small)
    if gap:  # one coach takes what is left, so the total is exact
        small[-1] += gap
        if small[-1] < 1:
            raise SystemExit("bench_practice: cannot share the clients out")
    return [big] * n_big + small


# --- templates: demo practices, one per size ------------------------------------------------


def ensure_template(cache: Path, clients: int, env: dict) -> Path:
    """A demo practice of `clients` clients (cached), the rows every coach of that size copies."""
    folder = bench.private_dir(cache / f"template-{SEED}-c{clients}-h{HISTORY_DAYS}")
    path = folder / "demo.sqlite3"
    stamp_file = folder / "source"
    stamp = bench.source_stamp()
    if path.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return path
    for leftover in folder.iterdir():
        if leftover.is_file():
            leftover.unlink()
    practice = bench.Practice(
        "template",
        clients,
        touches=TOUCHES_PER_CLIENT * clients,
        commitments=PROMISES_PER_CLIENT * clients,
        notes=NOTES_PER_CLIENT * clients,
        history_days=HISTORY_DAYS,
    )
    # bench.py's build child, with this seed: the same demo every time.
    out = folder / "build.json"
    bench_child(["build", "--db", str(path), "--out", str(out), "--practice",
                 json.dumps(practice.__dict__)], env)  # fmt: skip
    out.unlink()
    stamp_file.write_text(stamp)
    return path


def bench_child(args: list[str], env: dict, timeout: float = TIMEOUT) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "bench.py"), "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"bench_practice: child {args[0]} failed ({result.returncode})")


def read_template(path: Path) -> dict:
    """Every row of the template's coach, per model, as the SQLite file holds them."""
    import sqlite3

    from trustdesk.store.models import ALL_MODELS, Coach

    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = {}
        for model in ALL_MODELS:
            if model is Coach:
                continue
            columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
            rows[model] = conn.execute(
                f'SELECT {columns} FROM "{model._meta.table_name}" ORDER BY 1'
            ).fetchall()
        return rows
    finally:
        conn.close()


def remapper(model, keep_uuids: bool):
    """A function from a template row to the row of a copy: ids moved by the copy's offset
    for each table, the coach's id put in, new uuids unless kept."""
    import peewee

    from trustdesk.store.models import Client, Coach

    parts = []
    for i, field in enumerate(model._meta.sorted_fields):
        if isinstance(field, peewee.AutoField):
            parts.append(f"r[{i}] + o[{model.__name__!r}]")
        elif isinstance(field, peewee.ForeignKeyField) and field.rel_model is Coach:
            parts.append("coach")
        elif isinstance(field, peewee.ForeignKeyField):
            rel = field.rel_model.__name__
            parts.append(f"(None if r[{i}] is None else r[{i}] + o[{rel!r}])")
        elif (
            isinstance(field, peewee.UUIDField)
            and not keep_uuids
            and (field.primary_key or (model is Client and field.name == "uid"))
        ):
            parts.append("uuid4().hex")
        else:
            parts.append(f"r[{i}]")
    source = f"lambda r, o, coach: ({', '.join(parts)},)"
    return eval(source, {"uuid4": uuid.uuid4})  # noqa: S307 - built above from the models


# --- building a practice on the server ------------------------------------------------------


def pg_url(url: str, *, dbname: str | None = None, user: str | None = None) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    netloc = parts.netloc
    if user is not None:
        netloc = netloc.rpartition("@")[2]
        query["user"] = user
        query.pop("password", None)
    path = f"/{dbname}" if dbname is not None else parts.path
    encoded = urlencode(query, safe="/")
    return f"{parts.scheme}://{netloc}{path}" + (f"?{encoded}" if encoded else "")


def built_meta(server: str, name: str) -> dict | None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def role_name(index: int, target: bool) -> str:
    return f"bp{SEED}_target" if target else f"bp{SEED}_c{index:04d}"


def ensure_pg_practice(
    server: str, name: str, sizes: list[int], templates: dict[int, Path], rebuild: bool
) -> dict:
    """A practice database of len(sizes) coaches, coach 0 the measured one (cached)."""
    import psycopg

    stamp = bench.source_stamp()
    meta = built_meta(server, name)
    if not rebuild and meta and meta.get("source") == stamp and meta.get("complete"):
        meta["cached"] = True
        meta["setup_again_s"] = set_up_again(pg_url(server, dbname=name))
        return meta
    say(f"building {name}: {len(sizes)} coaches, {sum(sizes):,} clients")
    started = time.perf_counter()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = pg_url(server, dbname=name)

    from trustdesk.store.database import connect_server
    from trustdesk.store.models import db
    from trustdesk.store.practice import add_coach, setup_practice

    database = connect_server(admin)
    db.initialize(database)
    roles = []
    try:
        setup_practice(database)
        for i in range(len(sizes)):
            role = role_name(i, i == 0)
            coach = add_coach(database, f"Coach {i:04d}", role, f"coach{i}@example.org")
            roles.append((coach.id, role))
    finally:
        database.close()
    timings = {"setup_and_roles_s": round(time.perf_counter() - started, 1)}
    loaded = time.perf_counter()
    counts = pour(admin, sizes, templates, [c for c, _ in roles])
    timings["copy_s"] = round(time.perf_counter() - loaded, 1)
    meta = {
        "source": stamp,
        "seed": SEED,
        "coaches": len(sizes),
        "clients": sum(sizes),
        "sizes": sizes,
        "target_role": roles[0][1],
        "target_coach_id": roles[0][0],
        "rows": counts,
        "timings": timings | {"total_s": round(time.perf_counter() - started, 1)},
        "complete": True,
    }
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{json.dumps(meta)}'")
    meta["cached"] = False
    return meta


def set_up_again(admin: str) -> float:
    """setup_practice on a cached practice, then ANALYZE: what setup makes (indexes, storage
    settings, trigger functions, policies) is measured as the code now makes it, not as it
    was when the rows were poured. Setup is safe to repeat. Returns its seconds."""
    import psycopg

    from trustdesk.store.database import connect_server
    from trustdesk.store.models import db
    from trustdesk.store.practice import setup_practice

    began = time.perf_counter()
    database = connect_server(admin)
    db.initialize(database)
    try:
        setup_practice(database)
    finally:
        database.close()
        db.initialize(None)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ANALYZE")
    took = round(time.perf_counter() - began, 1)
    say(f"set up again and analysed in {took} s")
    return took


def pour(admin: str, sizes, templates, coach_ids) -> dict:
    """Every coach's rows, COPYed table by table; indexes made after, then VACUUM ANALYZE."""
    import peewee
    import psycopg

    from trustdesk.store.models import ALL_MODELS, Coach, db

    read = {size: read_template(path) for size, path in templates.items()}
    models = [m for m in ALL_MODELS if m is not Coach]
    # Each copy's ids start after the previous copies' largest ones, table by table.
    offsets = []
    running = {m.__name__: 0 for m in models}
    for size in sizes:
        offsets.append(dict(running))
        for model in models:
            rows = read[size][model]
            if rows and isinstance(rows[0][0], int):
                running[model.__name__] += max(r[0] for r in rows)
    counts = {}
    # The rollup triggers go first, in their own transaction (they would wait on this
    # load's locks); they are made again and every rollup rebuilt after it.
    with _paused_rollups(admin), psycopg.connect(admin) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        # Bulk load as the superuser: reference checks and triggers wait (the rows are
        # copies of consistent files, with every id moved by the same offset).
        conn.execute("SET session_replication_role = replica")
        # Indexes other than the keys are made once the rows are in.
        later = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY (%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)",
            ([m._meta.table_name for m in models],),
        ).fetchall()
        for index, _ in later:
            conn.execute(f"DROP INDEX {index}")
        for model in models:
            table = model._meta.table_name
            columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
            moved = remapper(model, keep_uuids=False)
            kept = remapper(model, keep_uuids=True)
            n = 0
            began = time.perf_counter()
            with conn.cursor().copy(f'COPY public."{table}" ({columns}) FROM STDIN') as copy:
                for k, size in enumerate(sizes):
                    remap = kept if k == 0 else moved
                    o, coach = offsets[k], coach_ids[k]
                    for row in read[size][model]:
                        copy.write_row(remap(row, o, coach))
                    n += len(read[size][model])
            counts[table] = n
            say(f"  {table}: {n:,} rows in {time.perf_counter() - began:.1f} s")
        conn.commit()
        began = time.perf_counter()
        for _, definition in later:
            conn.execute(definition)
        conn.commit()
        say(f"  {len(later)} indexes made in {time.perf_counter() - began:.1f} s")
        for model in models:
            if not isinstance(model._meta.primary_key, peewee.AutoField):
                continue
            table = model._meta.table_name
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('public.\"{table}\"', 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM public."{table}"), false)'
            )
        conn.commit()
    with psycopg.connect(admin, autocommit=True) as conn:
        began = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        say(f"  VACUUM ANALYZE in {time.perf_counter() - began:.1f} s")
    db.initialize(None)
    return counts


@contextmanager
def _paused_rollups(admin: str):
    """store.rollups.paused_rollups once the rollups exist: their triggers are dropped while
    the rows pour in, and every rollup is rebuilt on the way out."""
    try:
        from trustdesk.store.rollups import paused_rollups
    except ImportError:
        yield
        return
    from trustdesk.store.database import connect_server
    from trustdesk.store.models import db

    server = connect_server(admin)
    db.initialize(server)
    # As the admin role, as setup makes them: the triggers' functions are the admin's.
    server.execute_sql('SET ROLE "trustdesk_admin"')
    try:
        with paused_rollups(server):
            yield
    finally:
        server.close()


# --- measuring ------------------------------------------------------------------------------


def app_run(db: str, env: dict, scratch: Path, interactions: int) -> dict:
    out = scratch / f"app-{time.monotonic_ns()}.json"
    bench_child(["app", "--db", db, "--out", str(out), "--interactions", str(interactions)], env)
    data = json.loads(out.read_text())
    out.unlink()
    return data


# --- recording and explaining statements ---------------------------------------------------

WRITES = ("insert", "update", "delete", "set", "reset", "begin", "commit", "rollback",
          "savepoint", "release", "lock", "show", "create", "alter", "drop", "grant")  # fmt: skip


class Recorder:
    """Every statement a PostgreSQL database object runs, in order, with its parameters."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str, tuple]] = []
        self.phase = "start"
        self.lock = threading.Lock()

    def install(self) -> None:
        from trustdesk.store.database import PracticeServer

        original = PracticeServer.execute_sql
        recorder = self

        def execute_sql(database, sql, params=None, *args, **kwargs):
            with recorder.lock:
                recorder.statements.append((recorder.phase, sql, tuple(params or ())))
            return original(database, sql, params, *args, **kwargs)

        self._original = original
        PracticeServer.execute_sql = execute_sql

    def uninstall(self) -> None:
        from trustdesk.store.database import PracticeServer

        PracticeServer.execute_sql = self._original

    def distinct(self) -> list[dict]:
        """Each statement text once (the first parameters it ran with), in order."""
        seen, out = set(), []
        for phase, sql, params in self.statements:
            if sql in seen:
                continue
            seen.add(sql)
            out.append({"phase": phase, "sql": sql, "params": [_jsonable(p) for p in params]})
        return out


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return "<bytes>"
    return value


def is_query(sql: str) -> bool:
    word = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
    return word in ("select", "with") and " for update" not in sql.lower()


def explain_all(
    url: str, statements: list[dict], fenced: tuple[str, ...], before: tuple[str, ...] = ()
) -> list[dict]:
    """EXPLAIN each query as the coach the URL logs in as (explain_on), after the
    session settings in `before` (such as SET enable_seqscan = off)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in before:
            conn.execute(statement)
        return explain_on(conn, statements, fenced)


def explain_on(conn, statements: list[dict], fenced: tuple[str, ...]) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) each query on `conn`, each in a transaction
    (or savepoint) rolled back, and judge its plan (check_plan)."""
    import psycopg

    out = []
    for item in statements:
        if not is_query(item["sql"]):
            out.append(item | {"verdict": "skipped", "why": "not a query"})
            continue
        try:
            with conn.transaction(force_rollback=True):
                (plan,) = conn.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + item["sql"], item["params"]
                ).fetchone()
        except psycopg.Error as exc:
            out.append(item | {"verdict": "error", "why": str(exc).splitlines()[0]})
            continue
        verdict = check_plan(plan[0]["Plan"], fenced)
        timing = {"execution_ms": plan[0].get("Execution Time"), "plan": plan[0]["Plan"]}
        out.append(item | verdict | timing)
    return out


def _nodes(node: dict, parent: dict | None = None):
    yield node, parent
    for child in node.get("Plans", ()):
        yield from _nodes(child, node)


def _index_conds(node: dict) -> list[str]:
    """The index conditions that feed a scan: its own, or its bitmap index scans'."""
    conds = [node["Index Cond"]] if "Index Cond" in node else []
    if node.get("Node Type") == "Bitmap Heap Scan":
        for child, _ in _nodes(node):
            if child is not node and "Index Cond" in child:
                conds.append(child["Index Cond"])
    return conds


def check_plan(plan: dict, fenced: tuple[str, ...]) -> dict:
    """Whether every scan of a fenced table in `plan` (EXPLAIN's JSON) keeps the fence in
    the index: no Seq Scan, coach_id in an Index Cond of each scan (of each bitmap index
    scan under a bitmap heap scan), and no row removed by a filter of a scan that read
    outside the fence."""
    problems, scans = [], []
    for node, _ in _nodes(plan):
        relation = node.get("Relation Name")
        kind = node.get("Node Type", "")
        if relation not in fenced:
            continue
        conds = _index_conds(node)
        fenced_by_index = bool(conds) and all("coach_id" in c for c in conds)
        if kind == "Bitmap Heap Scan":
            bitmaps = [c for c, _ in _nodes(node) if c.get("Node Type") == "Bitmap Index Scan"]
            fenced_by_index = bool(bitmaps) and all(
                "coach_id" in c.get("Index Cond", "") for c in bitmaps
            )
        removed = node.get("Rows Removed by Filter", 0)
        scan = {
            "table": relation,
            "node": kind,
            "index": node.get("Index Name"),
            "index_cond": " AND ".join(conds),
            "filter": node.get("Filter"),
            "rows_removed_by_filter": removed,
            "fence_in_index": fenced_by_index,
        }
        scans.append(scan)
        if kind == "Seq Scan":
            problems.append(f"Seq Scan on {relation}")
        elif not fenced_by_index:
            problems.append(f"{kind} on {relation} without coach_id in its index condition")
            if removed:
                problems.append(f"{removed} rows of {relation} removed by a filter")
    # The policies find the coach's id by the login role (coach.db_role = current_user):
    # a lookup the fence itself makes, once per table in the statement.
    lookups = [
        {
            "node": node.get("Node Type"),
            "index": node.get("Index Name"),
            "rows_removed_by_filter": node.get("Rows Removed by Filter", 0),
        }
        for node, _ in _nodes(plan)
        if node.get("Relation Name") == "coach"
    ]
    return {
        "verdict": "fenced" if not problems else "FAILS",
        "problems": problems,
        "scans": scans,
        "coach_lookups": lookups,
        "coach_lookup_by_index": all(n["node"] != "Seq Scan" for n in lookups),
    }


_TABLE = re.compile(
    r'(FROM|JOIN) "(\w+)" AS "(\w+)"'
    r"(?: ON \((.*?)\)(?= LEFT| INNER| WHERE| GROUP| ORDER| LIMIT|\)|$))?"
)


def join_audit(sql: str, fenced: tuple[str, ...]) -> dict:
    """What a distributed PostgreSQL that places rows by coach_id would need of `sql`:
    the joins of fenced tables whose ON condition leaves coach_id out, and the fenced
    tables read without an explicit `coach_id = ...` (only the row-level policy fences
    them). Read from peewee's SQL text, so an approximation: aliases repeat across
    subqueries, and a table counts as filtered if its alias is filtered anywhere."""
    joins, unfiltered = [], []
    for keyword, table, alias, on in _TABLE.findall(sql):
        if table not in fenced:
            continue
        if keyword == "JOIN" and on and "coach_id" not in on:
            joins.append(f"{table} ON {on}")
        if not re.search(rf'"{alias}"\."coach_id" = ', sql):
            unfiltered.append(table)
    return {"joins_without_coach": joins, "tables_without_coach_filter": sorted(set(unfiltered))}


def child_explain(ns: argparse.Namespace) -> None:
    """Drive the dashboard (filter, page down, workspace) and run the report, recording
    every statement; then EXPLAIN each as the coach."""
    os.umask(0o077)
    import asyncio
    import contextlib
    import io

    import trustdesk.tui.app  # noqa: F401
    from trustdesk import config
    from trustdesk.config import Settings
    from trustdesk.store import current_coach, open_database

    recorder = Recorder()
    recorder.install()
    config.set_today(TODAY)
    database = open_database(ns.db)
    coach = current_coach()
    recorder.phase = "dashboard"
    result: dict = {}
    asyncio.run(bench.drive_dashboard(database, coach, 1, result))
    (connections,) = database.execute_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user"
    ).fetchone()
    database.close()
    recorder.phase = "report"
    from trustdesk.cli import main as cli_main

    with contextlib.redirect_stdout(io.StringIO()):
        code = cli_main(["--db", ns.db, "report", "--json"])
    if code:
        raise SystemExit(f"report failed with {code}")
    del Settings
    statements = recorder.distinct()
    explained = explain_all(ns.db, statements, FENCED)
    Path(ns.out).write_text(
        json.dumps(
            {
                "statements": explained,
                "executed": len(recorder.statements),
                "app_connections_seen": connections,
            }
        )
    )


# --- many coaches at once --------------------------------------------------------------------


def child_worker(ns: argparse.Namespace) -> None:
    """One coach's dashboard queries in a loop (and writes, for a writer), timed."""
    from trustdesk import config
    from trustdesk.config import Settings
    from trustdesk.store import current_coach, open_database
    from trustdesk.store.models import Client
    from trustdesk.trust import contact, promises, sessions
    from trustdesk.trust import dashboard as rules
    from trustdesk.trust.prompts import awaiting_reply

    config.set_today(TODAY)
    settings = Settings()
    database = open_database(ns.db)
    coach = current_coach()
    rng = random.Random(ns.worker_seed)
    ids = [i for (i,) in Client.select(Client.id).where(Client.coach == coach).tuples()]
    samples: dict[str, list[float]] = {}
    errors: list[str] = []

    def timed(kind: str, work, *args, **kwargs):
        began = time.perf_counter()
        try:
            work(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the loop goes on
            errors.append(f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return
        samples.setdefault(kind, []).append((time.perf_counter() - began) * 1000)

    def cadence_pane():
        every = contact.cadence(coach, TODAY)
        fell = contact.falls(coach, TODAY)
        awaiting_reply(coach, TODAY, count_only=True)
        window = [c.client_id for c in every if c.needs_contact][:20]
        contact.contact_by_week(coach, TODAY, window)
        return fell

    def overdue_pane():
        promises.count_overdue(coach, TODAY)
        promises.count_due_soon(coach, TODAY, settings.due_soon_days)
        promises.overdue_promises(coach, TODAY, limit=40, offset=0)

    deadline = time.monotonic() + ns.seconds
    written = 0
    while time.monotonic() < deadline:
        with database.connection_context():
            timed("summary", rules.summary, coach, TODAY, settings)
            timed("client_page", rules.client_page, coach, TODAY, limit=40)
            timed("page_down", rules.client_page, coach, TODAY, offset=40, limit=40)
            timed("filter", rules.client_page, coach, TODAY, name_filter=rng.choice("aeiou"))
            timed("overdue_pane", overdue_pane)
            timed("cadence_pane", cadence_pane)
            if ns.writer and ids:
                client = rng.choice(ids)
                kind = written % 3
                if kind == 0:
                    timed("write_touch", contact.log_touch, coach, client, channel="call",
                          direction="outbound", summary="checked in", occurred_on=TODAY,
                          today=TODAY)  # fmt: skip
                elif kind == 1:
                    timed("write_promise", promises.add_commitment, coach, client,
                          owner="coach", title="send the worksheet",
                          due_on=TODAY + dt.timedelta(days=7), promised_on=TODAY)  # fmt: skip
                else:
                    start = dt.datetime.combine(
                        TODAY + dt.timedelta(days=rng.randint(1, 60)), dt.time(9 + written % 8)
                    )
                    timed("write_session", sessions.schedule_session, coach, client, start=start)
                written += 1
        time.sleep(rng.uniform(0.5, 1.5) * ns.think)
    database.close()
    Path(ns.out).write_text(json.dumps({"samples": samples, "errors": errors}))


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def run_load(
    server: str, name: str, roles: list[str], watch: str, ns, env: dict, scratch: Path
) -> dict:
    """A worker per role at once for ns.load_seconds, one in five also writing (the first
    ones; `watch`, the measured coach, never writes); lock waits sampled from pg_locks."""
    import psycopg

    admin = pg_url(server, dbname=name)
    writers = max(1, len(roles) // 5)
    with psycopg.connect(admin, autocommit=True) as conn:
        before = conn.execute(
            "SELECT deadlocks, temp_files, temp_bytes, blks_hit, blks_read, xact_rollback "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        procs = []
        for i, role in enumerate(roles):
            out = scratch / f"worker-{i}.json"
            procs.append(
                (
                    out,
                    subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            "worker",
                            "--db",
                            pg_url(admin, user=role),
                            "--out",
                            str(out),
                            "--seconds",
                            str(ns.load_seconds),
                            "--think",
                            str(ns.think),
                            "--worker-seed",
                            str(i),
                            *(["--writer"] if i < writers and role != watch else []),
                        ],
                        env=env,
                        start_new_session=True,
                    ),  # fmt: skip
                )
            )
        waiting, peak_connections, samples = 0, 0, 0
        cpu_before = cpu_times()
        backend_kib: list[int] = []
        worker_kib: list[int] = []
        while any(p.poll() is None for _, p in procs):
            if samples % 20 == 10:  # every 5 s: private memory of backends and workers
                pids = [
                    pid
                    for (pid,) in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND usename <> current_user"
                    ).fetchall()
                ]
                backend_kib += [k for k in map(private_kib, pids) if k]
                worker_kib += [k for k in (private_kib(p.pid) for _, p in procs) if k]
            (waits,) = conn.execute(
                "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            ).fetchone()
            (connections,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND usename <> current_user"
            ).fetchone()
            waiting += waits
            samples += 1
            peak_connections = max(peak_connections, connections)
            time.sleep(0.25)
        cpu_after = cpu_times()
        after = conn.execute(
            "SELECT deadlocks, temp_files, temp_bytes, blks_hit, blks_read, xact_rollback "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        touch = conn.execute(
            "SELECT n_live_tup, n_dead_tup, last_autovacuum, last_autoanalyze "
            "FROM pg_stat_user_tables WHERE relname = 'touch'"
        ).fetchone()
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    watched: list[float] = []
    for (out, proc), role in zip(procs, roles, strict=True):
        if proc.returncode != 0 or not out.exists():
            errors.append(f"worker exited with {proc.returncode}")
            continue
        data = json.loads(out.read_text())
        errors += data["errors"]
        for kind, values in data["samples"].items():
            by_kind.setdefault(kind, []).extend(values)
            if role == watch and not kind.startswith("write"):
                watched.extend(values)
    dashboard = [v for k, vs in by_kind.items() if not k.startswith("write") for v in vs]
    writes = [v for k, vs in by_kind.items() if k.startswith("write") for v in vs]
    hit, read = after[3] - before[3], after[4] - before[4]
    return {
        "workers": len(roles),
        "writers": writers,
        "seconds": ns.load_seconds,
        "think_s": ns.think,
        "dashboard_queries": percentiles(dashboard),
        "watched_role": watch,
        "watched_dashboard_queries": percentiles(watched),
        "writes": percentiles(writes),
        "by_kind": {k: percentiles(v) for k, v in sorted(by_kind.items())},
        "errors": len(errors),
        "error_samples": errors[:10],
        "lock_wait_samples": waiting,
        "lock_samples_taken": samples,
        "deadlocks": after[0] - before[0],
        "temp_files": after[1] - before[1],
        "temp_bytes": after[2] - before[2],
        "buffer_hit_ratio": round(hit / (hit + read), 4) if hit + read else None,
        "rollbacks": after[5] - before[5],
        "peak_connections": peak_connections,
        "cpu_busy": round(
            1 - (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1]), 3
        ),
        "backend_private_mib_median": _median_mib(backend_kib),
        "worker_private_mib_median": _median_mib(worker_kib),
        "touch_table": {
            "live": touch[0],
            "dead": touch[1],
            "last_autovacuum": str(touch[2]),
            "last_autoanalyze": str(touch[3]),
        },
    }


def cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])


def private_kib(pid: int) -> int | None:
    """A process's private resident memory (RssAnon): what one more of it costs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _median_mib(values: list[int]) -> float | None:
    return round(statistics.median(values) / 1024, 1) if values else None


def many_coaches(server: str, name: str, target: str, ns, env: dict, scratch: Path) -> dict:
    """The measured coach's loop alone, then with ns.workers - 1 others drawn from the
    practice (the tail and the big alike)."""
    rng = random.Random(SEED)
    others = [role_name(i, False) for i in range(1, ns.coaches)]
    roles = rng.sample(others, min(ns.workers - 1, len(others))) + [target]
    say(f"the measured coach alone for {ns.load_seconds} s")
    single = run_load(server, name, [target], target, ns, env, scratch)
    say(f"{len(roles)} coaches at once for {ns.load_seconds} s")
    return {"single": single, "many": run_load(server, name, roles, target, ns, env, scratch)}


def server_settings(server: str) -> dict:
    import psycopg

    names = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
             "max_connections", "random_page_cost", "autovacuum_vacuum_scale_factor",
             "autovacuum_naptime", "log_lock_waits", "deadlock_timeout", "jit",
             "synchronous_commit", "fsync", "server_version")  # fmt: skip
    with psycopg.connect(server, autocommit=True) as conn:
        return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


# --- putting it together ------------------------------------------------------------------------


def summarise(samples: list[float]) -> dict:
    return bench.summarise(samples)


def evaluate(
    figures: dict, fence_ok: bool, load: dict | None, lookup_ok: bool = True
) -> list[dict]:
    targets = []

    def add(name, value, op, limit):
        met = value <= limit if op == "<=" else value >= limit
        targets.append(
            {"name": name, "value": round(value, 3), "limit": limit, "op": op, "met": bool(met)}
        )

    for figure in FIGURES:
        ours, alone = figures[f"{figure}_practice"]["median"], figures[f"{figure}_alone"]["median"]
        add(f"{figure.replace('_', ' ')} practice / alone", ours / alone, "<=", RATIO_LIMIT)
    for variant in ("practice", "alone"):
        add(
            f"first paint PostgreSQL ({variant}) / SQLite",
            figures[f"first_paint_{variant}"]["median"] / figures["first_paint_sqlite"]["median"],
            "<=",
            SQLITE_LIMIT,
        )
    add(FENCE_TARGET, 1.0 if fence_ok else 0.0, ">=", 1.0)
    add(LOOKUP_TARGET, 1.0 if lookup_ok else 0.0, ">=", 1.0)
    if load:
        single = load["single"]["watched_dashboard_queries"]["p95"]
        many = load["many"]["watched_dashboard_queries"]["p95"]
        add(f"dashboard query p95 of the coach, {load['many']['workers']} at once / alone",
            many / single, "<=", LOAD_LIMIT)  # fmt: skip
        add("errors under load", float(load["many"]["errors"]), "<=", 0.0)
    return targets


def print_table(figures: dict, targets: list[dict], out=sys.stdout) -> None:
    print(f"{'figure':<44} {'practice':>10} {'alone':>10} {'sqlite':>10}  (median)", file=out)
    for name, (unit, what) in FIGURES.items():
        cells = [f"{figures[f'{name}_{v}']['median']:>10,.1f}" for v in VARIANTS]
        print(f"{what + ' (' + unit + ')':<44} {' '.join(cells)}", file=out)
    print(file=out)
    print(f"{'target':<56} {'value':>8} {'limit':>8}  met", file=out)
    for t in targets:
        limit = f"{t['op']} {t['limit']:g}"
        print(f"{t['name']:<56} {t['value']:>8,.2f} {limit:>8}  {'yes' if t['met'] else 'NO'}",
              file=out)  # fmt: skip


def main_bench(ns: argparse.Namespace) -> int:
    os.umask(0o077)
    server = ns.pg or os.environ.get("TRUSTDESK_TEST_PG")
    if not server:
        raise SystemExit("bench_practice: name a PostgreSQL server with --pg or TRUSTDESK_TEST_PG")
    cache = bench.private_dir(
        Path(ns.cache) if ns.cache else Path(tempfile.gettempdir()) / "trustdesk-bench-practice"
    )
    home = bench.private_dir(cache / "home")
    scratch = bench.private_dir(cache / f"run-{os.getpid()}")
    env = bench.child_env(home)
    try:
        sizes = plan_coaches(ns.coaches, ns.clients, ns.big, SEED)
        started = time.perf_counter()
        templates = {size: ensure_template(cache, size, env) for size in sorted(set(sizes))}
        template_s = time.perf_counter() - started
        key = f"s{SEED}_k{ns.coaches}_c{ns.clients}_b{ns.big}"
        many_name, alone_name = f"bench_practice_{key}", f"bench_practice_alone_s{SEED}_b{ns.big}"
        many = ensure_pg_practice(server, many_name, sizes, templates, ns.rebuild)
        alone = ensure_pg_practice(server, alone_name, [ns.big], templates, ns.rebuild)
        target = many["target_role"]
        urls = {
            "practice": pg_url(server, dbname=many_name, user=target),
            "alone": pg_url(server, dbname=alone_name, user=target),
            "sqlite": str(templates[ns.big]),
        }
        if ns.load_only:
            load = many_coaches(server, many_name, target, ns, env, scratch)
            for label, data in load.items():
                print(f"{label}: " + json.dumps({k: v for k, v in data.items() if k != "by_kind"}))
            if ns.json:
                command = "python tests/perf/bench_practice.py " + " ".join(ns.argv)
                report = {"command": command, "server": server_settings(server), "load": load}
                Path(ns.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
            return 0
        samples: dict[str, list[float]] = {f"{f}_{v}": [] for f in FIGURES for v in VARIANTS}
        for i in range(ns.repeat):
            say(f"app runs {i + 1}/{ns.repeat}")
            for variant in VARIANTS:
                data = app_run(urls[variant], env, scratch, bench.INTERACTIONS_PER_CHILD)
                for figure in FIGURES:
                    if figure == "peak_rss":
                        samples[f"peak_rss_{variant}"].append(data["peak_rss_kib"] / 1024)
                    elif figure != "report":
                        samples[f"{figure}_{variant}"] += data.get(figure, [])
        say("trustdesk report --json")
        for _ in range(ns.repeat):
            for variant in VARIANTS:
                samples[f"report_{variant}"] += bench.time_report(urls[variant], env, 1)
        figures = {n: summarise(v) | {"unit": FIGURES[n.rsplit("_", 1)[0]][0]}
                   for n, v in samples.items()}  # fmt: skip

        say("recording and explaining every statement, as the coach")
        out = scratch / "explain.json"
        subprocess.run(
            [sys.executable, __file__, "--child", "explain", "--db", urls["practice"], "--out",
             str(out)], env=env, check=True, timeout=TIMEOUT, start_new_session=True,
        )  # fmt: skip
        explained = json.loads(out.read_text())
        judged = [s for s in explained["statements"] if s["verdict"] != "skipped"]
        failing = [s for s in judged if s["verdict"] != "fenced"]

        load = many_coaches(server, many_name, target, ns, env, scratch) if ns.workers else None
        lookup_ok = all(s.get("coach_lookup_by_index", True) for s in judged)
        targets = evaluate(figures, not failing, load, lookup_ok)
        report = {
            "command": "python tests/perf/bench_practice.py " + " ".join(ns.argv),
            "when": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": bench.machine(),
            "server": server_settings(server),
            "today": TODAY.isoformat(),
            "seed": SEED,
            "repeat": ns.repeat,
            "practices": {
                "practice": many,
                "alone": alone,
                "sqlite": {"path": urls["sqlite"], "clients": ns.big},
            },  # fmt: skip
            "template_seconds": round(template_s, 1),
            "figures": figures,
            "explain": {
                "executed": explained["executed"],
                "distinct": len(explained["statements"]),
                "explained": len(judged),
                "failing": len(failing),
                "app_connections_seen": explained["app_connections_seen"],
                "statements": [
                    {k: v for k, v in s.items() if k != "plan" or s["verdict"] == "FAILS"}
                    | join_audit(s["sql"], FENCED)
                    for s in explained["statements"]
                ],
            },
            "load": load,
            "targets": targets,
            "unmet": [t["name"] for t in targets if not t["met"]],
        }
        print_table(figures, targets)
        print(f"\nstatements explained: {len(judged)}, failing the fence check: {len(failing)}")
        for s in failing:
            print(f"  FAILS: {'; '.join(s['problems'])}: {s['sql'][:200]}")
        if load:
            for label, data in load.items():
                d, w = data["dashboard_queries"], data["writes"]
                t = data["watched_dashboard_queries"]
                print(f"load {label}: measured coach's dashboard p50/p95/p99 {t.get('p50')}/"
                      f"{t.get('p95')}/{t.get('p99')} ms (n={t['n']})")  # fmt: skip
                print(f"load {label}: {data['workers']} workers, dashboard p50/p95/p99 "
                      f"{d.get('p50')}/{d.get('p95')}/{d.get('p99')} ms (n={d['n']}), writes "
                      f"{w.get('p50')}/{w.get('p95')}/{w.get('p99')} ms (n={w['n']}), errors "
                      f"{data['errors']}, lock waits seen {data['lock_wait_samples']}, "
                      f"deadlocks {data['deadlocks']}")  # fmt: skip
        unmet = report["unmet"]
        print("\nall targets met" if not unmet else "\nunmet: " + "; ".join(unmet))
        if ns.json:
            Path(ns.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="the server (default: TRUSTDESK_TEST_PG)")
    parser.add_argument("--json", metavar="FILE", help="write the figures and targets here")
    parser.add_argument("--coaches", type=int, default=500)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=2000, help="clients of the measured coach")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--workers", type=int, default=40, help="coaches at once (0: none)")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=2.0, help="seconds between refreshes")
    parser.add_argument(
        "--load-only", action="store_true", help="only the many-coaches run (built practice)"
    )
    parser.add_argument("--cache", metavar="DIR", help="where the template files are kept")
    parser.add_argument("--rebuild", action="store_true", help="build the practices anew")
    parser.add_argument("--child", choices=("explain", "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-seed", type=int, default=0, help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    ns.argv = argv
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = parse(sys.argv[1:] if argv is None else argv)
    if ns.child == "explain":
        child_explain(ns)
    elif ns.child == "worker":
        child_worker(ns)
    else:
        return main_bench(ns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
