"""A shared practice on PostgreSQL, seen by a coach with psql: what the planner, the locks
and the roles could tell or let them do, and how a coach leaves the practice."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import peewee
import psycopg
import pytest
from helpers import one_line_error, pg_url

from trustdesk.store import Client, StoreError, open_database
from trustdesk.store.database import HISTORY_TABLE
from trustdesk.store.practice import (
    ADMIN_ROLE,
    COACH_ROLE,
    DELETE_FUNCTION,
    FENCED_TABLES,
    FREE_TEXT_COLUMN,
    add_coach,
    setup_practice,
)


@pytest.fixture
def server_role(pg_server_url):
    """Make a throwaway role on the server with the attributes given; dropped afterwards."""
    made: list[str] = []

    def make(attributes: str = "LOGIN", *, member_of: tuple[str, ...] = ()) -> str:
        role = f"cand_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" {attributes}')
            made.append(role)
            for parent in member_of:
                conn.execute(f'GRANT "{parent}" TO "{role}"')
        return role

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for role in made:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- 18: only a plain login role can be a coach -----------------------------------------


def _setup_again(pg_practice) -> None:
    """Run `practice setup` again, as its administrator, over the practice as it is now."""
    database = open_database(pg_practice.admin)
    try:
        setup_practice(database)
    finally:
        database.close()


@pytest.mark.parametrize(
    ("attributes", "member_of", "why"),
    [
        ("LOGIN CREATEROLE", (), "can create roles"),
        ("LOGIN CREATEDB", (), "can create databases"),
        ("LOGIN REPLICATION", (), "can stream replication"),
        ("LOGIN BYPASSRLS", (), "bypasses row-level security"),
        ("LOGIN", ("trustdesk_admin",), "member of trustdesk_admin"),
        ("LOGIN", ("pg_read_all_data",), "member of pg_read_all_data"),
        ("LOGIN", ("pg_monitor",), "member of pg_monitor"),
        ("NOLOGIN", (), "cannot log in"),
    ],
)
def test_add_coach_refuses_a_role_the_fences_would_not_hold(
    pg_practice, server_role, attributes, member_of, why
):
    role = server_role(attributes, member_of=member_of)
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match=why) as refused:
            add_coach(database, "Someone", role)
        assert "\n" not in str(refused.value)
        with psycopg.connect(pg_practice.admin) as conn:
            assert conn.execute("SELECT count(*) FROM coach WHERE db_role = %s",
                                (role,)).fetchone() == (0,)  # fmt: skip
            assert conn.execute(
                "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole"
                " AND roleid = 'trustdesk_coach'::regrole",
                (role,),
            ).fetchone() == (0,)
    finally:
        database.close()


def test_add_coach_refuses_built_in_roles_and_roles_others_can_become(pg_practice, server_role):
    other = server_role("LOGIN")
    shared = server_role("LOGIN")
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f'GRANT "{shared}" TO "{other}"')
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match="cannot log in"):
            add_coach(database, "Reader", "pg_read_all_data")
        with pytest.raises(StoreError, match=f"{other} can act as it"):
            add_coach(database, "Shared", shared)
    finally:
        database.close()


def test_add_coach_takes_a_plain_existing_login_role(pg_practice, server_role):
    role = server_role("LOGIN")
    database = open_database(pg_practice.admin)
    try:
        assert add_coach(database, "Plain", role).db_role == role
    finally:
        database.close()


# --- 17: no coach can hold the practice up ----------------------------------------------


def _setting(conn, name: str) -> str:
    return conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]


@pytest.fixture
def short_timeouts(monkeypatch):
    """Timeouts short enough to watch in a test; set before the practice is made."""
    from trustdesk.store import practice

    monkeypatch.setattr(
        practice,
        "COACH_SETTINGS",
        {
            "lock_timeout": "1s",
            "idle_in_transaction_session_timeout": "1s",
            "statement_timeout": "20s",
        },  # fmt: skip
    )


def test_every_coach_logs_in_with_the_practice_timeouts(pg_practice, server_role):
    from trustdesk.store.practice import COACH_SETTINGS

    role = server_role("LOGIN")
    database = open_database(pg_practice.admin)
    try:
        add_coach(database, "Plain", role)
    finally:
        database.close()
    for url in (pg_practice.ann, pg_practice.ben, pg_url(pg_practice.admin, user=role)):
        with psycopg.connect(url) as conn:
            for name, value in COACH_SETTINGS.items():
                shown = _setting(conn, name)
                with psycopg.connect(pg_practice.admin) as admin:
                    admin.execute(f"SET {name} = '{value}'")
                    assert shown == _setting(admin, name), (url, name)
                assert shown not in ("0", ""), (url, name)


def test_setup_gives_coaches_added_before_it_the_timeouts(pg_practice):
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{pg_practice.ann_role}" RESET ALL')
        conn.execute(f'ALTER ROLE "{pg_practice.ann_role}" IN DATABASE'
                     f' "{conn.info.dbname}" RESET ALL')  # fmt: skip
    _setup_again(pg_practice)
    with psycopg.connect(pg_practice.ann) as conn:
        assert _setting(conn, "lock_timeout") != "0"
        assert _setting(conn, "idle_in_transaction_session_timeout") != "0"


def test_a_coach_idle_in_a_transaction_is_ended_and_lets_go(short_timeouts, pg_practice):
    idle = psycopg.connect(pg_practice.ann)
    try:
        # Even a read holds back a schema change (and whatever queues behind it) until
        # its transaction ends.
        idle.execute("SELECT count(*) FROM client")
        time.sleep(2.5)
        with psycopg.connect(pg_practice.admin) as conn:
            conn.execute("SET lock_timeout = '1s'")
            conn.execute("LOCK TABLE client IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
            idle.execute("SELECT 1")
    finally:
        idle.close()


def test_a_table_locked_elsewhere_holds_trustdesk_up_no_longer_than_the_timeout(
    short_timeouts, pg_practice
):
    # Coaches cannot lock a table (below); the administrator's maintenance can.
    blocker = psycopg.connect(pg_practice.admin)
    try:
        blocker.execute("LOCK TABLE client IN ACCESS EXCLUSIVE MODE")
        database = open_database(pg_practice.ben)
        try:
            started = time.monotonic()
            with pytest.raises(peewee.OperationalError, match="lock timeout"):
                Client.select().count()
            assert time.monotonic() - started < 5
        finally:
            database.close()
    finally:
        blocker.close()


def test_a_command_held_up_by_a_lock_says_so_in_one_line(short_timeouts, pg_practice, run):
    blocker = psycopg.connect(pg_practice.admin)
    try:
        blocker.execute("LOCK TABLE client IN ACCESS EXCLUSIVE MODE")
        line = one_line_error(run("--db", pg_practice.ben, "report"))
    finally:
        blocker.close()
    assert "another session holds a lock" in line and "try again" in line
    assert "unexpected" not in line


def test_only_the_administrator_lists_or_removes_coaches(pg_practice, run):
    for args in (("list-coaches",), ("remove-coach", pg_practice.ann_role, "--yes")):
        line = one_line_error(run("--db", pg_practice.ben, "practice", *args))
        assert "the practice's administrator" in line, line


def test_an_advisory_lock_cannot_hold_up_another_coachs_join(pg_practice, isolated_home, today):
    from trustdesk.demo import DEMO_PASSPHRASE, DemoSize, build_demo
    from trustdesk.store.practice import join_practice
    from trustdesk.vault.vault import BroughtKey

    path = isolated_home / "ben.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=2))
    with psycopg.connect(pg_practice.admin) as conn:
        (ben_id,) = conn.execute(
            "SELECT id FROM coach WHERE db_role = %s", (pg_practice.ben_role,)
        ).fetchone()
    blocker = psycopg.connect(pg_practice.ann, autocommit=True)
    try:
        # Every key trustdesk has used for a coach's join, and the coach's id itself.
        for key in (0x7D_0000_0000 + ben_id, ben_id):
            blocker.execute("SELECT pg_advisory_lock(%s)", (key,))
        outcome: list[object] = []

        def join() -> None:
            database = open_database(pg_practice.ben)
            try:
                outcome.append(
                    join_practice(
                        database, path, lambda s: BroughtKey(s, passphrase=DEMO_PASSPHRASE)
                    ).clients
                )
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome.append(exc)
            finally:
                database.close()

        worker = threading.Thread(target=join, daemon=True)
        worker.start()
        worker.join(timeout=30)
        blocked = worker.is_alive()
    finally:
        blocker.close()
    worker.join(timeout=30)
    assert not blocked, "Ann's advisory lock held Ben's join up"
    assert outcome == [2]


def test_a_coach_cannot_create_large_objects(pg_practice):
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        for statement in (
            "SELECT lo_create(0)",
            "SELECT lo_creat(-1)",
            "SELECT lo_from_bytea(0, 'x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


# A coach may lock no table in any mode that holds another coach's reads or writes up
# (ROW SHARE and ROW EXCLUSIVE are what their own SELECT ... FOR UPDATE and writes take).
BLOCKING_LOCK_MODES = (
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)


def test_a_coach_cannot_lock_a_table_of_the_practice(pg_practice):
    with psycopg.connect(pg_practice.ann) as conn:
        for table in ("coach", HISTORY_TABLE, *FENCED_TABLES):
            for mode in BLOCKING_LOCK_MODES:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f'LOCK TABLE public."{table}" IN {mode} MODE')
                conn.rollback()


def test_a_coach_cannot_delete_with_plain_sql(pg_practice):
    _give_rows(pg_practice.ann, title="Mine", summary="mine", day="2026-03-16", count=1)
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        for table in ("coach", HISTORY_TABLE, *FENCED_TABLES):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'DELETE FROM public."{table}"')
        assert conn.execute("SELECT count(*) FROM touch").fetchone() == (1,)


def _rows_of_every_table(url: str) -> dict[str, list[tuple]]:
    """As the coach at `url` (or the admin): (id, version or None) of every row they see."""
    found = {}
    with psycopg.connect(url) as conn:
        for table in FENCED_TABLES:
            columns = {r[0] for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                (f"public.{table}",),
            )}  # fmt: skip
            version = "version" if "version" in columns else "NULL"
            found[table] = conn.execute(
                f'SELECT id, {version} FROM public."{table}" ORDER BY id'
            ).fetchall()
    return found


def _delete_as(conn, table: str, row_id, version=None) -> int:
    function = DELETE_FUNCTION.format(table=table)
    if version is None:
        return conn.execute(f"SELECT public.{function}(%s)", (row_id,)).fetchone()[0]
    return conn.execute(f"SELECT public.{function}(%s, %s)", (row_id, version)).fetchone()[0]


def test_the_delete_functions_take_the_coachs_own_rows_and_never_another_coachs(
    pg_practice, isolated_home, today
):
    from trustdesk.demo import DEMO_PASSPHRASE, DemoSize, build_demo
    from trustdesk.store.practice import join_practice
    from trustdesk.vault.vault import BroughtKey

    path = isolated_home / "demo.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=3))
    for url in (pg_practice.ann, pg_practice.ben):
        database = open_database(url)
        try:
            join_practice(database, path, lambda s: BroughtKey(s, passphrase=DEMO_PASSPHRASE))
        finally:
            database.close()
        _give_rows(url, title="An outcome", summary="", day=BEN_DAY, count=1)  # the demo's few
        with psycopg.connect(url, autocommit=True) as conn:  # a calendar sync's mark
            conn.execute(
                "INSERT INTO calendar_source (coach_id, path, mark)"
                " SELECT id, '/home/c/.calendars/work', '{}' FROM coach"
            )
    # Join gives notes new ids; Ben gives one of his the id of one of Ann's notes.
    with psycopg.connect(pg_practice.ann) as conn:
        (anns_note,) = conn.execute("SELECT min(id::text) FROM note").fetchone()
    with psycopg.connect(pg_practice.ben, autocommit=True) as conn:
        conn.execute(
            "UPDATE note SET id = %s WHERE id = (SELECT min(id::text) FROM note)::uuid",
            (anns_note,),
        )
    bens = _rows_of_every_table(pg_practice.ben)
    anns = _rows_of_every_table(pg_practice.ann)
    assert all(bens[table] for table in FENCED_TABLES), bens
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        for table, rows in bens.items():
            own = {row_id for row_id, _ in anns[table]}
            for row_id, version in rows:
                if row_id in own:
                    continue  # the same note id in both shares: covered below
                # Ben's row, with or without its version, reads as a row that is not there.
                assert _delete_as(conn, table, row_id) == 0, table
                if version is not None:
                    assert _delete_as(conn, table, row_id, version) == 0, table
        assert _delete_as(conn, "note", uuid.uuid4()) == 0
    # The same note id in both shares: Ann's call takes her note and leaves Ben's.
    shared = sorted({r[0] for r in anns["note"]} & {r[0] for r in bens["note"]})
    assert shared
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        assert _delete_as(conn, "note", shared[0], 99) == 0  # not at that version
        assert _delete_as(conn, "note", shared[0]) == 1
        assert _delete_as(conn, "touch", anns["touch"][0][0], anns["touch"][0][1]) == 1
        # A client goes with everything that is only about them (ON DELETE CASCADE).
        assert _delete_as(conn, "client", anns["client"][0][0]) == 1
    assert _rows_of_every_table(pg_practice.ben) == bens
    with psycopg.connect(pg_practice.admin) as conn:
        (ben_id,) = conn.execute(
            "SELECT id FROM coach WHERE db_role = %s", (pg_practice.ben_role,)
        ).fetchone()
        assert conn.execute(
            "SELECT count(*) FROM note WHERE id = %s AND coach_id = %s", (shared[0], ben_id)
        ).fetchone() == (1,)


def test_delete_rows_as_a_coach_takes_nothing_of_another_coach(pg_practice):
    from trustdesk.store.models import Commitment, Touch
    from trustdesk.store.practice import delete_rows

    ben = _give_rows(pg_practice.ben, title="Ben's", summary="Ben called", day=BEN_DAY, count=1)
    ann = _give_rows(pg_practice.ann, title="Ann's", summary="Ann called", day=BEN_DAY, count=1)
    with psycopg.connect(pg_practice.admin) as conn:
        (ben_touch,) = conn.execute(
            "SELECT id FROM touch WHERE coach_id = %s", (ben["coach"],)
        ).fetchone()
    database = open_database(pg_practice.ann)
    try:
        assert delete_rows(Touch, Touch.id == ben_touch) == 0
        assert delete_rows(Touch, (Touch.id == ben_touch) & (Touch.coach == ben["coach"])) == 0
        assert (
            delete_rows(Commitment, Commitment.id == ann["promise"], Commitment.version == 2) == 0
        )
        assert delete_rows(Commitment, (Commitment.id == ann["promise"]) & True) == 1
    finally:
        database.close()
    with psycopg.connect(pg_practice.ben) as conn:
        assert conn.execute("SELECT count(*) FROM touch").fetchone() == (1,)


def test_only_coaches_may_call_the_delete_functions(pg_practice, server_role):
    stranger = server_role("LOGIN")
    with psycopg.connect(pg_url(pg_practice.admin, user=stranger), autocommit=True) as conn:
        for table in FENCED_TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                _delete_as(conn, table, 1 if table not in ("note", "key_slot") else uuid.uuid4())


def test_setup_takes_delete_from_coaches_of_a_practice_set_up_before(pg_practice):
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f"SET ROLE {ADMIN_ROLE}")
        for table in FENCED_TABLES:
            conn.execute(f'GRANT DELETE ON public."{table}" TO {COACH_ROLE}')
    _setup_again(pg_practice)
    with psycopg.connect(pg_practice.ann) as conn:
        for table in FENCED_TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'LOCK TABLE public."{table}" IN ACCESS EXCLUSIVE MODE')
            conn.rollback()


# --- 15, 16: what the planner tells one coach about another's rows ------------------------

BEN_DAY = "2027-07-07"  # a date only Ben's rows carry
BEN_TITLE = "Call the insurer about Mira"


def _give_rows(
    url: str, *, title: str, summary: str, day: str, count: int, client: int | None = None
) -> dict:
    """As the coach at `url`: a client (new, or the one given) with `count` more promises,
    touches and outcomes."""
    with psycopg.connect(url, autocommit=True) as conn:
        (coach,) = conn.execute("SELECT id FROM coach").fetchone()
        if client is None:
            (client,) = conn.execute(
                "INSERT INTO client (coach_id, name, sort_name, email, phone, status,"
                " started_on, ideal_gap_days, max_gap_days, reference_consent, created_at,"
                " uid) VALUES (%s, %s, %s, '', '', 'active', %s, 7, 21, false, now(),"
                " gen_random_uuid()) RETURNING id",
                (coach, f"{title} client", title.lower(), day),
            ).fetchone()
        conn.execute(
            "INSERT INTO commitment (coach_id, client_id, owner, title, promised_on, due_on,"
            " status, reason, version) SELECT %s, %s, 'coach', %s, %s::date, %s::date, 'open',"
            " '', 1 FROM generate_series(1, %s)",
            (coach, client, title, day, day, count),
        )
        conn.execute(
            "INSERT INTO touch (coach_id, client_id, occurred_on, channel, direction,"
            " counts_for_cadence, summary, version) SELECT %s, %s, %s::date, 'call',"
            " 'outbound', true, %s, 1 FROM generate_series(1, %s)",
            (coach, client, day, summary, count),
        )
        conn.execute(
            "INSERT INTO outcome (coach_id, client_id, achieved_on, title, detail, version)"
            " SELECT %s, %s, %s::date, %s, '', 1 FROM generate_series(1, %s)",
            (coach, client, day, title, count),
        )
        conn.execute(  # what mail sync read (schema 0016): one source per title
            "INSERT INTO mail_source (coach_id, path, mark, read_at) VALUES (%s, %s, '{}',"
            " now()) ON CONFLICT DO NOTHING",
            (coach, f"/home/{title}/Maildir"),
        )
        (promise,) = conn.execute(
            "SELECT max(id) FROM commitment WHERE client_id = %s", (client,)
        ).fetchone()
    return {"coach": coach, "client": client, "promise": promise}


def _analyze(pg_practice) -> None:
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute("ANALYZE")


def _estimate(conn, query: str, params: tuple = ()) -> float:
    ((plan,),) = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", params).fetchall()
    return plan[0]["Plan"]["Plan Rows"]


def _fenced_columns(conn) -> list[tuple[str, str, int]]:
    """(table, column, statistics target) of every free-text column of every fenced table
    that is not a key (in a primary or foreign key, or what a policy keys on)."""
    return conn.execute(
        "SELECT c.relname, a.attname, a.attstattarget FROM pg_class AS c"
        " JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'public'"
        " JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0"
        " AND NOT a.attisdropped WHERE c.relkind = 'r' AND c.relrowsecurity"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = c.oid"
        " AND k.contype IN ('p', 'f') AND a.attnum = ANY (k.conkey))"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_policy'::regclass"
        " AND d.refobjid = c.oid AND d.refobjsubid = a.attnum)"
        f" AND ({FREE_TEXT_COLUMN}) ORDER BY 1, 2"
    ).fetchall()


def test_the_planner_keeps_no_statistics_of_what_coaches_wrote(pg_practice):
    _give_rows(pg_practice.ann, title="Send Ann's worksheet", summary="Ann called",
               day="2026-03-16", count=20)  # fmt: skip
    _give_rows(pg_practice.ben, title=BEN_TITLE, summary="Ben heard about the divorce",
               day=BEN_DAY, count=300)  # fmt: skip
    _analyze(pg_practice)
    with psycopg.connect(pg_practice.ann) as conn:
        probes = [
            ("SELECT * FROM commitment WHERE title = %s", BEN_TITLE, "Nothing like it at all"),
            ("SELECT * FROM commitment WHERE title >= %s AND title < 'Cam'", "Cal", "Caa"),
            ("SELECT * FROM touch WHERE summary = %s", "Ben heard about the divorce", "Zzz"),
            ("SELECT * FROM outcome WHERE title = %s", BEN_TITLE, "Nothing like it at all"),
            ("SELECT * FROM client WHERE sort_name = %s", BEN_TITLE.lower(), "nobody"),
        ]
        for query, bens, nobodys in probes:
            assert _estimate(conn, query, (bens,)) == _estimate(conn, query, (nobodys,)), query
    with psycopg.connect(pg_practice.admin) as conn:
        columns = _fenced_columns(conn)
        assert {(t, c) for t, c, _ in columns} >= {
            ("commitment", "title"), ("touch", "summary"), ("outcome", "title"),
            ("client", "name"), ("note", "body_sealed"), ("client", "email"),
            ("key_slot", "key_id"), ("coach", "name"), ("prompt", "body"),
        }  # fmt: skip
        # Choices keep theirs: they tell only how the practice divides among a few values.
        assert not {(t, c) for t, c, _ in columns} & {("session", "status"), ("touch", "channel")}
        assert [(t, c) for t, c, target in columns if target != 0] == []
        kept = conn.execute(
            "SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public'"
            " AND (most_common_vals IS NOT NULL OR histogram_bounds IS NOT NULL)"
        ).fetchall()
        assert not {(t, c) for t, c in kept} & {(t, c) for t, c, _ in columns}


def test_setup_drops_statistics_gathered_before_it(pg_practice):
    _give_rows(pg_practice.ben, title=BEN_TITLE, summary="x", day=BEN_DAY, count=50)
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute("ALTER TABLE commitment ALTER COLUMN title SET STATISTICS -1")
        conn.execute("ANALYZE commitment")
        assert conn.execute("SELECT most_common_vals::text FROM pg_stats"
                            " WHERE tablename = 'commitment' AND attname = 'title'"
                            ).fetchone() == (f"{{\"{BEN_TITLE}\"}}",)  # fmt: skip
    _setup_again(pg_practice)
    _analyze(pg_practice)
    with psycopg.connect(pg_practice.admin) as conn:
        assert conn.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'commitment'"
                            " AND attname = 'title'").fetchone() == (0,)  # fmt: skip


def test_every_index_of_a_fenced_table_leads_with_the_coach(pg_practice):
    with psycopg.connect(pg_practice.admin) as conn:
        leading = conn.execute(
            "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index AS i"
            " JOIN pg_class AS c ON c.oid = i.indrelid AND c.relrowsecurity"
            " JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'public'"
            " LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE c.relname <> 'coach'"
        ).fetchall()
    assert len(leading) > 20
    assert [name for name, first in leading if first != "coach_id"] == []
    with psycopg.connect(pg_practice.admin) as conn:
        twice = conn.execute(
            "SELECT indrelid::regclass::text, indkey::text FROM pg_index"
            " WHERE indrelid::regclass::text = ANY (%s)"
            " GROUP BY 1, 2, indpred::text HAVING count(*) > 1",
            (list(FENCED_TABLES),),
        ).fetchall()
    assert twice == []  # and no two indexes on the same columns


INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def _index_reads(plan: dict) -> tuple[int, list[str]]:
    """Rows that scans other than a whole-table one read and then dropped, anywhere in a
    plan, and the index conditions that did not name the coach."""
    removed, unfenced = 0, []
    if plan["Node Type"] != "Seq Scan" and (
        plan["Node Type"] not in INDEX_SCANS[:2] or "Index Cond" in plan
    ):
        removed += plan.get("Rows Removed by Filter", 0)
        removed += plan.get("Rows Removed by Index Recheck", 0)
    cond = plan.get("Index Cond")
    # The fence's own lookup, the coach row of the role logged in (by a unique index on
    # the role), reads that one row; every other index read must name the coach.
    own_coach = plan.get("Relation Name") == "coach" and "db_role" in (cond or "")
    if plan["Node Type"] in INDEX_SCANS and cond and "coach_id" not in cond and not own_coach:
        unfenced.append(f"{plan['Index Name']}: {cond}")
    for child in plan.get("Plans", []):
        more, others = _index_reads(child)
        removed, unfenced = removed + more, unfenced + others
    return removed, unfenced


def _explain_analyze(conn, query: str, params) -> tuple[int, list[str]]:
    ((plan,),) = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", params).fetchall()
    return _index_reads(plan[0]["Plan"])


def _dashboard_queries(url: str) -> list[tuple[str, tuple]]:
    """The statements the dashboard, the client list and the report run, as the coach."""
    from trustdesk import config
    from trustdesk.store import current_coach
    from trustdesk.trust.dashboard import client_page, summary
    from trustdesk.trust.report import build_report

    database = open_database(url)
    seen: list[tuple[str, tuple]] = []
    original = database.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((sql, tuple(params or ())))
        return original(sql, params, *args, **kwargs)

    try:
        coach = current_coach()
        day = dt.date(2026, 3, 16)
        database.execute_sql = recording
        summary(coach, day, config.load_settings())
        client_page(coach, day)
        for sort in ("contact", "promises", "next_session"):
            client_page(coach, day, sort=sort, name_filter="a")
        build_report(coach, day, config.load_settings())
    finally:
        database.execute_sql = original
        database.close()
    return seen


def test_explain_analyze_counts_no_rows_of_another_coach(pg_practice, today):
    _give_rows(pg_practice.ann, title="Send Ann's worksheet", summary="Ann called",
               day="2026-03-10", count=30)  # fmt: skip
    ben = _give_rows(pg_practice.ben, title=BEN_TITLE, summary="Ben called", day="2026-03-10",
                     count=1)  # fmt: skip
    queries = _dashboard_queries(pg_practice.ann)
    assert len(queries) >= 5
    # What a prying coach would try: the indexed columns, with Ben's ids and dates.
    queries += [
        ("SELECT * FROM touch WHERE client_id = %s", (ben["client"],)),
        (
            "SELECT * FROM touch WHERE client_id = %s AND occurred_on = %s::date",
            (ben["client"], "2026-03-10"),
        ),  # fmt: skip
        ("SELECT * FROM commitment WHERE client_id = %s AND status = 'open'", (ben["client"],)),
        ("SELECT * FROM commitment WHERE id = %s", (ben["promise"],)),
        ("SELECT * FROM commitment WHERE due_on = %s::date", ("2026-03-10",)),
        ("SELECT * FROM outcome WHERE client_id = %s", (ben["client"],)),
        ("SELECT * FROM client WHERE id = %s", (ben["client"],)),
        ("SELECT * FROM note WHERE client_id = %s", (ben["client"],)),
        ("SELECT * FROM session WHERE client_id = %s", (ben["client"],)),
        ("SELECT count(*) FROM touch WHERE occurred_on > %s::date", ("2026-01-01",)),
    ]

    _give_rows(pg_practice.ben, title=BEN_TITLE, summary="Ben called", day="2026-03-10",
               count=400, client=ben["client"])  # fmt: skip
    _analyze(pg_practice)
    with psycopg.connect(pg_practice.ann) as conn:
        (anns,) = conn.execute(
            "SELECT (SELECT count(*) FROM client) + (SELECT count(*) FROM touch)"
            " + (SELECT count(*) FROM commitment) + (SELECT count(*) FROM outcome)"
        ).fetchone()
        for setting in ("enable_seqscan", "enable_indexscan", "enable_bitmapscan"):
            conn.execute(f"SET {setting} = off")  # as a prying coach would
            for sql, params in queries:
                removed, unfenced = _explain_analyze(conn, sql, params)
                # Ben's 400 rows are never read: the index scans see Ann's rows alone.
                assert unfenced == [], (setting, sql)
                assert removed <= anns, (setting, sql)
            conn.execute(f"RESET {setting}")


def test_a_note_id_another_coach_holds_tells_nothing(
    pg_practice, isolated_home, run, today, demo_passphrase_file
):
    """Keys lead with the coach: a coach who gives a note of their own an id another coach
    holds is not refused, where a refusal would tell them that someone holds that note."""
    from trustdesk.demo import DemoSize, build_demo

    path = isolated_home / "demo.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=4))
    join = ("practice", "join", str(path), "--passphrase-file", str(demo_passphrase_file))
    for url in (pg_practice.ann, pg_practice.ben):
        result = run("--db", url, *join)
        assert result.returncode == 0, result.stderr.decode()
    with psycopg.connect(pg_practice.admin) as conn:
        (anns,) = conn.execute(
            "SELECT n.id FROM note n JOIN coach c ON c.id = n.coach_id WHERE c.db_role = %s"
            " LIMIT 1",
            (pg_practice.ann_role,),
        ).fetchone()
    with psycopg.connect(pg_practice.ben, autocommit=True) as conn:
        (bens,) = conn.execute("SELECT id FROM note LIMIT 1").fetchone()
        moved = conn.execute("UPDATE note SET id = %s WHERE id = %s", (anns, bens))
        assert moved.rowcount == 1
    with psycopg.connect(pg_practice.admin) as conn:
        assert conn.execute(
            "SELECT count(DISTINCT coach_id) FROM note WHERE id = %s", (anns,)
        ).fetchone() == (2,)


# --- 19: a coach leaves the practice --------------------------------------------------


def test_remove_coach_keeps_their_share_in_a_private_file_and_frees_the_role(
    pg_practice, isolated_home, run, today
):
    import os
    import sqlite3
    import stat

    from helpers import PASSPHRASE
    from test_practice_pg import fill

    from trustdesk.store import current_coach
    from trustdesk.trust.notes import read_note
    from trustdesk.vault import Vault

    fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    dest = isolated_home / "ben-leaving.sqlite3"
    # Without --yes and with no terminal to ask at, nothing happens.
    refused = run("--db", pg_practice.admin, "practice", "remove-coach",
                  pg_practice.ben_role, "--output", str(dest))  # fmt: skip
    assert "add --yes" in one_line_error(refused)
    assert not dest.exists()
    result = run("--db", pg_practice.admin, "practice", "remove-coach", pg_practice.ben_role,
                 "--output", str(dest), "--yes")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    said = result.stderr.decode()
    assert str(dest) in said and "1 client and 1 note," in said
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT name FROM client").fetchall() == [("Ben's client",)]
        assert conn.execute("SELECT count(*) FROM coach").fetchone() == (1,)
    # The notes open from the file with Ben's passphrase, as they did in the practice.
    database = open_database(dest)
    try:
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase(PASSPHRASE).unlocked
        assert read_note(vault, ben["note"]).body == "What Ben's client confided."
    finally:
        database.close()
    with psycopg.connect(pg_practice.admin) as conn:
        for table in ("client", "touch", "commitment", "note", "key_slot"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE coach_id = %s",
                                (ben["coach"],)).fetchone() == (0,), table  # fmt: skip
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (1,)  # Ann's
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with psycopg.connect(pg_practice.ben) as conn:
            conn.execute("SELECT * FROM client")
    # The same role added again starts from an empty share.
    again = run("--db", pg_practice.admin, "practice", "add-coach", "Ben Again",
                "--role", pg_practice.ben_role)  # fmt: skip
    assert again.returncode == 0, again.stderr.decode()
    with psycopg.connect(pg_practice.ben) as conn:
        for table in ("client", "touch", "commitment", "note", "key_slot"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_remove_coach_never_writes_through_a_link_or_over_a_file(pg_practice, isolated_home, run):
    from test_practice_pg import fill

    fill(pg_practice.ben, "Ben")
    target = isolated_home / "elsewhere.txt"
    target.write_text("keep me")
    link = isolated_home / "link.sqlite3"
    link.symlink_to(target)
    for dest in (link, target):
        args = ("practice", "remove-coach", pg_practice.ben_role, "--output", str(dest), "--yes")
        line = one_line_error(run("--db", pg_practice.admin, *args))
        assert "nothing was removed" in line
    assert target.read_text() == "keep me"
    with psycopg.connect(pg_practice.ben) as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (1,)


def test_remove_coach_names_a_role_that_is_not_a_coach(pg_practice, run):
    line = one_line_error(
        run("--db", pg_practice.admin, "practice", "remove-coach", "nobody_here", "--yes")
    )
    assert "nobody_here is not a coach of this practice" in line


def test_list_coaches(pg_practice, run):
    import json

    from test_practice_pg import fill

    fill(pg_practice.ann, "Ann")
    result = run("--db", pg_practice.admin, "practice", "list-coaches", "--json")
    assert result.returncode == 0, result.stderr.decode()
    listed = {c["role"]: c for c in json.loads(result.stdout)}
    assert listed[pg_practice.ann_role]["name"] == "Morgan Reyes"
    assert listed[pg_practice.ann_role]["clients"] == 1
    assert listed[pg_practice.ben_role]["clients"] == 0
    assert listed[pg_practice.ben_role]["can_log_in"] is True
    text = run("--db", pg_practice.admin, "practice", "list-coaches")
    assert text.returncode == 0
    lines = text.stdout.decode().splitlines()
    assert any(pg_practice.ann_role in line and "Morgan Reyes" in line for line in lines)
