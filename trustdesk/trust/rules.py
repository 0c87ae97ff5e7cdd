"""The rules that decide what is overdue, who is due for contact and how promises are kept.

Each rule runs a fixed number of SQL queries however many clients there are, and
aggregates in the database; only the summary rows come back to Python. Date
arithmetic happens in Python on those rows, so the SQL stays portable between
SQLite and PostgreSQL. Every rule takes "today" explicitly: callers pass
`trustdesk.config.today()`, tests pass a fixed day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from peewee import JOIN, SQL, Case, Select, fn

from trustdesk.store.models import (
    Client,
    Coach,
    Commitment,
    Program,
    Session,
    Stage,
    Touch,
    db,
)
from trustdesk.trust.views import (
    Cadence,
    ContactWeeks,
    FollowThrough,
    Journey,
    OverduePromise,
    ProgramProgress,
    Punctuality,
    Rate,
    StageCount,
    WeekSession,
)

FOLLOW_THROUGH_DAYS = 90
PUNCTUALITY_DAYS = 90
CONTACT_WEEKS = 12


def _as_datetime(value) -> dt.datetime | None:
    """SQLite hands back aggregated timestamps as text; PostgreSQL as datetimes."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _as_date(value) -> dt.date | None:
    """SQLite hands back aggregated dates as text; PostgreSQL as dates."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _rates(query) -> tuple[dict[int, Rate], Rate]:
    """(client, kept, counted) rows into a rate per client and one for the whole practice."""
    by_client = {client_id: Rate(int(k or 0), int(n)) for client_id, k, n in query.tuples()}
    practice = Rate(
        sum(r.kept for r in by_client.values()), sum(r.counted for r in by_client.values())
    )
    return by_client, practice


# --- proof of integrity -------------------------------------------------------------


def overdue_where(coach: Coach, today: dt.date):
    return (Commitment.coach == coach) & (Commitment.status == "open") & (Commitment.due_on < today)


def count_overdue(coach: Coach, today: dt.date) -> int:
    """How many promises are overdue; one COUNT on the (coach, status, due_on) index."""
    return Commitment.select().where(overdue_where(coach, today)).count()


def overdue_promises(
    coach: Coach, today: dt.date, *, limit: int | None = None, offset: int = 0
) -> list[OverduePromise]:
    """Open promises due before today: the coach's own first, then the longest overdue.

    Due today is not overdue: there is still the rest of the day to keep it.
    """
    owner_rank = Case(None, [(Commitment.owner == "coach", 0)], 1)
    query = (
        Commitment.select(
            Commitment.id,
            Commitment.client,
            Client.name,
            Commitment.owner,
            Commitment.title,
            Commitment.promised_on,
            Commitment.due_on,
            Commitment.version,
        )
        .join(Client)
        .where(
            (Commitment.coach == coach)
            & (Commitment.status == "open")
            & (Commitment.due_on < today)
        )
        .order_by(owner_rank, Commitment.due_on, Commitment.id)
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [
        OverduePromise(
            commitment_id=row[0],
            client_id=row[1],
            client_name=row[2],
            owner=row[3],
            title=row[4],
            promised_on=_as_date(row[5]),
            due_on=_as_date(row[6]),
            days_overdue=(today - _as_date(row[6])).days,
            version=row[7],
        )
        for row in query.tuples()
    ]


def follow_through_parts(coach: Coach, today: dt.date, owner: str, days: int):
    """(window start, which promises count, whether each was kept) for follow_through."""
    start = today - dt.timedelta(days=days - 1)
    closed_on = Case(
        None,
        [
            (
                (Commitment.done_on.is_null(False)) & (Commitment.done_on < Commitment.due_on),
                Commitment.done_on,
            )
        ],
        Commitment.due_on,
    )
    counted = (
        (Commitment.status << ("done", "dropped")) & (closed_on >= start) & (closed_on <= today)
    ) | ((Commitment.status == "open") & (Commitment.due_on < today))
    kept = Case(
        None,
        [((Commitment.status == "done") & (Commitment.done_on <= Commitment.due_on), 1)],
        0,
    )
    where = (
        (Commitment.coach == coach)
        & (Commitment.owner == owner)
        & (Commitment.due_on >= start)
        & counted
    )
    return start, where, kept


def follow_through(
    coach: Coach,
    today: dt.date,
    *,
    owner: str = "coach",
    days: int = FOLLOW_THROUGH_DAYS,
    practice_only: bool = False,
) -> FollowThrough:
    """How reliably promises were kept over the last `days` days, per client and overall.

    A promise comes due on its due date, or earlier on the day it was closed (done or
    dropped). Kept means done on or before the due date. Done late, dropped, and still
    open past the due date all count against. A renegotiated promise is replaced by its
    successor, which is the one that counts. An open promise due today has not failed yet.
    """
    start, where, kept = follow_through_parts(coach, today, owner, days)
    if practice_only:  # one row from the (coach, owner, due_on, ...) covering index
        kept_n, counted_n = (
            Commitment.select(fn.SUM(kept), fn.COUNT(Commitment.id)).where(where).tuples()[0]
        )
        return FollowThrough(owner, start, today, Rate(int(kept_n or 0), int(counted_n)), {})
    query = (
        Commitment.select(Commitment.client, fn.SUM(kept), fn.COUNT(Commitment.id))
        .where(where)
        .group_by(Commitment.client)
    )
    by_client, practice = _rates(query)
    return FollowThrough(owner, start, today, practice, by_client)


def punctuality_parts(coach: Coach, today: dt.date, grace_minutes: int, days: int):
    """(window start, which held sessions count, whether each began on time)."""
    start = today - dt.timedelta(days=days - 1)
    window_start = dt.datetime.combine(start, dt.time.min)
    window_end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    on_time = Case(None, [(Session.late_minutes <= grace_minutes, 1)], 0)
    where = (
        (Session.coach == coach)
        & (Session.status == "held")
        & (Session.late_minutes.is_null(False))
        & (Session.scheduled_start >= window_start)
        & (Session.scheduled_start < window_end)
    )
    return start, where, on_time


def punctuality(
    coach: Coach,
    today: dt.date,
    *,
    grace_minutes: int = 5,
    days: int = PUNCTUALITY_DAYS,
    practice_only: bool = False,
) -> Punctuality:
    """Held sessions over the last `days` days that began no later than the grace allows.

    A held session with no recorded start time is left out rather than guessed at.
    """
    start, where, on_time = punctuality_parts(coach, today, grace_minutes, days)
    if practice_only:
        kept_n, counted_n = (
            Session.select(fn.SUM(on_time), fn.COUNT(Session.id)).where(where).tuples()[0]
        )
        return Punctuality(start, today, grace_minutes, Rate(int(kept_n or 0), int(counted_n)))
    query = (
        Session.select(Session.client, fn.SUM(on_time), fn.COUNT(Session.id))
        .where(where)
        .group_by(Session.client)
    )
    by_client, practice = _rates(query)
    return Punctuality(start, today, grace_minutes, practice, by_client)


# --- frequency of contact -----------------------------------------------------------


def last_counting_touch(today: dt.date):
    """A subquery for each client row: the day of their last touch that counts, up to today.

    A touch dated after "today" (a fixed --today, or a typo) must not make anyone look fine.
    """
    return Touch.select(fn.MAX(Touch.occurred_on)).where(
        (Touch.client == Client.id)
        & (Touch.counts_for_cadence == True)
        & (Touch.occurred_on <= today)
    )


def cadence_state(
    *,
    today: dt.date,
    counted_from: dt.date,
    ideal_gap_days: int,
    max_gap_days: int,
    snoozed_until: dt.date | None,
) -> str:
    """ok, due (the ideal gap has run out), quiet (past the maximum gap) or snoozed.

    A snooze holds through the day it names, and a snoozed client is never due.
    """
    if snoozed_until is not None and snoozed_until >= today:
        return "snoozed"
    days = (today - counted_from).days
    if days > max_gap_days:
        return "quiet"
    if days >= ideal_gap_days:
        return "due"
    return "ok"


def cadence(
    coach: Coach,
    today: dt.date,
    *,
    statuses: Sequence[str] = ("active",),
    client_ids: Iterable[int] | None = None,
) -> list[Cadence]:
    """Contact cadence for the coach's clients, most urgent first, in one query.

    A client with no touch that counts is measured from the day they started.
    """
    last_touch = last_counting_touch(today)
    last_inbound = Touch.select(fn.MAX(Touch.occurred_on)).where(
        (Touch.client == Client.id) & (Touch.direction == "inbound") & (Touch.occurred_on <= today)
    )
    query = Client.select(
        Client.id,
        Client.name,
        Client.started_on,
        Client.ideal_gap_days,
        Client.max_gap_days,
        Client.snoozed_until,
        last_touch.alias("last_touch"),
        last_inbound.alias("last_inbound"),
    ).where((Client.coach == coach) & (Client.status << tuple(statuses)))
    if client_ids is not None:
        query = query.where(Client.id << tuple(client_ids))

    rows = []
    for cid, name, started, ideal, maximum, snoozed, last, inbound in query.tuples():
        last = _as_date(last)
        inbound = _as_date(inbound)
        snoozed = _as_date(snoozed)
        counted_from = last or _as_date(started)
        rows.append(
            Cadence(
                client_id=cid,
                client_name=name,
                ideal_gap_days=ideal,
                max_gap_days=maximum,
                last_touch_on=last,
                counted_from=counted_from,
                days_since_touch=(today - counted_from).days,
                due_on=counted_from + dt.timedelta(days=ideal),
                state=cadence_state(
                    today=today,
                    counted_from=counted_from,
                    ideal_gap_days=ideal,
                    max_gap_days=maximum,
                    snoozed_until=snoozed,
                ),
                snoozed_until=snoozed,
                last_inbound_on=inbound,
                days_since_inbound=None if inbound is None else (today - inbound).days,
            )
        )
    rows.sort(key=lambda c: c.urgency)
    return rows


def _week_starts(today: dt.date, weeks: int) -> tuple[dt.date, ...]:
    last_start = today - dt.timedelta(days=6)
    return tuple(last_start - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks))


def _bucket(starts: tuple[dt.date, ...], day: dt.date) -> int:
    return (day - starts[0]).days // 7


def contact_by_week(
    coach: Coach,
    today: dt.date,
    client_ids: Iterable[int],
    *,
    weeks: int = CONTACT_WEEKS,
) -> dict[int, ContactWeeks]:
    """Touches that count per week for the given clients, for a sparkline each; one query.

    The database counts touches per client per day; Python folds days into weeks, which
    keeps the SQL free of date functions that differ between databases.
    """
    client_ids = tuple(client_ids)
    starts = _week_starts(today, weeks)
    counts = {cid: [0] * weeks for cid in client_ids}
    if client_ids:
        query = (
            Touch.select(Touch.client, Touch.occurred_on, fn.COUNT(Touch.id))
            .where(
                (Touch.client << client_ids)
                & (Touch.coach == coach)
                & (Touch.counts_for_cadence == True)
                & (Touch.occurred_on >= starts[0])
                & (Touch.occurred_on <= today)
            )
            .group_by(Touch.client, Touch.occurred_on)
        )
        for cid, day, n in query.tuples():
            counts[cid][_bucket(starts, _as_date(day))] += n
    return {cid: ContactWeeks(starts, tuple(c)) for cid, c in counts.items()}


def practice_contact_by_week(
    coach: Coach, today: dt.date, *, weeks: int = CONTACT_WEEKS
) -> ContactWeeks:
    """Touches that count per week across the whole practice; one query."""
    starts = _week_starts(today, weeks)
    counts = [0] * weeks
    query = (
        Touch.select(Touch.occurred_on, fn.COUNT(Touch.id))
        .where(
            (Touch.coach == coach)
            & (Touch.counts_for_cadence == True)
            & (Touch.occurred_on >= starts[0])
            & (Touch.occurred_on <= today)
        )
        .group_by(Touch.occurred_on)
    )
    for day, n in query.tuples():
        counts[_bucket(starts, _as_date(day))] += n
    return ContactWeeks(starts, tuple(counts))


# --- clarity of process ---------------------------------------------------------------


def journeys(
    coach: Coach,
    *,
    statuses: Sequence[str] | None = None,
    client_ids: Iterable[int] | None = None,
) -> list[Journey]:
    """Each client's program, current stage and sessions held against the typical number."""
    stage_count = Stage.select(fn.COUNT(Stage.id)).where(Stage.program == Client.program)
    held = Session.select(fn.COUNT(Session.id)).where(
        (Session.client == Client.id) & (Session.status == "held")
    )
    query = (
        Client.select(
            Client.id,
            Client.name,
            Program.name,
            Program.typical_sessions,
            Stage.name,
            Stage.position,
            stage_count.alias("stage_count"),
            held.alias("held"),
        )
        .join(Program, JOIN.LEFT_OUTER, on=(Client.program == Program.id))
        .switch(Client)
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .where(Client.coach == coach)
        .order_by(Client.name, Client.id)
    )
    if statuses is not None:
        query = query.where(Client.status << tuple(statuses))
    if client_ids is not None:
        query = query.where(Client.id << tuple(client_ids))
    return [
        Journey(
            client_id=cid,
            client_name=name,
            program_name=program,
            stage_name=stage,
            stage_position=position,
            stage_count=int(n_stages or 0),
            sessions_held=int(n_held or 0),
            typical_sessions=int(typical or 0),
        )
        for cid, name, program, typical, stage, position, n_stages, n_held in query.tuples()
    ]


