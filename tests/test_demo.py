"""The demo practice: the same every time, the size asked for, and a mix worth looking at."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat

import pytest

from trustdesk.demo import (
    DEMO_PASSPHRASE,
    DemoSize,
    DemoSummary,
    build_demo,
    program_templates,
    share_out,
)
from trustdesk.store import StoreError, current_coach, db, open_database
from trustdesk.store.models import (
    Client,
    Coach,
    Commitment,
    Note,
    Outcome,
    Program,
    Session,
    Stage,
    StageChange,
    Touch,
    minutes_late,
)
from trustdesk.trust.notes import read_note
from trustdesk.vault import Vault

SMALL = DemoSize(clients=30, touches=2000, commitments=300)


# Sealing uses fresh random keys and nonces, so ciphertexts differ between two builds by
# design; what is compared is everything else, and the bodies once opened.
RANDOM_BY_DESIGN = {
    "key_slot": None,
    "note": "SELECT id, coach_id, client_id, kind, written_on, updated_at FROM note ORDER BY rowid",
}


def dump(path) -> dict[str, list[tuple]]:
    """Every row of every table, in storage order (sealed bytes and key slots aside)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        rows = {}
        for t in tables:
            sql = RANDOM_BY_DESIGN.get(t, f'SELECT * FROM "{t}" ORDER BY rowid')
            if sql is not None:
                rows[t] = conn.execute(sql).fetchall()
        return rows
    finally:
        conn.close()


def opened_notes(path) -> list[tuple]:
    """Every note body, opened with the passphrase the demo announces."""
    previous = db.obj
    database = open_database(path)
    try:
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase(DEMO_PASSPHRASE).unlocked
        return [(n.id, read_note(vault, n.id).body) for n in Note.select().order_by(Note.id)]
    finally:
        database.close()
        db.initialize(previous)


@pytest.fixture
def built(isolated_home, today):
    """A small demo at an explicit size, opened for queries."""
    path = isolated_home / "demo.sqlite3"
    summary = build_demo(path, seed=7, today=today, size=SMALL)
    database = open_database(path)
    yield summary, path
    database.close()


def test_same_seed_same_rows_and_another_seed_differs(isolated_home, today):
    first = build_demo(isolated_home / "a.sqlite3", seed=11, today=today, size=SMALL)
    second = build_demo(isolated_home / "b.sqlite3", seed=11, today=today, size=SMALL)
    other = build_demo(isolated_home / "c.sqlite3", seed=12, today=today, size=SMALL)
    rows_a = dump(isolated_home / "a.sqlite3")
    assert first == second
    assert rows_a == dump(isolated_home / "b.sqlite3")
    assert {"client", "touch", "commitment", "session", "schema_migration"} <= set(rows_a)
    rows_c = dump(isolated_home / "c.sqlite3")
    assert rows_a["client"] != rows_c["client"]
    assert rows_a["touch"] != rows_c["touch"]
    assert other.touches == SMALL.touches


def test_natural_size_is_deterministic_too(isolated_home, today):
    build_demo(isolated_home / "a.sqlite3", today=today)
    build_demo(isolated_home / "b.sqlite3", today=today)
    assert dump(isolated_home / "a.sqlite3") == dump(isolated_home / "b.sqlite3")
    notes = opened_notes(isolated_home / "a.sqlite3")
    assert notes and notes == opened_notes(isolated_home / "b.sqlite3")


def test_demo_notes_are_sealed_and_open_with_the_demo_passphrase(built):
    _, path = built
    kinds = {n.kind for n in Note.select()}
    assert {"session", "goal", "struggle"} <= kinds
    raw = path.read_bytes()
    for _, body in opened_notes(path):
        assert body.encode() not in raw
    assert not Vault(current_coach()).unlock_with_passphrase("not demo").unlocked


def test_counts_match_the_size_asked_for(built):
    summary, _ = built
    assert summary == DemoSummary(
        coach_name=current_coach().name,
        clients=30,
        programs=3,
        sessions=Session.select().count(),
        commitments=300,
        touches=2000,
        outcomes=Outcome.select().count(),
        notes=Note.select().count(),
    )
    assert Client.select().count() == 30
    assert Touch.select().count() == 2000
    assert Commitment.select().count() == 300
    assert Program.select().count() == 3
    assert Coach.select().count() == 1


def test_every_row_belongs_to_the_demo_coach(built):
    coach = current_coach()
    for model in (Program, Stage, Client, StageChange, Session, Commitment, Touch, Outcome):
        assert model.select().where(model.coach != coach).count() == 0, model.__name__


