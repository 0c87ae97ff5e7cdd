"""Frequency of contact: who is due for contact or has gone quiet, who fell (missed a
session or let a promise lapse, with no contact since), touches per week, and logging,
correcting or taking back a touch, or snoozing a client's cadence.

Each read runs a fixed number of SQL queries however many clients there are; date
arithmetic happens in Python on the summary rows, so the SQL stays portable between
SQLite and PostgreSQL. Every read takes "today" explicitly. Each write checks what it
is given, runs in one transaction, and refuses with one plain line (ActionError).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from peewee import JOIN, SQL, Case, Select, fn

from trustdesk.store.models import (
    TOUCH_CHANNELS,
    TOUCH_DIRECTIONS,
    Client,
    ClientRollup,
    Coach,
    Commitment,
    Session,
    Touch,
    days_after,
    db,
)
from trustdesk.store.practice import delete_rows
from trustdesk.store.states import CadenceState, ClientStatus, PromiseState, SessionStatus
from trustdesk.trust.common import (
    ActionError,
    as_date,
    as_datetime,
    change_unless_changed,
    checked_text,
    coach_client,
    refuse_if_changed,
    unchanged_since,
)
from trustdesk.trust.dates import shown_day

CONTACT_WEEKS = 12


@dataclass(frozen=True)
class Cadence:
    """Where a client stands on contact: how long since the last touch and what that means."""

    client_id: int
    client_name: str
    ideal_gap_days: int
    max_gap_days: int
    last_touch_on: dt.date | None
    counted_from: dt.date
    days_since_touch: int
    due_on: dt.date
    state: CadenceState
    snoozed_until: dt.date | None
    last_inbound_on: dt.date | None
    days_since_inbound: int | None

    @property
    def days_past_due(self) -> int:
        return self.days_since_touch - self.ideal_gap_days

    @property
    def needs_contact(self) -> bool:
        """Due for contact or gone quiet (a snoozed client never is)."""
        return self.state.needs_contact

    @property
    def urgency(self) -> tuple[int, int, str]:
        """Sort key: quiet before due before ok before snoozed, then the longest wait first."""
        return (self.state.urgency, -self.days_past_due, self.client_name)


@dataclass(frozen=True)
class ContactWeeks:
    """Touches that count, per week, oldest week first; the last week ends today."""

    week_starts: tuple[dt.date, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class TouchItem:
    touch_id: int
    occurred_on: dt.date
    channel: str
    direction: str
    counts_for_cadence: bool
    summary: str
    version: int = 1  # as read; a save from this copy is refused once it has changed
    source: str = ""  # "" typed by the coach, "mail" read by mail sync, "sent" sent by email


@dataclass(frozen=True)
class MessageItem:
    """A message that logged itself as a touch: read from mail, or a prompt sent by email."""

    touch_id: int
    occurred_on: dt.date
    direction: str  # "inbound" (from the client) or "outbound"
    subject: str
    source: str  # "mail" or "sent"


LAST_MESSAGES = 5


# --- reads ---------------------------------------------------------------------------


def last_counting_touch(today: dt.date):
    """A subquery for each client row: the day of their last touch that counts, up to today.

    A touch dated after "today" (a fixed --today, or a typo) must not make anyone look fine.
    """
    return Touch.select(fn.MAX(Touch.occurred_on)).where(
        (Touch.client == Client.id)
        & (Touch.counts_for_cadence == True)
        & (Touch.occurred_on <= today)
    )


def with_rollup(query):
    """The query over clients joined to each client's rollup (store.rollups).

    Outer: a client whose rollup is missing still shows, read from the rows instead.
    """
    return query.join(
        ClientRollup,
        JOIN.LEFT_OUTER,
        on=((ClientRollup.coach == Client.coach) & (ClientRollup.client == Client.id)),
    ).switch(Client)


def _kept_unless(stale, kept, rows):
    """The rollup's value, or the rows' when the rollup is missing or `stale` holds."""
    return Case(None, [((ClientRollup.client.is_null()) | stale, rows)], kept)


def last_touch_on(today: dt.date):
    """Per client (with_rollup): the last touch that counts, up to today.

    The rollup keeps the latest of any date; only a touch dated after today sends the
    row back to the touches.
    """
    kept = ClientRollup.last_touch_on
    return _kept_unless(kept > today, kept, last_counting_touch(today))


def last_inbound_on(today: dt.date):
    """Per client (with_rollup): the last touch from the client, up to today."""
    rows = Touch.select(fn.MAX(Touch.occurred_on)).where(
        (Touch.client == Client.id) & (Touch.direction == "inbound") & (Touch.occurred_on <= today)
    )
    kept = ClientRollup.last_inbound_on
    return _kept_unless(kept > today, kept, rows)


def open_promise_count():
    """Per client (with_rollup): how many promises are open."""
    rows = Commitment.select(fn.COUNT(Commitment.id)).where(
        (Commitment.client == Client.id) & (Commitment.status == PromiseState.OPEN)
    )
    return _kept_unless(SQL("1 = 0"), ClientRollup.open_promises, rows)


def sessions_held_count():
    """Per client (with_rollup): how many of their sessions were held."""
    rows = Session.select(fn.COUNT(Session.id)).where(
        (Session.client == Client.id) & (Session.status == SessionStatus.HELD)
    )
    return _kept_unless(SQL("1 = 0"), ClientRollup.sessions_held, rows)


def next_session_at(now: dt.datetime):
    """Per client (with_rollup): the first session still scheduled from `now` on.

    The rollup keeps the earliest scheduled one of any time; only a session whose time
    has passed without an outcome sends the row back to the sessions.
    """
    rows = Session.select(fn.MIN(Session.scheduled_start)).where(
        (Session.client == Client.id)
        & (Session.status == SessionStatus.SCHEDULED)
        & (Session.scheduled_start >= now)
    )
    kept = ClientRollup.next_session_at
    return _kept_unless(kept < now, kept, rows)


def cadence_state(
    *,
    today: dt.date,
    counted_from: dt.date,
    ideal_gap_days: int,
    max_gap_days: int,
    snoozed_until: dt.date | None,
) -> CadenceState:
    """ok, due (the ideal gap has run out), quiet (past the maximum gap) or snoozed.

    A snooze holds through the day it names, and a snoozed client is never due.
    """
    if snoozed_until is not None and snoozed_until >= today:
        return CadenceState.SNOOZED
    days = (today - counted_from).days
    if days > max_gap_days:
        return CadenceState.QUIET
    if days >= ideal_gap_days:
        return CadenceState.DUE
    return CadenceState.OK


def cadence(
    coach: Coach,
    today: dt.date,
    *,
    statuses: Sequence[str] = (ClientStatus.ACTIVE,),
    client_ids: Iterable[int] | None = None,
    needing_contact: bool = False,
) -> list[Cadence]:
    """Contact cadence for the coach's clients, most urgent first, in one query.

    A client with no touch that counts is measured from the day they started. With
    `needing_contact`, only the due and the quiet are read: the database compares each
    client's last touch with their gap, so a practice of 100,000 hands back the few
    thousand to reach, not every client.
    """
    query = with_rollup(
        Client.select(
            Client.id,
            Client.name,
            Client.started_on,
            Client.ideal_gap_days,
            Client.max_gap_days,
            Client.snoozed_until,
            last_touch_on(today).alias("last_touch"),
            last_inbound_on(today).alias("last_inbound"),
        )
    ).where((Client.coach == coach) & (Client.status << tuple(statuses)))
    if client_ids is not None:
        query = query.where(Client.id << tuple(client_ids))
    if needing_contact:
        counted_from = fn.COALESCE(last_touch_on(today), Client.started_on)
        query = query.where(
            (Client.snoozed_until.is_null() | (Client.snoozed_until < today))
            & (
                (days_after(counted_from, Client.ideal_gap_days) <= today)
                | (days_after(counted_from, Client.max_gap_days + 1) <= today)
            )
        )

    rows = []
    for cid, name, started, ideal, maximum, snoozed, last, inbound in query.tuples():
        last = as_date(last)
        inbound = as_date(inbound)
        snoozed = as_date(snoozed)
        counted_from = last or as_date(started)
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


def cadence_counts(coach: Coach, today: dt.date) -> dict[CadenceState, int]:
    """How many active clients are in each cadence state.

    The database puts each client in their state (cadence_state's rule, in SQL) and
    counts them: a practice of 100,000 hands back four numbers, not a row per client.
    """
    counted_from = fn.COALESCE(last_touch_on(today), Client.started_on)
    each = (
        with_rollup(
            Client.select(
                counted_from.alias("since"),
                Client.ideal_gap_days.alias("ideal"),
                Client.max_gap_days.alias("most"),
                Client.snoozed_until.alias("snoozed"),
            )
        )
        .where((Client.coach == coach) & (Client.status == ClientStatus.ACTIVE))
        .alias("each_client")
    )
    # Grouped outside: PostgreSQL will not group by a subquery on the outer row.
    state = Case(
        None,
        [
            (each.c.snoozed >= today, CadenceState.SNOOZED.value),
            (days_after(each.c.since, each.c.most + 1) <= today, CadenceState.QUIET.value),
            (days_after(each.c.since, each.c.ideal) <= today, CadenceState.DUE.value),
        ],
        CadenceState.OK.value,
    )
    # By position: the CASE's parameters would make a repeated expression a different one.
    query = Select([each], [state, fn.COUNT(SQL("*"))]).group_by(SQL("1"))
    counts = dict.fromkeys(CadenceState, 0)
    for name, clients in db.execute(query):
        counts[CadenceState(name)] += int(clients)
    return counts


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
            counts[cid][_bucket(starts, as_date(day))] += n
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
        counts[_bucket(starts, as_date(day))] += n
    return ContactWeeks(starts, tuple(counts))


def touch_item(t: Touch) -> TouchItem:
    return TouchItem(t.id, t.occurred_on, t.channel, t.direction, t.counts_for_cadence,
                     t.summary, t.version, t.source or "")  # fmt: skip


def recent_touches(client_id: int, limit: int) -> tuple[TouchItem, ...]:
    """A client's latest `limit` touches, newest first."""
    return tuple(
        touch_item(t)
        for t in Touch.select().where(Touch.client == client_id)
        .order_by(Touch.occurred_on.desc(), Touch.id.desc()).limit(limit)
    )  # fmt: skip


def last_messages(client_id: int, limit: int = LAST_MESSAGES) -> tuple[MessageItem, ...]:
    """A client's latest messages (touches that carry a message id), newest first; one query.

    The subject is the touch's summary: mail sync stores the decoded Subject there, never
    the body.
    """
    query = (
        Touch.select(Touch.id, Touch.occurred_on, Touch.direction, Touch.summary, Touch.source)
        .where((Touch.client == client_id) & Touch.message_id.is_null(False))
        .order_by(Touch.occurred_on.desc(), Touch.id.desc())
        .limit(limit)
    )
    return tuple(
        MessageItem(tid, as_date(on), direction, summary or "", source or "")
        for tid, on, direction, summary, source in query.tuples()
    )


def saved_touch(coach: Coach, touch_id: int) -> TouchItem | None:
    """A touch as it is saved now, or None once it is gone."""
    row = Touch.get_or_none((Touch.id == touch_id) & (Touch.coach == coach))
    return None if row is None else touch_item(row)


@dataclass(frozen=True)
class Fall:
    """A client who fell: missed a session (a no-show, or called it off late) or let one of
    their own promises go past its due day, and has had no contact that counts since.

    The coach catches them by reaching out: any counted touch after the event clears it
    (for a missed session, one on that day counts: touches carry no time of day).
    """

    client_id: int
    client_name: str
    kind: str  # "no_show", "late_cancel" or "promise"
    on: dt.date  # the missed session's day, or the promise's due day
    promise_title: str = ""
    last_contact_on: dt.date | None = None

    def words(self, when: str) -> str:
        """What happened, with `when` the day as the caller writes dates:
        'missed Tue 24 Nov session', 'promise due Fri 27 Nov not kept'."""
        if self.kind == "promise":
            return f"promise due {when} not kept"
        if self.kind == "late_cancel":
            return f"cancelled {when} session late"
        return f"missed {when} session"

    def told(self, today: dt.date) -> str:
        """words() with the day as reports write it: 'Tue 24 Nov', the year if not today's."""
        return self.words(shown_day(self.on, today))


MISSED = (SessionStatus.NO_SHOW, SessionStatus.LATE_CANCEL)


def falls(coach: Coach, today: dt.date, *, client_ids: Iterable[int] | None = None) -> list[Fall]:
    """Active clients who fell and have not been reached since, the latest fall first.

    One query finds, per client, the last missed session, the last past-due promise of
    theirs still open and the last contact that counts; a second reads what the flagged
    ones missed. A session the coach called off late is the coach's doing, not a fall.
    """
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    missed_rows = Session.select(fn.MAX(Session.scheduled_start)).where(
        (Session.client == Client.id)
        & (Session.status << MISSED)
        & (Session.cancelled_by.is_null() | (Session.cancelled_by != "coach"))
        & (Session.scheduled_start < tomorrow)
    )
    kept_missed = ClientRollup.last_missed_at
    missed = _kept_unless(kept_missed >= tomorrow, kept_missed, missed_rows)
    # The latest lapse is asked of the open promises only when the earliest one lapsed.
    lapsed_rows = Commitment.select(fn.MAX(Commitment.due_on)).where(
        (Commitment.client == Client.id)
        & (Commitment.owner == "client")
        & (Commitment.status == PromiseState.OPEN)
        & (Commitment.due_on < today)
    )
    first_due = ClientRollup.first_client_due_on
    lapsed = _kept_unless(first_due < today, None, lapsed_rows)
    # Those who missed a session since their last contact, or hold a lapsed promise (or
    # whose rollup cannot say: missing, or a touch or a miss dated after today).
    query = with_rollup(
        Client.select(
            Client.id,
            Client.name,
            missed.alias("missed"),
            lapsed.alias("lapsed"),
            last_touch_on(today).alias("last_touch"),
        )
    ).where(
        (Client.coach == coach)
        & (Client.status == ClientStatus.ACTIVE)
        & (
            ClientRollup.client.is_null()
            | (ClientRollup.first_client_due_on < today)
            | (ClientRollup.last_missed_at >= tomorrow)
            | (ClientRollup.last_touch_on > today)
            | (
                ClientRollup.last_missed_at.is_null(False)
                & (
                    ClientRollup.last_touch_on.is_null()
                    | (ClientRollup.last_touch_on < fn.DATE(ClientRollup.last_missed_at))
                )
            )
        )
    )
    if client_ids is not None:
        query = query.where(Client.id << tuple(client_ids))
    found: dict[int, tuple[str, str, dt.date, dt.date | None, dt.datetime | None]] = {}
    for cid, name, missed_at, lapsed_on, last in query.tuples():
        last = as_date(last)
        missed_at = as_datetime(missed_at)
        lapsed_on = as_date(lapsed_on)
        missed_fell = missed_at is not None and (last is None or last < missed_at.date())
        lapsed_fell = lapsed_on is not None and (last is None or last <= lapsed_on)
        if missed_fell and (not lapsed_fell or missed_at.date() >= lapsed_on):
            found[cid] = (name, "session", missed_at.date(), last, missed_at)
        elif lapsed_fell:
            found[cid] = (name, "promise", lapsed_on, last, None)
    if not found:
        return []
    kinds: dict[int, str] = {}
    titles: dict[int, str] = {}
    sessions = [cid for cid, f in found.items() if f[1] == "session"]
    promises = [cid for cid, f in found.items() if f[1] == "promise"]
    # Read by the clients found above, all the coach's, through their own index, and
    # unordered: an ORDER BY id would have SQLite walk every session the coach ever had.
    # Of two rows on the same moment, the later session and the earlier promise win.
    if sessions:
        chosen: dict[int, int] = {}
        for sid, cid, at, status in (
            Session.select(Session.id, Session.client, Session.scheduled_start, Session.status)
            .where((Session.client << sessions) & (Session.status << MISSED))
            .tuples()
        ):  # fmt: skip
            if as_datetime(at) == found[cid][4] and sid > chosen.get(cid, sid - 1):
                chosen[cid], kinds[cid] = sid, status
    if promises:
        first: dict[int, int] = {}
        for pid, cid, due, title in (
            Commitment.select(Commitment.id, Commitment.client, Commitment.due_on,
                              Commitment.title)
            .where((Commitment.client << promises) & (Commitment.owner == "client")
                   & (Commitment.status == PromiseState.OPEN))
            .tuples()
        ):  # fmt: skip
            if as_date(due) == found[cid][2] and pid < first.get(cid, pid + 1):
                first[cid], titles[cid] = pid, title
    out = [
        Fall(
            client_id=cid,
            client_name=name,
            kind="promise" if what == "promise" else kinds.get(cid, SessionStatus.NO_SHOW),
            on=on,
            promise_title=titles.get(cid, ""),
            last_contact_on=last,
        )
        for cid, (name, what, on, last, _) in found.items()
    ]
    out.sort(key=lambda f: (-f.on.toordinal(), f.client_name, f.client_id))
    return out


# --- writes --------------------------------------------------------------------------


def _check_touch(
    channel: str, direction: str, summary: str, occurred_on: dt.date, today: dt.date, verb: str
) -> None:
    """What a new touch and a corrected one must both be."""
    if channel not in TOUCH_CHANNELS:
        raise ActionError(f"unknown channel {channel!r}")
    if direction not in TOUCH_DIRECTIONS:
        raise ActionError(f"unknown direction {direction!r}")
    checked_text(summary, "the summary", required=False)
    if occurred_on > today:
        raise ActionError(f"a touch cannot be {verb} in the future")


def log_touch(
    coach: Coach,
    client_id: int,
    *,
    channel: str,
    direction: str,
    summary: str,
    occurred_on: dt.date,
    today: dt.date,
    counts_for_cadence: bool = True,
) -> int:
    client = coach_client(coach, client_id)
    _check_touch(channel, direction, summary, occurred_on, today, "logged")
    with db.atomic():
        return Touch.create(
            coach=coach,
            client=client,
            occurred_on=occurred_on,
            channel=channel,
            direction=direction,
            summary=summary,
            counts_for_cadence=counts_for_cadence,
        ).id


def snooze(coach: Coach, client_id: int, until: dt.date | None, today: dt.date) -> None:
    """Hold a client's cadence until a date (through that day); None lifts the snooze."""
    client = coach_client(coach, client_id)
    if until is not None and until < today:
        raise ActionError("a snooze must end today or later")
    with db.atomic():
        Client.update(snoozed_until=until).where(Client.id == client.id).execute()


def _touch(coach: Coach, touch_id: int) -> Touch:
    touch = Touch.get_or_none((Touch.id == touch_id) & (Touch.coach == coach))
    if touch is None:
        raise ActionError("that touch no longer exists")
    return touch


def edit_touch(
    coach: Coach,
    touch_id: int,
    *,
    channel: str,
    direction: str,
    summary: str,
    occurred_on: dt.date,
    today: dt.date,
    counts_for_cadence: bool,
    version: int | None = None,
) -> None:
    """Correct a logged touch: checked as log_touch checks a new one."""
    touch = _touch(coach, touch_id)
    _check_touch(channel, direction, summary, occurred_on, today, "dated")
    if not isinstance(counts_for_cadence, bool):
        raise ActionError("whether a touch counts for cadence is yes or no")
    with db.atomic():
        change_unless_changed(
            Touch,
            touch.id,
            coach,
            version,
            "that touch",
            ActionError("that touch no longer exists"),
            channel=channel,
            direction=direction,
            summary=summary,
            occurred_on=occurred_on,
            counts_for_cadence=counts_for_cadence,
        )


def remove_touch(coach: Coach, touch_id: int, *, version: int | None = None) -> None:
    """Take back a touch logged by mistake (not one corrected elsewhere meanwhile)."""
    touch = _touch(coach, touch_id)
    with db.atomic():
        removed = delete_rows(
            Touch, (Touch.id == touch.id) & (Touch.coach == coach) & unchanged_since(Touch, version)
        )
    if removed != 1:
        refuse_if_changed(Touch, touch.id, coach, version, "that touch")
        raise ActionError("that touch no longer exists")
