"""Proof of integrity, promises: what is overdue, how reliably promises are kept, and
keeping, renegotiating or dropping one.

Reads run a fixed number of queries and aggregate in the database. Each write checks
what it is given, runs in one transaction, and refuses with one plain line
(ActionError). A promise that was closed elsewhere since the screen loaded it is
refused, not silently changed again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import Case, fn

from trustdesk.store.models import COMMITMENT_OWNERS, Client, Coach, Commitment, db
from trustdesk.store.states import ClientStatus, PromiseState
from trustdesk.trust.common import (
    ActionError,
    ChangedElsewhere,
    Rate,
    as_date,
    checked_text,
    coach_client,
    rates,
    unchanged_since,
)

FOLLOW_THROUGH_DAYS = 90


@dataclass(frozen=True)
class OverduePromise:
    """An open commitment whose due date has passed."""

    commitment_id: int
    client_id: int
    client_name: str
    owner: str
    title: str
    promised_on: dt.date
    due_on: dt.date
    days_overdue: int
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class FollowThrough:
    """Promises kept on or before their due date, over all that came due in the window."""

    owner: str
    window_start: dt.date
    window_end: dt.date
    practice: Rate
    by_client: dict[int, Rate] = field(default_factory=dict)

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days + 1


@dataclass(frozen=True)
class PromiseItem:
    """One of a client's promises, open or closed, as the workspace lists it."""

    commitment_id: int
    owner: str
    title: str
    promised_on: dt.date
    due_on: dt.date
    done_on: dt.date | None
    status: PromiseState
    reason: str
    version: int = 1  # as read; a save from this copy is refused once it has changed

    @property
    def can_change(self) -> bool:
        """Only an open promise can be edited, kept, renegotiated or dropped."""
        return self.status.can_change


# --- reads ---------------------------------------------------------------------------


def archived_clients(coach: Coach):
    """The ids of the coach's archived clients: their promises leave the current lists."""
    return Client.select(Client.id).where(
        (Client.coach == coach) & (Client.status == ClientStatus.ARCHIVED)
    )


