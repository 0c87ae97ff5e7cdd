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
from trustdesk.store.practice import delete_rows
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
DUE_SOON_DAYS = 7
ASKERS = ("client", "coach")  # who may ask for a renegotiation
_LISTED = tuple(s.value for s in ClientStatus if s.is_listed)


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
class DueSoonPromise:
    """An open commitment due from today to a few days ahead: still in time to keep."""

    commitment_id: int
    client_id: int
    client_name: str
    owner: str
    title: str
    promised_on: dt.date
    due_on: dt.date
    days_left: int  # 0 when it is due today
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class Closing:
    """What closing a promise (done, dropped, renegotiated) changed, so that it can be
    undone exactly: what the promise held before, the version the close left it at, and
    for a renegotiation the new promise it opened."""

    commitment_id: int
    title: str
    status: PromiseState  # what the close made it
    version: int  # the promise's version right after the close
    done_on: dt.date | None  # what it held before the close
    reason: str
    asked_by: str
    successor_id: int | None = None
    successor_version: int = 1


@dataclass(frozen=True)
class Renegotiations:
    """Promises moved to a new date over a window, and how many of them before they were due."""

    owner: str
    in_time: int
    total: int


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
    asked_by: str = ""  # on a renegotiated promise: "client", "coach" or "" (not known)

    @property
    def can_change(self) -> bool:
        """Only an open promise can be edited, kept, renegotiated or dropped."""
        return self.status.can_change

    @property
    def can_correct_done_on(self) -> bool:
        """Only a kept promise has a done date worth correcting."""
        return self.status is PromiseState.DONE

    @property
    def renegotiated_in_time(self) -> bool | None:
        """For a renegotiated promise: whether it was moved before it became overdue."""
        if self.status is not PromiseState.RENEGOTIATED or self.done_on is None:
            return None
        return self.done_on <= self.due_on


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
    where = (
        (Commitment.coach == coach)
        & (Commitment.status == PromiseState.OPEN)
        & (Commitment.due_on < today)
        & (Client.status != ClientStatus.ARCHIVED)
    )
    return [
        OverduePromise(**row, days_overdue=(today - row["due_on"]).days)
        for row in _open_promise_rows(where, limit, offset)
    ]


def _open_promise_rows(
    where, limit: int | None = None, offset: int = 0, *, mine_first: bool = True
) -> list[dict]:
    """Open promises meeting `where`, with their client's name: the coach's own first (what
    the coach can act on) unless `mine_first` is off, then by due day. The overdue, the
    due-soon and the command line's lists share it."""
    order = (Commitment.due_on, Commitment.id)
    if mine_first:
        order = (Case(None, [(Commitment.owner == "coach", 0)], 1), *order)
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
        .where(where)
        .order_by(*order)
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [
        {
            "commitment_id": pid,
            "client_id": cid,
            "client_name": name,
            "owner": owner,
            "title": title,
            "promised_on": as_date(promised_on),
            "due_on": as_date(due_on),
            "version": version,
        }
        for pid, cid, name, owner, title, promised_on, due_on, version in query.tuples()
    ]


def due_soon_where(coach: Coach, today: dt.date, within_days: int = DUE_SOON_DAYS):
    """Open promises due from today to `within_days` ahead, of clients still listed."""
    return (
        (Commitment.coach == coach)
        & (Commitment.status == PromiseState.OPEN)
        & (Commitment.due_on >= today)
        & (Commitment.due_on <= today + dt.timedelta(days=within_days))
        & (Client.status << _LISTED)
    )


def count_due_soon(coach: Coach, today: dt.date, within_days: int = DUE_SOON_DAYS) -> int:
    return Commitment.select().join(Client).where(due_soon_where(coach, today, within_days)).count()


