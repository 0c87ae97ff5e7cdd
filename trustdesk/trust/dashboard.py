"""What the dashboard reads: its client list, one visible window at a time, and the
counts and rates across its top.

The client list asks only for the rows it can show (a window by offset), so a practice
of 10,000 clients costs the screen what a practice of 50 does. Each page is one query
with per-client subqueries that the indexes answer directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from peewee import JOIN, SQL, Select, fn

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.store.models import Client, Coach, Commitment, Session, Stage, db, name_key
from trustdesk.store.states import CadenceState, ClientStatus
from trustdesk.trust.common import Rate, as_date, as_datetime
from trustdesk.trust.contact import (
    Fall,
    cadence_counts,
    cadence_state,
    falls,
    last_touch_on,
    next_session_at,
    open_promise_count,
    with_rollup,
)
from trustdesk.trust.promises import (
    due_soon_where,
    follow_through_parts,
    overdue_where,
    renegotiations_parts,
)
from trustdesk.trust.sessions import PUNCTUALITY_DAYS, awaiting_outcome, punctuality_parts

CLIENT_SORTS = ("name", "contact", "promises", "next_session")


@dataclass(frozen=True)
class ClientRow:
    """One line of the clients list."""

    client_id: int
    name: str
    status: ClientStatus
    stage_name: str | None
    last_touch_on: dt.date | None
    days_since_contact: int
    cadence_state: CadenceState | None
    open_promises: int
    next_session: dt.datetime | None
    snoozed_until: dt.date | None = None
    fell: Fall | None = None  # missed a session or let a promise lapse, no contact since


@dataclass(frozen=True)
class ClientPage:
    """A window of the filtered, sorted client list, and how many rows match in all."""

    total: int
    offset: int
    rows: tuple[ClientRow, ...]


def _filtered(coach: Coach, name_filter: str):
    # Archived clients leave the list (they stay in exports and the figures of the past).
    query = Client.select().where(
        (Client.coach == coach) & (Client.status != ClientStatus.ARCHIVED)
    )
    key = name_key(name_filter)
    if key:
        # sort_name is the name folded (any case, accents aside); contains() escapes % _ \.
        query = query.where(Client.sort_name.contains(key))
    return query


def client_page(
    coach: Coach,
    today: dt.date,
    *,
    name_filter: str = "",
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ClientPage:
    """Rows `offset` to `offset + limit` of the client list, filtered by name as typed."""
    if sort not in CLIENT_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    now = dt.datetime.combine(today, dt.time.min)
    # Each client's history is read from their rollup: a page costs the same after years.
    last_touch = last_touch_on(today)
    open_promises = open_promise_count()
    next_session = next_session_at(now)
    base = _filtered(coach, name_filter)
    total = base.count()
    order = {
        "name": [Client.sort_name, Client.id],
        # Oldest contact first when ascending; a client never touched counts from their start.
        "contact": [fn.COALESCE(last_touch, Client.started_on), Client.id],
        "promises": [fn.COALESCE(open_promises, 0), Client.sort_name, Client.id],
        "next_session": [fn.COALESCE(next_session, "9999-12-31"), Client.sort_name, Client.id],
    }[sort]
    if descending:
        order = [o.desc() for o in order]
    query = (
        with_rollup(base)
        .select(
            Client.id,
            Client.name,
            Client.status,
            Stage.name,
            Client.started_on,
            Client.ideal_gap_days,
            Client.max_gap_days,
            Client.snoozed_until,
            last_touch.alias("last_touch"),
            open_promises.alias("open_promises"),
            next_session.alias("next_session"),
        )
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    rows = []
    for (
        cid,
        name,
        status,
        stage,
        started,
        ideal,
        maximum,
        snoozed,
        last,
        n_open,
        nxt,
    ) in query.tuples():
        last = as_date(last)
        counted_from = last or as_date(started)
        state = None
        status = ClientStatus(status)
        if status.has_cadence:
            state = cadence_state(
                today=today,
                counted_from=counted_from,
                ideal_gap_days=ideal,
                max_gap_days=maximum,
                snoozed_until=as_date(snoozed),
            )
        rows.append(
            ClientRow(
                client_id=cid,
                name=name,
                status=status,
                stage_name=stage,
                last_touch_on=last,
                days_since_contact=(today - counted_from).days,
                cadence_state=state,
                open_promises=int(n_open or 0),
                next_session=as_datetime(nxt),
                snoozed_until=as_date(snoozed),
            )
        )
    fell = {f.client_id: f for f in falls(coach, today, client_ids=[r.client_id for r in rows])}
    if fell:
        rows = [replace(r, fell=fell.get(r.client_id)) for r in rows]
    return ClientPage(total=total, offset=offset, rows=tuple(rows))


@dataclass(frozen=True)
class DashboardSummary:
    """The numbers across the top of the dashboard: counts and rates, never lists."""

    overdue: int
    quiet: int
    due: int
    coach_kept: Rate
    on_time: Rate
    due_soon: int = 0  # open promises due from today to the due-soon window's end
    renegotiated_in_time: int = 0  # the coach's, over the follow-through window
    awaiting_outcome: int = 0  # sessions whose time is over that still say "scheduled"


def summary(coach: Coach, today: dt.date, settings: Settings) -> DashboardSummary:
    """Counts and practice-wide rates, aggregated in SQL; nothing per client is kept.

    The counts and rates are scalar subqueries of one statement, and the cadence states
    one grouped query: the dashboard's first screen waits on two round trips, not five.
    Prompts awaiting a reply are counted with the due-for-contact pane that shows them.
    """
    _, promised, kept = follow_through_parts(coach, today, "coach", settings.follow_through_days)
    _, held, on_time = punctuality_parts(
        coach, today, settings.punctuality_grace_minutes, PUNCTUALITY_DAYS
    )
    renegotiated, early = renegotiations_parts(coach, today, "coach", settings.follow_through_days)
    one = SQL("1")
    numbers = Select(
        columns=[
            Commitment.select(fn.COUNT(one)).where(overdue_where(coach, today)),
            Commitment.select(fn.COALESCE(fn.SUM(kept), 0)).where(promised),
            Commitment.select(fn.COUNT(one)).where(promised),
            Session.select(fn.COALESCE(fn.SUM(on_time), 0)).where(held),
            Session.select(fn.COUNT(one)).where(held),
            Commitment.select(fn.COUNT(one))
            .join(Client)
            .where(due_soon_where(coach, today, settings.due_soon_days)),
            Commitment.select(fn.COALESCE(fn.SUM(early), 0)).where(renegotiated),
        ]
    )
    overdue, kept_n, promised_n, on_time_n, held_n, soon_n, early_n = (
        int(n) for n in db.execute(numbers).fetchone()
    )
    states = cadence_counts(coach, today)
    now = config.now()
    if now.date() != today:
        now = dt.datetime.combine(today, now.time())
    return DashboardSummary(
        overdue=overdue,
        quiet=states[CadenceState.QUIET],
        due=states[CadenceState.DUE],
        coach_kept=Rate(kept_n, promised_n),
        on_time=Rate(on_time_n, held_n),
        due_soon=soon_n,
        renegotiated_in_time=early_n,
        awaiting_outcome=len(awaiting_outcome(coach, now)),
    )