def journey_progress(coach: Coach) -> list[ProgramProgress]:
    """For each program: how many active clients are at each stage; two queries."""
    stages = (
        Stage.select(Stage.id, Stage.program, Stage.name, Stage.position, Program.name)
        .join(Program)
        .where(Stage.coach == coach)
        .order_by(fn.LOWER(Program.name), Program.id, Stage.position)
    )
    by_stage: dict[tuple[str, int], int] = {}
    held: dict[int, int] = {}
    typical: dict[int, int] = {}
    clients: dict[int, int] = {}
    for j in journeys(coach, statuses=("active",)):
        if j.program_name is None:
            continue
        key = j.program_name
        clients[key] = clients.get(key, 0) + 1
        held[key] = held.get(key, 0) + j.sessions_held
        typical[key] = typical.get(key, 0) + j.typical_sessions
        if j.stage_position is not None:
            by_stage[(key, j.stage_position)] = by_stage.get((key, j.stage_position), 0) + 1
    programs: dict[str, list[StageCount]] = {}
    for _sid, _pid, stage_name, position, program_name in stages.tuples():
        programs.setdefault(program_name, []).append(
            StageCount(stage_name, position, by_stage.get((program_name, position), 0))
        )
    return [
        ProgramProgress(name, tuple(counts), clients.get(name, 0), held.get(name, 0),
                        typical.get(name, 0))
        for name, counts in programs.items()
    ]  # fmt: skip


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday of the week that holds `today`."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def sessions_this_week(coach: Coach, today: dt.date) -> list[WeekSession]:
    """Sessions scheduled, held or missed this week (Monday to Sunday), in time order."""
    monday, sunday = week_of(today)
    start = dt.datetime.combine(monday, dt.time.min)
    end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min)
    query = (
        Session.select(Session.id, Session.client, Client.name, Session.scheduled_start,
                       Session.status)
        .join(Client)
        .where((Session.coach == coach) & (Session.scheduled_start >= start)
               & (Session.scheduled_start < end) & (Session.status != "cancelled"))
        .order_by(Session.scheduled_start, Session.id)
    )  # fmt: skip
    return [
        WeekSession(sid, cid, name, _as_datetime(at), status)
        for sid, cid, name, at, status in query.tuples()
    ]