def due_soon(
    coach: Coach,
    today: dt.date,
    within_days: int = DUE_SOON_DAYS,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[DueSoonPromise]:
    """Open promises due today or within the next `within_days` days, before they are late.

    The coach's own first (what the coach can act on), then the soonest due. Archived
    clients are left out, as they are of every list.
    """
    return [
        DueSoonPromise(**row, days_left=(row["due_on"] - today).days)
        for row in _open_promise_rows(due_soon_where(coach, today, within_days), limit, offset)
    ]


def renegotiations_parts(
    coach: Coach, today: dt.date, owner: str = "coach", days: int = FOLLOW_THROUGH_DAYS
):
    """(which promises were renegotiated in the window, whether each was in time)."""
    start = today - dt.timedelta(days=days - 1)
    where = (
        (Commitment.coach == coach)
        & (Commitment.owner == owner)
        & (Commitment.status == PromiseState.RENEGOTIATED)
        & (Commitment.done_on >= start)
        & (Commitment.done_on <= today)
    )
    return where, Case(None, [(Commitment.done_on <= Commitment.due_on, 1)], 0)


def renegotiations(
    coach: Coach, today: dt.date, *, owner: str = "coach", days: int = FOLLOW_THROUGH_DAYS
) -> Renegotiations:
    """Promises renegotiated in the last `days` days, and how many before they were due.

    Moving a promise on or before its due date is the honest way to keep one's word when
    plans change; moving it once it is overdue is late. One query.
    """
    where, in_time = renegotiations_parts(coach, today, owner, days)
    early, total = (
        Commitment.select(fn.SUM(in_time), fn.COUNT(Commitment.id)).where(where).tuples()[0]
    )
    return Renegotiations(owner, int(early or 0), int(total or 0))


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
                       PromiseState(c.status), c.reason, c.version, c.asked_by)  # fmt: skip


def open_promises(
    coach: Coach,
    today: dt.date,
    *,
    within_days: int | None = None,
    client_id: int | None = None,
) -> list[tuple[OverduePromise | DueSoonPromise, bool]]:
    """Open promises of listed clients by due date, each with whether it is overdue.

    `within_days` keeps those due up to that many days ahead (overdue ones included).
    """
    where = (
        (Commitment.coach == coach)
        & (Commitment.status == PromiseState.OPEN)
        & (Client.status << _LISTED)
    )
    if within_days is not None:
        where &= Commitment.due_on <= today + dt.timedelta(days=within_days)
    if client_id is not None:
        where &= Commitment.client == client_id
    out: list[tuple[OverduePromise | DueSoonPromise, bool]] = []
    for row in _open_promise_rows(where, mine_first=False):
        due_on = row["due_on"]
        if due_on < today:
            out.append((OverduePromise(days_overdue=(today - due_on).days, **row), True))
        else:
            out.append((DueSoonPromise(days_left=(due_on - today).days, **row), False))
    return out


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


def _closing(
    promise: Commitment,
    status: PromiseState,
    successor: Commitment | None = None,
) -> Closing:
    """What a close just changed, read back inside its transaction for an exact undo."""
    (version,) = (
        Commitment.select(Commitment.version).where(Commitment.id == promise.id).tuples()[0]
    )
    return Closing(
        commitment_id=promise.id,
        title=promise.title,
        status=status,
        version=version,
        done_on=promise.done_on,
        reason=promise.reason,
        asked_by=promise.asked_by,
        successor_id=None if successor is None else successor.id,
        successor_version=1 if successor is None else successor.version,
    )


def mark_done(
    coach: Coach,
    commitment_id: int,
    done_on: dt.date,
    *,
    version: int | None = None,
    today: dt.date | None = None,
) -> Closing:
    """Keep an open promise on `done_on` (not after `today`, when given)."""
    promise = _open_commitment(coach, commitment_id)
    if done_on < promise.promised_on:
        raise ActionError("a promise cannot be kept before it was made")
    if today is not None and done_on > today:
        raise ActionError("a promise cannot be kept after today")
    with db.atomic():
        _change_open(promise, version, status=PromiseState.DONE, done_on=done_on)
        return _closing(promise, PromiseState.DONE)