def test_the_coach_is_stamped_with_the_build_day(built, today):
    assert current_coach().created_at.date() == today


def test_promises_of_every_kind(built, today):
    open_ = Commitment.status == "open"
    assert (
        Commitment.select()
        .where(open_ & (Commitment.owner == "coach") & (Commitment.due_on < today))
        .exists()
    )
    assert Commitment.select().where(open_ & (Commitment.due_on >= today)).exists()
    assert Commitment.select().where(Commitment.owner == "client").exists()
    assert (
        Commitment.select()
        .where((Commitment.status == "done") & (Commitment.done_on > Commitment.due_on))
        .exists()
    )
    assert (
        Commitment.select()
        .where((Commitment.status == "done") & (Commitment.done_on <= Commitment.due_on))
        .exists()
    )
    dropped = Commitment.select().where(Commitment.status == "dropped")
    assert dropped.exists() and all(c.reason for c in dropped)

    renegotiated = list(Commitment.select().where(Commitment.status == "renegotiated"))
    assert renegotiated
    for original in renegotiated:
        (successor,) = Commitment.select().where(Commitment.renegotiated_from == original)
        assert successor.status != "renegotiated"
        assert successor.title == original.title
        assert successor.promised_on >= original.promised_on
        assert original.reason
        # As the app records one: moved on the day its successor was promised, who asked.
        assert original.done_on == successor.promised_on <= original.due_on
        assert original.asked_by in ("client", "coach")

    for promise in Commitment.select():
        assert promise.promised_on <= today
        assert promise.due_on >= promise.promised_on
        assert (promise.done_on is None) == (promise.status == "open")
        if promise.done_on is not None:
            assert promise.done_on <= today


def test_sessions_of_every_kind(built, today):
    held = Session.select().where(Session.status == "held")
    assert held.where(Session.late_minutes > 5).exists()
    assert held.where(Session.late_minutes < 0).exists()
    for session in held:
        assert session.actual_start.microsecond == 0
        assert session.late_minutes == minutes_late(session.scheduled_start, session.actual_start)
    assert Session.select().where(Session.status == "no_show").exists()
    scheduled = list(Session.select().where(Session.status == "scheduled"))
    future = [s for s in scheduled if s.scheduled_start.date() >= today]
    assert future
    # One past session is left waiting for the coach to say how it went.
    waiting = [s for s in scheduled if s.scheduled_start.date() < today]
    assert len(waiting) == 1 and waiting[0].client.status == "active"
    assert all(
        s.scheduled_start.date() < today
        for s in Session.select().where(Session.status != "scheduled")
    )
    assert all(s.client.status == "active" for s in future), (
        "only active clients have sessions booked"
    )


def test_clients_quiet_due_snoozed_and_referencing(built, today):
    clients = list(Client.select())
    statuses = {c.status for c in clients}
    assert statuses == {"active", "paused", "completed", "prospect"}
    assert any(c.snoozed_until and c.snoozed_until > today for c in clients)
    assert any(c.reference_consent for c in clients)

    def days_quiet(client):
        last = [
            t.occurred_on
            for t in Touch.select().where((Touch.client == client) & Touch.counts_for_cadence)
        ]
        return (today - max(last, default=client.started_on)).days

    active = [c for c in clients if c.status == "active" and not c.snoozed_until]
    assert any(days_quiet(c) > c.max_gap_days for c in active), "someone has gone quiet"
    assert any(c.ideal_gap_days <= days_quiet(c) <= c.max_gap_days for c in active)
    assert sum(days_quiet(c) < c.ideal_gap_days for c in active) > len(active) // 2
    for c in clients:
        assert c.ideal_gap_days in (7, 10, 14)
        assert 2 * c.ideal_gap_days <= c.max_gap_days <= 3 * c.ideal_gap_days


def test_journeys_are_consistent(built):
    for client in Client.select():
        changes = list(
            StageChange.select().where(StageChange.client == client).order_by(StageChange.id)
        )
        if client.status == "prospect":
            assert client.stage is None and not changes
            continue
        positions = [c.stage.position for c in changes]
        assert positions == list(range(1, len(positions) + 1))
        assert changes[-1].stage_id == client.stage_id
        assert client.stage.program_id == client.program_id
        if client.status == "completed":
            assert (
                client.stage.position
                == Stage.select().where(Stage.program == client.program).count()
            )