def overdue_where(coach: Coach, today: dt.date):
    return (
        (Commitment.coach == coach)
        & (Commitment.status == PromiseState.OPEN)
        & (Commitment.due_on < today)
        & Commitment.client.not_in(archived_clients(coach))
    )


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
            & (Commitment.status == PromiseState.OPEN)
            & (Commitment.due_on < today)
            & (Client.status != ClientStatus.ARCHIVED)
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
            promised_on=as_date(row[5]),
            due_on=as_date(row[6]),
            days_overdue=(today - as_date(row[6])).days,
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
        (Commitment.status << (PromiseState.DONE, PromiseState.DROPPED))
        & (closed_on >= start)
        & (closed_on <= today)
    ) | ((Commitment.status == PromiseState.OPEN) & (Commitment.due_on < today))
    kept = Case(
        None,
        [((Commitment.status == PromiseState.DONE) & (Commitment.done_on <= Commitment.due_on), 1)],
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
    by_client, practice = rates(query)
    return FollowThrough(owner, start, today, practice, by_client)


def promise_item(c: Commitment) -> PromiseItem:
    return PromiseItem(c.id, c.owner, c.title, c.promised_on, c.due_on, c.done_on,
                       PromiseState(c.status), c.reason, c.version)  # fmt: skip


# Open promises by due date, most overdue first; closed ones after, most recent first.
_open_due_first = Case(None, [(Commitment.status == PromiseState.OPEN, Commitment.due_on)], None)


def client_promises(client_id: int) -> tuple[PromiseItem, ...]:
    """A client's promises: open ones by due date first, then closed ones, newest first."""
    return tuple(
        promise_item(c)
        for c in Commitment.select().where(Commitment.client == client_id)
        .order_by(Commitment.status != PromiseState.OPEN, _open_due_first,
                  Commitment.due_on.desc(), Commitment.id)
    )  # fmt: skip


def saved_promise(coach: Coach, commitment_id: int) -> PromiseItem | None:
    """A promise as it is saved now, or None once it is gone."""
    row = Commitment.get_or_none((Commitment.id == commitment_id) & (Commitment.coach == coach))
    return None if row is None else promise_item(row)


# --- writes --------------------------------------------------------------------------


def _open_commitment(coach: Coach, commitment_id: int) -> Commitment:
    promise = Commitment.get_or_none((Commitment.id == commitment_id) & (Commitment.coach == coach))
    if promise is None:
        raise ActionError("that promise no longer exists")
    if not PromiseState(promise.status).can_change:
        raise ActionError(f"that promise is already {promise.status}; the list has been refreshed")
    return promise


def _change_open(promise: Commitment, version: int | None = None, **changes) -> None:
    """Change (edit or close) an open promise, unless another window changed it first."""
    updated = (
        Commitment.update(**changes)
        .where(
            (Commitment.id == promise.id)
            & (Commitment.status == PromiseState.OPEN)
            & unchanged_since(Commitment, version)
        )
        .execute()
    )
    if updated != 1:
        raise ChangedElsewhere("that promise")


def add_commitment(
    coach: Coach,
    client_id: int,
    *,
    owner: str,
    title: str,
    due_on: dt.date,
    promised_on: dt.date,
) -> int:
    client = coach_client(coach, client_id)
    if owner not in COMMITMENT_OWNERS:
        raise ActionError(f"a promise is owed by the coach or the client, not {owner!r}")
    checked_text(title, "what was promised")
    if due_on < promised_on:
        raise ActionError("the due date is before the day it was promised")
    with db.atomic():
        return Commitment.create(
            coach=coach,
            client=client,
            owner=owner,
            title=title,
            promised_on=promised_on,
            due_on=due_on,
        ).id


def edit_commitment(
    coach: Coach,
    commitment_id: int,
    *,
    title: str,
    due_on: dt.date,
    version: int | None = None,
) -> None:
    promise = _open_commitment(coach, commitment_id)
    checked_text(title, "what was promised")
    if due_on < promise.promised_on:
        raise ActionError("the due date is before the day it was promised")
    with db.atomic():
        _change_open(promise, version, title=title, due_on=due_on)


def mark_done(
    coach: Coach, commitment_id: int, done_on: dt.date, *, version: int | None = None
) -> None:
    promise = _open_commitment(coach, commitment_id)
    if done_on < promise.promised_on:
        raise ActionError("a promise cannot be kept before it was made")
    with db.atomic():
        _change_open(promise, version, status=PromiseState.DONE, done_on=done_on)


def renegotiate(
    coach: Coach,
    commitment_id: int,
    new_due: dt.date,
    today: dt.date,
    *,
    version: int | None = None,
) -> int:
    """Close the promise as renegotiated and open its successor with the new due date.

    The successor is the one follow-through counts; renegotiating is honest, not a failure.
    """
    promise = _open_commitment(coach, commitment_id)
    if new_due < today:
        raise ActionError("the new due date is in the past")
    if new_due == promise.due_on:
        raise ActionError("the new due date is the same as the old one")
    with db.atomic():
        _change_open(promise, version, status=PromiseState.RENEGOTIATED, done_on=today)
        return Commitment.create(
            coach=coach,
            client=promise.client_id,
            owner=promise.owner,
            title=promise.title,
            promised_on=today,
            due_on=new_due,
            renegotiated_from=promise.id,
        ).id


def drop(
    coach: Coach,
    commitment_id: int,
    reason: str,
    today: dt.date,
    *,
    version: int | None = None,
) -> None:
    promise = _open_commitment(coach, commitment_id)
    checked_text(reason, "the reason")
    with db.atomic():
        _change_open(promise, version, status=PromiseState.DROPPED, done_on=today, reason=reason)
