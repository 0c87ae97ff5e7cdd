"""The dashboard's client list: one filtered, sorted window at a time, on a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import QueryCounter

from trustdesk.store.models import Client, Coach, Commitment, Program, Session, Stage, Touch
from trustdesk.trust.dashboard import CLIENT_SORTS, client_page

D = dt.timedelta


# --- a tiny builder ------------------------------------------------------------------


def client(coach, name, today, **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def touch(coach, who, day, *, counts=True):
    return Touch.create(
        coach=coach,
        client=who,
        occurred_on=day,
        channel="email",
        direction="outbound",
        counts_for_cadence=counts,
    )


def promise(coach, who, today, *, status="open", due=3):
    return Commitment.create(
        coach=coach,
        client=who,
        owner="coach",
        title="send the notes",
        promised_on=today - D(days=10),
        due_on=today + D(days=due),
        status=status,
    )


def session(coach, who, start, *, status="scheduled"):
    return Session.create(coach=coach, client=who, scheduled_start=start, status=status)


def at(day, hour=10, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute))


def names(page):
    return [r.name for r in page.rows]


# --- windows -------------------------------------------------------------------------


def test_windows_cover_the_list_once_and_total_counts_every_match(coach, today):
    """The screen pages through the list, so windows must tile it with no gaps or repeats."""
    for i in range(25):
        client(coach, f"Client {i:02}", today)
    pages = [client_page(coach, today, offset=o, limit=10) for o in (0, 10, 20)]
    assert [len(p.rows) for p in pages] == [10, 10, 5]
    assert all(p.total == 25 for p in pages)
    assert [p.offset for p in pages] == [0, 10, 20]
    seen = [name for p in pages for name in names(p)]
    assert seen == [f"Client {i:02}" for i in range(25)]


def test_an_offset_past_the_end_gives_no_rows_but_the_right_total(coach, today):
    """Scrolling past the end after clients were removed must not look like an empty practice."""
    for i in range(25):
        client(coach, f"Client {i:02}", today)
    page = client_page(coach, today, offset=30, limit=10)
    assert page.rows == () and page.total == 25 and page.offset == 30


def test_an_empty_practice_has_an_empty_page(coach, today):
    page = client_page(coach, today)
    assert page.total == 0 and page.rows == ()


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_only_the_coachs_own_clients_are_listed(coach, today):
    """Another coach in the same database is invisible, in the rows and in the total."""
    other = Coach.create(name="Other Coach")
    client(other, "Theirs", today)
    client(coach, "Mine", today)
    page = client_page(coach, today)
    assert names(page) == ["Mine"] and page.total == 1


def test_an_unknown_sort_is_refused(coach, today):
    with pytest.raises(ValueError, match="unknown sort"):
        client_page(coach, today, sort="age")


# --- the name filter -------------------------------------------------------------------


def test_the_filter_ignores_case_and_matches_inside_names(coach, today):
    for name in ("Annabel", "JOANNA", "Hannah", "Bob"):
        client(coach, name, today)
    page = client_page(coach, today, name_filter="aNN")
    assert names(page) == ["Annabel", "Hannah", "JOANNA"]
    assert page.total == 3


def test_the_filter_total_counts_only_matches_while_paging(coach, today):
    for i in range(12):
        client(coach, f"Match {i:02}", today)
        client(coach, f"Other {i:02}", today)
    page = client_page(coach, today, name_filter="match", offset=10, limit=10)
    assert page.total == 12
    assert names(page) == ["Match 10", "Match 11"]


WILDCARD_NAMES = ("100%_done", "100 done", "1000 done", "a big b", "ab", "back\\slash", "under_s")


def test_a_percent_between_letters_matches_nothing_literal(coach, today):
    """'a%b' is text to look for, not 'a, anything, b'."""
    for name in WILDCARD_NAMES:
        client(coach, name, today)
    page = client_page(coach, today, name_filter="a%b")
    assert page.rows == () and page.total == 0


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("%_", ["100%_done"]),
        ("%", ["100%_done"]),
        ("_", ["100%_done", "under_s"]),
        ("\\", ["back\\slash"]),
    ],
)
def test_wildcards_in_the_filter_are_taken_literally(coach, today, typed, found):
    for name in WILDCARD_NAMES:
        client(coach, name, today)
    page = client_page(coach, today, name_filter=typed)
    assert names(page) == found
    assert page.total == len(found)


@pytest.mark.parametrize("typed", ["Émile", "ÉMILE"])
def test_a_non_ascii_name_typed_as_stored_is_found(coach, today, typed):
    client(coach, "Émile Zoë", today)
    client(coach, "Bob", today)
    assert names(client_page(coach, today, name_filter=typed)) == ["Émile Zoë"]


# --- sorting ----------------------------------------------------------------------------


@pytest.fixture
def sortable(coach, today):
    """Five clients with ties on every sort key, including two clients both named Sam."""
    cara = client(coach, "Cara", today)
    touch(coach, cara, today - D(days=3))
    promise(coach, cara, today)
    promise(coach, cara, today)
    session(coach, cara, at(today + D(days=2)))

    alan = client(coach, "alan", today)
    touch(coach, alan, today - D(days=10))

    bea = client(coach, "Bea", today, started_on=today - D(days=5))  # never touched
    promise(coach, bea, today)
    promise(coach, bea, today)
    session(coach, bea, at(today + D(days=2)))

    sam_a = client(coach, "Sam", today)
    sam_b = client(coach, "Sam", today)
    for sam in (sam_a, sam_b):
        touch(coach, sam, today - D(days=10))
        promise(coach, sam, today)
        session(coach, sam, at(today + D(days=5)))
    return {"Cara": cara.id, "alan": alan.id, "Bea": bea.id, "Sam a": sam_a.id, "Sam b": sam_b.id}


ASCENDING = {
    "name": ["alan", "Bea", "Cara", "Sam a", "Sam b"],
    # Oldest contact first; a client never touched counts from the day they started.
    "contact": ["alan", "Sam a", "Sam b", "Bea", "Cara"],
    "promises": ["alan", "Sam a", "Sam b", "Bea", "Cara"],
    # Soonest first; no session to come goes last.
    "next_session": ["Bea", "Cara", "Sam a", "Sam b", "alan"],
}


def test_every_sort_is_covered():
    assert set(ASCENDING) == set(CLIENT_SORTS)


@pytest.mark.parametrize("sort", CLIENT_SORTS)
def test_each_sort_ascending_breaks_ties_by_name_then_creation(coach, today, sortable, sort):
    page = client_page(coach, today, sort=sort)
    assert [r.client_id for r in page.rows] == [sortable[k] for k in ASCENDING[sort]]


@pytest.mark.parametrize(
    "sort",
    [
        "name",
        "contact",
        "promises",
        "next_session",
    ],
)
def test_each_sort_descending_is_the_exact_reverse(coach, today, sortable, sort):
    """Paging a reversed list must not shuffle clients that tie between pages."""
    page = client_page(coach, today, sort=sort, descending=True)
    assert [r.client_id for r in page.rows] == [sortable[k] for k in reversed(ASCENDING[sort])]


def test_sort_by_promises_descending_puts_the_most_open_promises_first(coach, today):
    for name, n in (("One", 1), ("Three", 3), ("None", 0)):
        who = client(coach, name, today)
        for _ in range(n):
            promise(coach, who, today)
    page = client_page(coach, today, sort="promises", descending=True)
    assert names(page) == ["Three", "One", "None"]


def test_a_sorted_window_is_a_slice_of_the_whole_sorted_list(coach, today, sortable):
    whole = client_page(coach, today, sort="contact", limit=50)
    window = client_page(coach, today, sort="contact", offset=1, limit=3)
    assert window.rows == whole.rows[1:4]


# --- what each row says ------------------------------------------------------------------


def test_cadence_state_is_only_given_for_active_clients(coach, today):
    for status in ("prospect", "paused", "completed"):
        who = client(coach, status, today, status=status)
        touch(coach, who, today - D(days=60))
    fine = client(coach, "ok", today)
    touch(coach, fine, today - D(days=2))
    touch(coach, fine, today - D(days=1), counts=False)  # does not count for cadence
    due = client(coach, "due", today)
    touch(coach, due, today - D(days=8))
    quiet = client(coach, "quiet", today)
    touch(coach, quiet, today - D(days=30))
    snoozed = client(coach, "snoozed", today, snoozed_until=today + D(days=3))
    touch(coach, snoozed, today - D(days=30))
    lapsed = client(coach, "lapsed snooze", today, snoozed_until=today - D(days=1))
    touch(coach, lapsed, today - D(days=30))
    rows = {r.name: r for r in client_page(coach, today).rows}
    assert {n: r.cadence_state for n, r in rows.items()} == {
        "prospect": None,
        "paused": None,
        "completed": None,
        "ok": "ok",
        "due": "due",
        "quiet": "quiet",
        "snoozed": "snoozed",
        "lapsed snooze": "quiet",
    }
    assert rows["ok"].last_touch_on == today - D(days=2)
    assert rows["ok"].days_since_contact == 2
    assert rows["paused"].days_since_contact == 60


def test_a_client_never_touched_counts_from_the_day_they_started(coach, today):
    client(coach, "New", today, started_on=today - D(days=8))
    (row,) = client_page(coach, today).rows
    assert row.last_touch_on is None
    assert row.days_since_contact == 8
    assert row.cadence_state == "due"


def test_next_session_is_the_soonest_scheduled_one_to_come(coach, today):
    who = client(coach, "Ann", today)
    session(coach, who, at(today - D(days=1)))  # missed, never updated: not to come
    session(coach, who, at(today + D(days=1)), status="cancelled")
    session(coach, who, at(today + D(days=2)), status="held")
    session(coach, who, at(today + D(days=9)))
    session(coach, who, at(today + D(days=5), 14, 30))
    only_past = client(coach, "Ben", today)
    session(coach, only_past, at(today - D(days=3)))
    rows = {r.name: r for r in client_page(coach, today).rows}
    assert rows["Ann"].next_session == at(today + D(days=5), 14, 30)
    assert isinstance(rows["Ann"].next_session, dt.datetime)
    assert rows["Ben"].next_session is None


def test_open_promises_counts_only_open_ones(coach, today):
    who = client(coach, "Ann", today)
    promise(coach, who, today)
    promise(coach, who, today, due=-4)  # overdue is still open
    for status in ("done", "dropped", "renegotiated"):
        promise(coach, who, today, status=status)
    client(coach, "Ben", today)
    rows = {r.name: r for r in client_page(coach, today).rows}
    assert rows["Ann"].open_promises == 2
    assert rows["Ben"].open_promises == 0


def test_stage_name_comes_from_the_clients_current_stage(coach, today):
    program = Program.create(coach=coach, name="Leadership")
    stage = Stage.create(coach=coach, program=program, position=1, name="[b]Discover[/b]")
    client(coach, "Ann", today, program=program, stage=stage)
    client(coach, "Ben", today)
    rows = {r.name: r for r in client_page(coach, today).rows}
    assert rows["Ann"].stage_name == "[b]Discover[/b]"
    assert rows["Ben"].stage_name is None


@pytest.mark.parametrize(
    "name",
    ["[bold red]Ann[/]", "\x1b[31mEve\x07", "Zed\u202e\n\ttab", "[link=file:///etc]x[/link]"],
)
def test_names_come_back_exactly_as_stored(coach, today, name):
    """Making text safe to show is the screen's job; the data must not be altered on the way."""
    client(coach, name, today)
    (row,) = client_page(coach, today).rows
    assert row.name == name


