"""Promises due soon, closed with care and undone exactly, on a fixed clock, both backends."""

from __future__ import annotations

import datetime as dt

import pytest

from trustdesk.config import Settings
from trustdesk.store.models import Client, Commitment
from trustdesk.trust import dashboard
from trustdesk.trust.common import ActionError, ChangedElsewhere
from trustdesk.trust.promises import (
    add_commitment,
    correct_done_on,
    count_due_soon,
    drop,
    due_soon,
    mark_done,
    open_promises,
    renegotiate,
    renegotiations,
    saved_promise,
    undo_close,
)
from trustdesk.trust.report import build_report, report_json, report_text

D = dt.timedelta


def client(coach, today, name="Ann", **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def promise(coach, who, today, *, due=5, owner="coach", title="Send the plan", promised=-20):
    return add_commitment(
        coach,
        who.id,
        owner=owner,
        title=title,
        due_on=today + D(days=due),
        promised_on=today + D(days=promised),
    )


def row(commitment_id):
    """Everything a close may change, as saved now."""
    c = Commitment.get_by_id(commitment_id)
    return (c.status, c.done_on, c.reason, c.asked_by, c.due_on, c.title)


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message
    return message


# --- due soon ---------------------------------------------------------------------------


def test_due_soon_is_yours_first_then_soonest_within_the_window(coach, today):
    ann, bo = client(coach, today, "Ann"), client(coach, today, "Bo")
    theirs_today = promise(coach, ann, today, due=0, owner="client", title="theirs today")
    mine_later = promise(coach, bo, today, due=6, title="mine in 6")
    mine_soon = promise(coach, ann, today, due=2, title="mine in 2")
    promise(coach, ann, today, due=8, title="too far")
    promise(coach, ann, today, due=-1, title="overdue, not due soon")
    done = promise(coach, ann, today, due=1, title="kept already")
    mark_done(coach, done, today)

    soon = due_soon(coach, today)
    assert [p.commitment_id for p in soon] == [mine_soon, mine_later, theirs_today]
    assert [p.days_left for p in soon] == [2, 6, 0]
    assert soon[0].client_name == "Ann" and soon[1].client_name == "Bo"
    assert count_due_soon(coach, today) == 3
    # The window is a setting: 8 days takes in the one due in 8.
    assert count_due_soon(coach, today, 8) == 4
    assert [p.title for p in due_soon(coach, today, 8, limit=1, offset=2)] == ["too far"]


def test_due_soon_leaves_archived_clients_out(coach, today):
    gone = client(coach, today, "Gone", status="archived")
    paused = client(coach, today, "Paused", status="paused")
    promise(coach, gone, today, due=1)
    kept = promise(coach, paused, today, due=1)
    assert [p.commitment_id for p in due_soon(coach, today)] == [kept]
    assert [p.commitment_id for p, _ in open_promises(coach, today)] == [kept]


def test_open_promises_mark_the_overdue_and_keep_to_a_window_and_a_client(coach, today):
    ann, bo = client(coach, today, "Ann"), client(coach, today, "Bo")
    late = promise(coach, ann, today, due=-3)
    soon = promise(coach, bo, today, due=2)
    far = promise(coach, ann, today, due=30)
    every = open_promises(coach, today)
    assert [(p.commitment_id, overdue) for p, overdue in every] == [
        (late, True),
        (soon, False),
        (far, False),
    ]
    assert every[0][0].days_overdue == 3 and every[1][0].days_left == 2
    assert [p.commitment_id for p, _ in open_promises(coach, today, within_days=7)] == [late, soon]
    assert [p.commitment_id for p, _ in open_promises(coach, today, client_id=ann.id)] == [
        late,
        far,
    ]


def test_report_and_dashboard_show_due_soon_and_renegotiations_in_time(coach, today):
    ann = client(coach, today, "Ann")
    promise(coach, ann, today, due=1, title="Send the <b>plan</b>\x1b[2J")
    early = promise(coach, ann, today, due=3)
    late = promise(coach, ann, today, due=-2)
    renegotiate(coach, early, today + D(days=10), today, reason="holiday", asked_by="client")
    renegotiate(coach, late, today + D(days=10), today, reason="forgot", asked_by="coach")

    settings = Settings(due_soon_days=7)
    report = build_report(coach, today, settings)
    data = report_json(report)
    assert data["due_soon_days"] == 7
    assert [d["title"] for d in data["due_soon"]] == ["Send the <b>plan</b>\x1b[2J"]
    assert data["due_soon"][0]["days_left"] == 1
    assert data["follow_through"]["renegotiated"]["coach"] == {"in_time": 1, "total": 2}
    assert data["follow_through"]["renegotiated"]["clients"] == {"in_time": 0, "total": 0}
    text = report_text(report)
    assert "Due soon (within 7 days): 1" in text
    assert "due tomorrow  you     Ann: Send the <b>plan</b>\\x1b[2J" in text
    assert "1 of 2 renegotiations made in time" in text

    summary = dashboard.summary(coach, today, settings)
    assert (summary.due_soon, summary.renegotiated_in_time) == (1, 1)
    assert dashboard.summary(coach, today, Settings(due_soon_days=0)).due_soon == 0


# --- closing with care ---------------------------------------------------------------------


def test_a_done_date_is_chosen_within_bounds(coach, today):
    ann = client(coach, today)
    pid = promise(coach, ann, today, promised=-5)
    before = row(pid)
    with pytest.raises(ActionError) as caught:
        mark_done(coach, pid, today + D(days=1), today=today)
    assert "after today" in one_line(caught.value)
    with pytest.raises(ActionError):
        mark_done(coach, pid, today - D(days=6), today=today)
    assert row(pid) == before
    mark_done(coach, pid, today - D(days=2), today=today)
    assert row(pid)[:2] == ("done", today - D(days=2))


def test_a_done_date_is_corrected_on_a_kept_promise_only(coach, today):
    ann = client(coach, today)
    pid = promise(coach, ann, today, promised=-5)
    with pytest.raises(ActionError) as caught:
        correct_done_on(coach, pid, today, today)
    assert "only a kept promise" in one_line(caught.value)
    mark_done(coach, pid, today)
    version = saved_promise(coach, pid).version
    for wrong in (today + D(days=1), today - D(days=6)):
        with pytest.raises(ActionError):
            correct_done_on(coach, pid, wrong, today, version=version)
    assert row(pid)[1] == today
    correct_done_on(coach, pid, today - D(days=3), today, version=version)
    assert row(pid)[:2] == ("done", today - D(days=3))
    # From the copy read before that correction: refused, the correction stays.
    with pytest.raises(ChangedElsewhere):
        correct_done_on(coach, pid, today - D(days=1), today, version=version)
    assert row(pid)[1] == today - D(days=3)


def test_renegotiating_keeps_why_who_asked_and_whether_in_time(coach, today):
    ann = client(coach, today)
    early = promise(coach, ann, today, due=2)
    on_the_day = promise(coach, ann, today, due=0)
    late = promise(coach, ann, today, due=-1)
    renegotiate(coach, early, today + D(days=9), today, reason="a trip", asked_by="client")
    renegotiate(coach, on_the_day, today + D(days=9), today, reason="ill", asked_by="coach")
    renegotiate(coach, late, today + D(days=9), today, reason="forgot")
    items = {pid: saved_promise(coach, pid) for pid in (early, on_the_day, late)}
    assert (items[early].reason, items[early].asked_by) == ("a trip", "client")
    assert [items[p].renegotiated_in_time for p in (early, on_the_day, late)] == [
        True,
        True,
        False,
    ]
    assert items[late].asked_by == ""
    assert renegotiations(coach, today) == renegotiations(coach, today, owner="coach")
    assert (renegotiations(coach, today).in_time, renegotiations(coach, today).total) == (2, 3)
    # Outside the window, it is not counted.
    assert renegotiations(coach, today + D(days=200)).total == 0

    other = promise(coach, ann, today, due=3)
    before = row(other)
    with pytest.raises(ActionError):
        renegotiate(coach, other, today + D(days=9), today, reason="x", asked_by="boss")
    assert row(other) == before


@pytest.mark.parametrize("how", ["done", "dropped", "renegotiated"])
def test_undo_restores_the_promise_exactly(coach, today, how):
    ann = client(coach, today)
    pid = promise(coach, ann, today, due=3)
    before = row(pid)
    count = Commitment.select().count()
    if how == "done":
        closing = mark_done(coach, pid, today - D(days=1))
    elif how == "dropped":
        closing = drop(coach, pid, "no longer needed", today)
    else:
        closing = renegotiate(coach, pid, today + D(days=14), today, reason="r", asked_by="client")
        assert Commitment.select().count() == count + 1
    assert row(pid)[0] == how

    undo_close(coach, closing)
    assert row(pid) == before
    assert Commitment.select().count() == count
    assert saved_promise(coach, pid).can_change
    # Undone once; a second undo of the same close finds nothing to undo.
    with pytest.raises(ActionError) as caught:
        undo_close(coach, closing)
    assert one_line(caught.value).startswith("Not undone")
    assert row(pid) == before


def test_undo_refuses_when_the_promise_changed_since(coach, today):
    """Another terminal corrected the done date after the close: undo leaves it alone."""
    ann = client(coach, today)
    pid = promise(coach, ann, today, due=3)
    closing = mark_done(coach, pid, today)
    correct_done_on(coach, pid, today - D(days=1), today)  # the second terminal
    after = row(pid)
    with pytest.raises(ActionError) as caught:
        undo_close(coach, closing)
    assert "changed elsewhere" in one_line(caught.value)
    assert row(pid) == after


def test_undo_of_a_renegotiation_refuses_once_its_new_promise_changed(coach, today):
    ann = client(coach, today)
    pid = promise(coach, ann, today, due=3)
    closing = renegotiate(coach, pid, today + D(days=14), today, reason="r")
    mark_done(coach, closing.successor_id, today)  # kept meanwhile, elsewhere
    old, new = row(pid), row(closing.successor_id)
    with pytest.raises(ActionError) as caught:
        undo_close(coach, closing)
    assert "renegotiated promise was changed or closed" in one_line(caught.value)
    # Nothing moved: the old one stays renegotiated, the new one stays kept.
    assert (row(pid), row(closing.successor_id)) == (old, new)


def test_undo_refuses_when_the_promise_changed_after_its_successor_was_removed(coach, today):
    """The two checks run in one transaction: a refusal of the second keeps the first."""
    ann = client(coach, today)
    pid = promise(coach, ann, today, due=3)
    closing = renegotiate(coach, pid, today + D(days=14), today, reason="r")
    Commitment.update(reason="edited elsewhere").where(Commitment.id == pid).execute()
    with pytest.raises(ActionError):
        undo_close(coach, closing)
    assert saved_promise(coach, closing.successor_id) is not None
    assert row(pid)[0] == "renegotiated"
