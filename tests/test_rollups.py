"""The per-client rollups (store.rollups): kept current by the database in the same
transaction as every write, equal to what the rows say after any sequence of writes,
read by the dashboard exactly as the rows would be, checked and rebuilt by `doctor`."""

from __future__ import annotations

import datetime as dt
import json
import threading
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from trustdesk.store import db
from trustdesk.store.models import Client, ClientRollup, Commitment, Session, Touch
from trustdesk.store.rollups import (
    has_triggers,
    rebuild_own_rollups,
    rebuild_rollups,
    rollup_drift,
)
from trustdesk.store.states import CadenceState
from trustdesk.trust import clients, contact, dashboard, promises, sessions
from trustdesk.trust.common import ActionError

DAY = dt.date(2026, 3, 16)


def drift():
    return rollup_drift(db.obj, None)


def own_drift(coach):
    return rollup_drift(db.obj, coach.id)


def new_client(coach, name: str) -> int:
    started = DAY - dt.timedelta(days=60)
    return clients.add_client(coach, name, started_on=started, today=DAY).client_id


# --- the property: any writes, the rollups equal the rows ------------------------------------

OPS = st.sampled_from(
    [
        "touch",
        "edit_touch",
        "remove_touch",
        "promise",
        "done",
        "drop",
        "renegotiate",
        "schedule",
        "held",
        "no_show",
        "late_cancel_by_coach",
        "cancel",
        "reschedule",
        "delete_session",
        "delete_client",
        "new_client",
    ]
)
STEP = st.tuples(OPS, st.integers(0, 50), st.integers(-40, 20), st.booleans())


def _pick(rows: list[int], n: int) -> int | None:
    return rows[n % len(rows)] if rows else None


def _apply(coach, op: str, n: int, offset: int, flag: bool) -> None:
    day = DAY + dt.timedelta(days=min(offset, 0))  # touches cannot be in the future
    when = dt.datetime.combine(DAY + dt.timedelta(days=offset), dt.time(10, 0))
    ids = [c for (c,) in Client.select(Client.id).where(Client.coach == coach).tuples()]
    cid = _pick(ids, n)
    touches = [t for (t,) in Touch.select(Touch.id).where(Touch.coach == coach).tuples()]
    kept = [s for (s,) in Session.select(Session.id).where(Session.coach == coach).tuples()]
    open_ = [
        p
        for (p,) in Commitment.select(Commitment.id)
        .where((Commitment.coach == coach) & (Commitment.status == "open"))
        .tuples()
    ]
    if op == "new_client" or cid is None:
        new_client(coach, f"Client {len(ids) + 1} {n}")
    elif op == "touch":
        contact.log_touch(coach, cid, channel="call", direction="inbound" if flag else "outbound",
                          summary="", occurred_on=day, today=DAY,
                          counts_for_cadence=flag or n % 3 != 0)  # fmt: skip
    elif op == "edit_touch" and touches:
        contact.edit_touch(coach, _pick(touches, n), channel="email",
                           direction="outbound" if flag else "inbound", summary="",
                           occurred_on=day, today=DAY, counts_for_cadence=not flag)  # fmt: skip
    elif op == "remove_touch" and touches:
        contact.remove_touch(coach, _pick(touches, n))
    elif op == "promise":
        owner = "client" if flag else "coach"
        due, promised = DAY + dt.timedelta(days=offset), DAY + dt.timedelta(days=min(offset, 0) - 1)
        promises.add_commitment(coach, cid, owner=owner, title="Call", due_on=due,
                                promised_on=promised)  # fmt: skip
    elif op == "done" and open_:
        promises.mark_done(coach, _pick(open_, n), DAY)
    elif op == "drop" and open_:
        promises.drop(coach, _pick(open_, n), "no longer", DAY)
    elif op == "renegotiate" and open_:
        promises.renegotiate(coach, _pick(open_, n), DAY + dt.timedelta(days=abs(offset) + 1), DAY)
    elif op == "schedule":
        sessions.schedule_session(coach, cid, start=when)
    elif op in ("held", "no_show", "cancel") and kept:
        status = {"held": "held", "no_show": "no_show", "cancel": "cancelled"}[op]
        by = "client" if op == "cancel" else None
        sessions.set_session_status(coach, _pick(kept, n), status, cancelled_by=by)
    elif op == "late_cancel_by_coach" and kept:
        sessions.set_session_status(coach, _pick(kept, n), "late_cancel",
                                    cancelled_by="coach" if flag else "client")  # fmt: skip
    elif op == "reschedule" and kept:
        sessions.reschedule_session(coach, _pick(kept, n), start=when, duration_minutes=60)
    elif op == "delete_session" and kept:
        from trustdesk.store.practice import delete_rows

        with db.atomic():
            delete_rows(Session, Session.id == _pick(kept, n), Session.coach == coach)
    elif op == "delete_client" and len(ids) > 1:
        name = Client.get_by_id(cid).name
        clients.delete_client(coach, cid, name)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_after_any_writes_every_rollup_equals_what_the_rows_say(coach, steps):
    if not Client.select().where(Client.coach == coach).exists():
        new_client(coach, "First")
    for op, n, offset, flag in steps:
        try:
            _apply(coach, op, n, offset, flag)
        except ActionError:
            pass  # a refused write writes nothing; the rollups must still hold
        assert own_drift(coach) == [], (op, n, offset, flag)