# --- a fixed number of queries ------------------------------------------------------------


def populate(database, coach, today, n, prefix):
    with database.atomic():
        for i in range(n):
            who = client(coach, f"{prefix}{i:03}", today, status="active" if i % 4 else "paused")
            touch(coach, who, today - D(days=i % 30))
            promise(coach, who, today, due=-(i % 5))
            session(coach, who, at(today + D(days=1 + i % 7)))


@pytest.mark.parametrize("sort", CLIENT_SORTS)
def test_a_page_costs_the_same_queries_for_5_or_60_clients(database, coach, today, sort):
    """Per-client work happens in SQL subqueries, never one query per row."""
    populate(database, coach, today, 5, "a")
    with QueryCounter(database) as small:
        page = client_page(coach, today, sort=sort, limit=50)
    assert len(page.rows) == 5
    populate(database, coach, today, 55, "b")
    with QueryCounter(database) as large:
        page = client_page(coach, today, sort=sort, limit=50)
    assert len(page.rows) == 50 and page.total == 60
    assert small.count == large.count <= 3


def test_accents_and_case_do_not_hide_a_client(coach, today):
    for name in ("Élodie Kahananui", "Wei Wiśniewska", "Aaron Ng"):
        client(coach, name, today)
    assert names(client_page(coach, today, name_filter="elodie")) == ["Élodie Kahananui"]
    assert names(client_page(coach, today, name_filter="WISNIEW")) == ["Wei Wiśniewska"]
    assert names(client_page(coach, today)) == ["Aaron Ng", "Élodie Kahananui", "Wei Wiśniewska"]