def correct_done_on(
    coach: Coach,
    commitment_id: int,
    done_on: dt.date,
    today: dt.date,
    *,
    version: int | None = None,
) -> None:
    """Correct the day a kept promise was kept: not after today, not before it was made."""
    promise = Commitment.get_or_none((Commitment.id == commitment_id) & (Commitment.coach == coach))
    if promise is None:
        raise ActionError("that promise no longer exists")
    if promise.status != PromiseState.DONE:
        raise ActionError(f"only a kept promise has a done date; that one is {promise.status}")
    if done_on < promise.promised_on:
        raise ActionError("a promise cannot be kept before it was made")
    if done_on > today:
        raise ActionError("a promise cannot be kept after today")
    with db.atomic():
        updated = (
            Commitment.update(done_on=done_on)
            .where(
                (Commitment.id == promise.id)
                & (Commitment.status == PromiseState.DONE)
                & unchanged_since(Commitment, version)
            )
            .execute()
        )
        if updated != 1:
            raise ChangedElsewhere("that promise")


def renegotiate(
    coach: Coach,
    commitment_id: int,
    new_due: dt.date,
    today: dt.date,
    *,
    version: int | None = None,
    reason: str = "",
    asked_by: str = "",
) -> Closing:
    """Close the promise as renegotiated and open its successor with the new due date.

    The successor is the one follow-through counts; renegotiating is honest, not a failure.
    The closed one keeps why and who asked, and the day it was moved (done_on), so whether
    it was moved in time (on or before its due date) can be counted.
    """
    promise = _open_commitment(coach, commitment_id)
    if new_due < today:
        raise ActionError("the new due date is in the past")
    if new_due == promise.due_on:
        raise ActionError("the new due date is the same as the old one")
    checked_text(reason, "the reason", required=False)
    if asked_by not in ("", *ASKERS):
        raise ActionError(
            f"a renegotiation is asked for by the client or the coach, not {asked_by!r}"
        )
    with db.atomic():
        _change_open(
            promise,
            version,
            status=PromiseState.RENEGOTIATED,
            done_on=today,
            reason=reason,
            asked_by=asked_by,
        )
        successor = Commitment.create(
            coach=coach,
            client=promise.client_id,
            owner=promise.owner,
            title=promise.title,
            promised_on=today,
            due_on=new_due,
            renegotiated_from=promise.id,
        )
        return _closing(promise, PromiseState.RENEGOTIATED, successor)


def drop(
    coach: Coach,
    commitment_id: int,
    reason: str,
    today: dt.date,
    *,
    version: int | None = None,
) -> Closing:
    promise = _open_commitment(coach, commitment_id)
    checked_text(reason, "the reason")
    with db.atomic():
        _change_open(promise, version, status=PromiseState.DROPPED, done_on=today, reason=reason)
        return _closing(promise, PromiseState.DROPPED)


def undo_close(coach: Coach, closing: Closing) -> None:
    """Open again a promise that was closed, exactly as it was before the close.

    For a renegotiation, the new promise it opened goes too. Refused in one line, with
    nothing changed, when either was changed since (by this window or another terminal):
    the later change is never overwritten.
    """
    with db.atomic():
        if closing.successor_id is not None:
            gone = delete_rows(
                Commitment,
                (Commitment.id == closing.successor_id)
                & (Commitment.coach == coach)
                & (Commitment.version == closing.successor_version),
            )
            if gone != 1:
                raise ActionError(
                    "Not undone: the renegotiated promise was changed or closed since; "
                    "undo or change that one instead"
                )
        restored = (
            Commitment.update(
                status=PromiseState.OPEN,
                done_on=closing.done_on,
                reason=closing.reason,
                asked_by=closing.asked_by,
            )
            .where(
                (Commitment.id == closing.commitment_id)
                & (Commitment.coach == coach)
                & (Commitment.status == closing.status)
                & (Commitment.version == closing.version)
            )
            .execute()
        )
        if restored != 1:
            raise ActionError("Not undone: that promise was changed elsewhere since it was closed")