# --- reading: exactly what the rows would say ---------------------------------------------


def test_a_touch_dated_after_today_does_not_make_a_client_look_fine(coach):
    cid = new_client(coach, "Ann Early")
    contact.log_touch(coach, cid, channel="call", direction="inbound", summary="",
                      occurred_on=DAY - dt.timedelta(days=30), today=DAY)  # fmt: skip
    # Written for a later day (a fixed --today in the past reading it, or a typo).
    later = DAY + dt.timedelta(days=5)
    contact.log_touch(coach, cid, channel="call", direction="inbound", summary="",
                      occurred_on=later, today=later)  # fmt: skip
    (rollup,) = ClientRollup.select().where(ClientRollup.client == cid)
    assert rollup.last_touch_on == DAY + dt.timedelta(days=5)  # kept day-free
    (row,) = dashboard.client_page(coach, DAY).rows
    assert row.last_touch_on == DAY - dt.timedelta(days=30)  # read from the touches
    (c,) = contact.cadence(coach, DAY)
    assert (c.last_touch_on, c.last_inbound_on) == ((DAY - dt.timedelta(days=30)),) * 2


def test_a_session_awaiting_its_outcome_is_not_the_next_one(coach):
    cid = new_client(coach, "Ben Waiting")
    past = dt.datetime.combine(DAY - dt.timedelta(days=2), dt.time(9, 0))
    coming = dt.datetime.combine(DAY + dt.timedelta(days=3), dt.time(9, 0))
    sessions.schedule_session(coach, cid, start=past)
    sessions.schedule_session(coach, cid, start=coming)
    (rollup,) = ClientRollup.select().where(ClientRollup.client == cid)
    assert rollup.next_session_at == past
    (row,) = dashboard.client_page(coach, DAY).rows
    assert row.next_session == coming


def test_a_client_whose_rollup_went_missing_still_shows_from_the_rows(coach, database):
    cid = new_client(coach, "Cleo Lost")
    contact.log_touch(coach, cid, channel="call", direction="outbound", summary="",
                      occurred_on=DAY - dt.timedelta(days=3), today=DAY)  # fmt: skip
    promises.add_commitment(coach, cid, owner="coach", title="Send notes", due_on=DAY,
                            promised_on=DAY)  # fmt: skip
    if "Server" in type(database).__name__:
        pytest.skip("a coach cannot delete a rollup on a practice")
    ClientRollup.delete().where(ClientRollup.client == cid).execute()
    (row,) = dashboard.client_page(coach, DAY).rows
    assert (row.name, row.last_touch_on, row.open_promises) == (
        "Cleo Lost", DAY - dt.timedelta(days=3), 1)  # fmt: skip
    assert [d.column for d in own_drift(coach)] == ["row"]
    rebuild_own_rollups(db.obj, coach.id)
    assert own_drift(coach) == []


def test_the_dashboard_reads_the_rollups_not_the_history(coach, database):
    """The client page and the counts ask the touch table nothing when no touch is dated
    after today: proven by making every touch unreadable to the query (a wrong rollup
    shows through), on a file where the rollup can be written by hand."""
    if "Server" in type(database).__name__:
        pytest.skip("a coach cannot write a rollup on a practice")
    cid = new_client(coach, "Dee Rolled")
    contact.log_touch(coach, cid, channel="call", direction="outbound", summary="",
                      occurred_on=DAY - dt.timedelta(days=40), today=DAY)  # fmt: skip
    ClientRollup.update(last_touch_on=DAY - dt.timedelta(days=1)).where(
        ClientRollup.client == cid
    ).execute()
    (row,) = dashboard.client_page(coach, DAY).rows
    assert row.last_touch_on == DAY - dt.timedelta(days=1)
    from trustdesk.config import Settings

    assert dashboard.summary(coach, DAY, Settings()).quiet == 0