def test_touches_are_varied_and_never_in_the_future(built, today):
    touches = list(Touch.select())
    assert {t.channel for t in touches} == {
        "email",
        "call",
        "message",
        "journal_prompt",
        "reply",
        "session",
    }
    assert {t.direction for t in touches} == {"outbound", "inbound"}
    counting = sum(t.counts_for_cadence for t in touches)
    assert 0.85 * len(touches) <= counting < len(touches)
    assert all(t.summary for t in touches)
    assert max(t.occurred_on for t in touches) <= today
    assert Outcome.select().exists()
    assert all(o.title and o.detail for o in Outcome.select())


def test_the_file_is_private_and_alone(built, isolated_home):
    _, path = built
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p.name for p in isolated_home.iterdir() if "building" in p.name]
    assert leftovers == []


def test_the_proxy_is_left_as_it_was(isolated_home, today):
    before = db.obj
    build_demo(isolated_home / "demo.sqlite3", today=today, size=DemoSize(clients=5))
    assert db.obj is before


def test_an_existing_path_is_refused_and_left_alone(isolated_home, today):
    path = isolated_home / "demo.sqlite3"
    path.write_bytes(b"keep me")
    with pytest.raises(StoreError, match="already exists"):
        build_demo(path, today=today, size=DemoSize(clients=5))
    assert path.read_bytes() == b"keep me"
    assert sorted(p.name for p in isolated_home.iterdir()) == ["demo.sqlite3"]


def test_a_failed_build_leaves_nothing_behind(isolated_home, today):
    calls = []

    def interrupt(stage, done, total):
        calls.append(stage)
        if stage == "history" and done > 0:
            raise KeyboardInterrupt

    before = db.obj
    with pytest.raises(KeyboardInterrupt):
        build_demo(isolated_home / "demo.sqlite3", today=today, progress=interrupt)
    assert list(isolated_home.iterdir()) == []
    assert db.obj is before
    assert "programs" in calls


def test_progress_reaches_the_end(isolated_home, today):
    seen: dict[str, tuple[int, int]] = {}
    build_demo(
        isolated_home / "demo.sqlite3",
        today=today,
        size=DemoSize(clients=450),
        progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)),
    )
    assert seen["history"] == (450, 450)
    assert seen["finishing"] == (1, 1)


def test_names_stay_distinct_at_larger_sizes(isolated_home, today):
    build_demo(
        isolated_home / "demo.sqlite3",
        today=today,
        size=DemoSize(clients=1500, touches=0, commitments=0),
    )
    database = open_database(isolated_home / "demo.sqlite3")
    try:
        names = [c.name for c in Client.select(Client.name)]
        emails = [c.email for c in Client.select(Client.email)]
        assert Touch.select().count() == 0
        assert Commitment.select().count() == 0
    finally:
        database.close()
    assert len(set(names)) >= 0.99 * len(names)
    assert len(set(emails)) == len(emails)


def test_sizes_are_checked():
    with pytest.raises(ValueError):
        DemoSize(clients=0)
    with pytest.raises(ValueError):
        DemoSize(touches=-1)
    with pytest.raises(ValueError):
        DemoSize(history_days=10)


def test_share_out_is_exact():
    assert share_out(10, [1, 1, 1]) == [4, 3, 3]
    assert share_out(0, [5, 7]) == [0, 0]
    assert share_out(7, [0, 0]) == [4, 3]
    parts = share_out(1_000_003, [3, 17, 250, 1, 99])
    assert sum(parts) == 1_000_003


def test_program_templates_read_well():
    templates = program_templates()
    assert {t.key for t in templates} == {"leadership", "career-transition", "health-habits"}
    for template in templates:
        assert 4 <= len(template.stages) <= 6
        assert template.typical_sessions == sum(s.typical_sessions for s in template.stages)
        assert len(template.summary) > 200
        for stage in template.stages:
            assert stage.purpose and stage.asks_of_client
            assert "\n" not in stage.purpose
            assert "lorem" not in (stage.purpose + stage.asks_of_client).lower()


def test_today_decides_every_date(isolated_home):
    day = dt.date(2030, 1, 7)
    build_demo(isolated_home / "demo.sqlite3", today=day, size=DemoSize(clients=12))
    database = open_database(isolated_home / "demo.sqlite3")
    try:
        assert max(t.occurred_on for t in Touch.select()) <= day
        assert min(c.started_on for c in Client.select()) >= day - dt.timedelta(days=365)
    finally:
        database.close()


def test_an_exact_number_of_notes_can_be_asked_for(isolated_home, today):
    summary = build_demo(
        isolated_home / "n.sqlite3", today=today, size=DemoSize(clients=12, notes=50)
    )
    assert summary.notes == 50
    assert len(opened_notes(isolated_home / "n.sqlite3")) == 50