def cadence_counts(coach: Coach, today: dt.date) -> dict[str, int]:
    """How many active clients are in each cadence state.

    Clients are grouped in SQL by the four things their state depends on, so a practice
    of thousands hands back a few hundred groups rather than a row per client.
    """
    counted_from = fn.COALESCE(last_counting_touch(today), Client.started_on)
    snoozed = Case(None, [(Client.snoozed_until >= today, Client.snoozed_until)], None)
    each = (
        Client.select(
            counted_from.alias("since"),
            Client.ideal_gap_days.alias("ideal"),
            Client.max_gap_days.alias("most"),
            snoozed.alias("snoozed"),
        )
        .where((Client.coach == coach) & (Client.status == "active"))
        .alias("each_client")
    )
    # Grouped outside: PostgreSQL will not group by a subquery on the outer row.
    keys = (each.c.since, each.c.ideal, each.c.most, each.c.snoozed)
    query = Select([each], [*keys, fn.COUNT(SQL("*"))]).group_by(*keys)
    counts = dict.fromkeys(("quiet", "due", "ok", "snoozed"), 0)
    for since, ideal, maximum, snoozed_until, clients in db.execute(query):
        state = cadence_state(
            today=today,
            counted_from=_as_date(since),
            ideal_gap_days=ideal,
            max_gap_days=maximum,
            snoozed_until=_as_date(snoozed_until),
        )
        counts[state] += int(clients)
    return counts