# --- on a practice: coaches read theirs, write none, rebuild their own -------------------------


def test_on_a_practice_a_coach_reads_only_their_rollups_and_writes_none(pg_practice):
    import psycopg

    from trustdesk.store import current_coach, open_database

    database = open_database(pg_practice.ann)
    try:
        coach = current_coach()
        cid = new_client(coach, "Eve Practice")
        contact.log_touch(coach, cid, channel="call", direction="inbound", summary="",
                          occurred_on=DAY, today=DAY)  # fmt: skip
        assert has_triggers(database)
        assert rebuild_own_rollups(database, coach.id) == 1
        assert own_drift(coach) == []
    finally:
        database.close()
    with psycopg.connect(pg_practice.ben) as conn:
        assert conn.execute("SELECT count(*) FROM client_rollup").fetchone() == (0,)
        assert conn.execute("SELECT public.trustdesk_rebuild_own_rollups()").fetchone() == (0,)
        conn.rollback()
        for statement in (
            "UPDATE client_rollup SET open_promises = 9",
            "INSERT INTO client_rollup (coach_id, client_id) VALUES (1, 1)",
            "DELETE FROM client_rollup",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    with psycopg.connect(pg_practice.ann) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE client_rollup SET open_promises = 9")


TOUCH_INSERT = (
    "INSERT INTO touch (coach_id, client_id, occurred_on, channel, direction,"
    " counts_for_cadence, summary, source)"
    " VALUES (%s, %s, %s, 'call', 'outbound', true, '', '')"
)


def practice_client(pg_practice, name: str) -> tuple[int, int]:
    """A new client of Morgan's on the practice: (coach id, client id)."""
    from trustdesk.store import current_coach, open_database

    database = open_database(pg_practice.ann)
    try:
        coach = current_coach()
        return coach.id, new_client(coach, name)
    finally:
        database.close()


@contextmanager
def touch_held_open(pg_practice, coach_id: int, cid: int, day: dt.date):
    """Another terminal inserts a touch and keeps its transaction open for a moment, so
    what the block runs meanwhile waits on the rollup row that insert locked."""
    import psycopg

    inserted = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with psycopg.connect(pg_practice.ann) as conn:
                conn.execute(TOUCH_INSERT, (coach_id, cid, day))
                inserted.set()
                threading.Event().wait(0.5)  # the block's statement waits on the rollup row
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            inserted.set()

    thread = threading.Thread(target=write)
    thread.start()
    inserted.wait(5)
    try:
        yield
    finally:
        thread.join()
    assert not errors


def last_touch_kept(pg_practice, cid: int):
    import psycopg

    with psycopg.connect(pg_practice.ann) as conn:
        return conn.execute(
            "SELECT last_touch_on FROM client_rollup WHERE client_id = %s", (cid,)
        ).fetchone()


def test_two_terminals_writing_to_one_client_at_once_leave_the_right_rollup(pg_practice):
    """Read committed: the second writer waits on the rollup row, then recomputes from a
    snapshot that includes the first one's touch (a stale MAX would lose it)."""
    import psycopg

    coach_id, cid = practice_client(pg_practice, "Fay Busy")
    with touch_held_open(pg_practice, coach_id, cid, DAY):
        with psycopg.connect(pg_practice.ann) as conn:
            conn.execute(TOUCH_INSERT, (coach_id, cid, DAY - dt.timedelta(days=9)))
    assert last_touch_kept(pg_practice, cid) == (DAY,)


def test_a_rebuild_while_another_terminal_writes_leaves_the_right_rollup(pg_practice):
    """A touch written by another terminal while the rebuild waits on its rollup row is
    in the rebuilt rollup: the rebuild's recomputation reads after that write commits."""
    import psycopg

    coach_id, cid = practice_client(pg_practice, "Gil Rebuilt")
    with touch_held_open(pg_practice, coach_id, cid, DAY):
        with psycopg.connect(pg_practice.ann) as conn:
            conn.execute("SELECT public.trustdesk_rebuild_own_rollups()")
    assert last_touch_kept(pg_practice, cid) == (DAY,)


# --- doctor ------------------------------------------------------------------------------


def test_doctor_names_each_client_that_drifted_and_repairs_them(run, initialised, store_backend):
    from trustdesk import config
    from trustdesk.store import open_database

    added = run("client", "add", "\x1b[31mRed\x1b[0m Rhea")
    assert added.returncode == 0, added.stderr
    ok = run("doctor")
    assert ok.returncode == 0 and "all 1 clients match their rows" in ok.stdout.decode()
    if store_backend == "postgresql":
        return  # a practice's rollups are written by its triggers alone
    database = open_database(config.database_target(None))
    try:
        database.execute_sql("UPDATE client_rollup SET open_promises = 4")
    finally:
        database.close()
    bad = run("doctor")
    out = bad.stdout.decode()
    assert bad.returncode == 1
    assert "open_promises kept 4, the rows say 0" in out
    assert "\x1b" not in out and "Red" in out
    shape = json.loads(run("doctor", "--json").stdout)
    assert shape["ok"] is False and shape["differing_clients"] == 1
    assert shape["differences"][0]["column"] == "open_promises"
    fixed = run("doctor", "--repair")
    assert fixed.returncode == 0 and "all match now" in fixed.stdout.decode()
    assert json.loads(run("doctor", "--json").stdout)["ok"] is True


def test_rebuilding_is_the_same_as_keeping(demo_practice, database):
    demo_practice(24)
    assert drift() == []
    before = sorted(ClientRollup.select().tuples())
    if "Server" not in type(db.obj).__name__:
        rebuild_rollups(db.obj)
        assert sorted(ClientRollup.select().tuples()) == before


# --- the rule in SQL is the rule in Python ---------------------------------------------------

CLIENT_SHAPE = st.tuples(
    st.integers(1, 30),  # ideal gap
    st.integers(0, 30),  # maximum gap beyond the ideal
    st.sampled_from(["never", "ideal", "most", "any"]),  # the last touch, near which edge
    st.integers(-1, 1),  # a day either side of that edge
    st.integers(0, 80),  # or any number of days ago
    st.one_of(st.none(), st.integers(-3, 3)),  # snoozed until, from today
    st.integers(0, 90),  # started, days ago
)


@hsettings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=st.lists(CLIENT_SHAPE, min_size=1, max_size=12))
def test_the_database_puts_each_client_in_the_state_cadence_state_says(coach, shapes):
    from collections import Counter

    from trustdesk.store.practice import delete_rows

    with db.atomic():
        for (cid,) in Client.select(Client.id).where(Client.coach == coach).tuples():
            delete_rows(Client, Client.id == cid)
    for i, (ideal, extra, edge, delta, anyday, snoozed, started) in enumerate(shapes):
        cid = clients.add_client(
            coach, f"Shape {i}", ideal_gap_days=ideal, max_gap_days=ideal + extra,
            started_on=DAY - dt.timedelta(days=started), today=DAY,
        ).client_id  # fmt: skip
        since = {"never": None, "ideal": ideal + delta, "most": ideal + extra + delta,
                 "any": anyday}[edge]  # fmt: skip
        if since is not None and since >= 0:
            contact.log_touch(coach, cid, channel="call", direction="outbound", summary="",
                              occurred_on=DAY - dt.timedelta(days=since), today=DAY)  # fmt: skip
        if snoozed is not None:
            Client.update(snoozed_until=DAY + dt.timedelta(days=snoozed)).where(
                Client.id == cid
            ).execute()
    every = contact.cadence(coach, DAY)
    states = Counter(c.state for c in every)
    assert contact.cadence_counts(coach, DAY) == {s: states.get(s, 0) for s in CadenceState}
    assert [c.client_id for c in contact.cadence(coach, DAY, needing_contact=True)] == [
        c.client_id for c in every if c.needs_contact
    ]


# --- the app's door: K on the dashboard, and the palette ----------------------------------------


async def test_k_checks_the_practice_rebuilds_what_differs_and_says_so(database, coach):
    if "Server" in type(database).__name__:
        pytest.skip("a coach cannot write a rollup on a practice")
    from helpers import RecordingApp, settle, wait_for_screen

    from trustdesk.tui.commands import TrustdeskCommands
    from trustdesk.tui.screens.dashboard import DashboardScreen

    cid = new_client(coach, "Gus Checked")
    new_client(coach, "Hana Fine")
    ClientRollup.update(open_promises=3).where(ClientRollup.client == cid).execute()
    app = RecordingApp(database, coach)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, DashboardScreen)
        await settle(pilot)
        await pilot.press("K")
        for _ in range(100):
            if app.said:
                break
            await pilot.pause(0.05)
        assert app.said[-1] == (
            "Rebuilt what the dashboard keeps for 1 of 2 clients; all match their records now."
        )
        names = [name for name, *_ in TrustdeskCommands(app.screen)._general()]
        assert "Check the practice" in names
        await pilot.press("K")
        for _ in range(100):
            if len(app.said) > 1:
                break
            await pilot.pause(0.05)
        assert app.said[-1] == "All 2 clients match their records."
    assert own_drift(coach) == []
