"""Clarity of process, outcomes: what clients achieved, and the clients willing to be references."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from trustdesk.store.models import Client, Coach, Outcome, Program, db
from trustdesk.store.practice import delete_rows
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import (
    as_date,
    change_unless_changed,
    refuse_if_changed,
    unchanged_since,
)
from trustdesk.trust.journey.checks import (
    JourneyError,
    checked_detail,
    checked_name,
    journey_client,
    owned,
    today_or_clock,
)


@dataclass(frozen=True)
class OutcomeItem:
    outcome_id: int
    client_id: int
    achieved_on: dt.date
    title: str
    detail: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class ReferenceItem:
    client_id: int
    client_name: str
    client_status: str
    program_name: str | None
    outcomes: tuple[OutcomeItem, ...]  # newest first

    @property
    def latest(self) -> dt.date | None:
        return self.outcomes[0].achieved_on if self.outcomes else None


def _outcome(coach: Coach, outcome_id: int) -> Outcome:
    return owned(Outcome, coach, outcome_id, "outcome")


def saved_outcome(coach: Coach, outcome_id: int) -> OutcomeItem | None:
    """One outcome as it is saved now."""
    row = Outcome.get_or_none((Outcome.id == outcome_id) & (Outcome.coach == coach))
    if row is None:
        return None
    return OutcomeItem(row.id, row.client_id, as_date(row.achieved_on), row.title,
                       row.detail, row.version)  # fmt: skip


def outcomes_of(client_id: int) -> tuple[OutcomeItem, ...]:
    return tuple(
        OutcomeItem(oid, cid, as_date(on), title, detail, version)
        for oid, cid, on, title, detail, version in Outcome.select(
            Outcome.id,
            Outcome.client,
            Outcome.achieved_on,
            Outcome.title,
            Outcome.detail,
            Outcome.version,
        )
        .where(Outcome.client == client_id)
        .order_by(Outcome.achieved_on.desc(), Outcome.id.desc())
        .tuples()
    )


# --- outcomes and references -------------------------------------------------------------


def _check_outcome(achieved_on: dt.date, title: str, detail: str, today: dt.date | None):
    if achieved_on > today_or_clock(today):
        raise JourneyError("an outcome cannot be dated in the future")
    return checked_name(title, "the outcome"), checked_detail(detail, "the detail")


def add_outcome(
    coach: Coach,
    client_id: int,
    achieved_on: dt.date,
    title: str,
    detail: str = "",
    *,
    today: dt.date | None = None,
) -> int:
    client = journey_client(coach, client_id)
    title, detail = _check_outcome(achieved_on, title, detail, today)
    with db.atomic():
        return Outcome.create(
            coach=coach, client=client, achieved_on=achieved_on, title=title, detail=detail
        ).id


def edit_outcome(
    coach: Coach,
    outcome_id: int,
    *,
    achieved_on: dt.date,
    title: str,
    detail: str,
    today: dt.date | None = None,
    version: int | None = None,
) -> None:
    outcome = _outcome(coach, outcome_id)
    title, detail = _check_outcome(achieved_on, title, detail, today)
    with db.atomic():
        change_unless_changed(
            Outcome,
            outcome.id,
            coach,
            version,
            "that outcome",
            JourneyError("that outcome no longer exists"),
            achieved_on=achieved_on,
            title=title,
            detail=detail,
        )


def remove_outcome(coach: Coach, outcome_id: int, *, version: int | None = None) -> None:
    outcome = _outcome(coach, outcome_id)
    with db.atomic():
        removed = delete_rows(
            Outcome, (Outcome.id == outcome.id) & unchanged_since(Outcome, version)
        )
    if removed != 1:
        refuse_if_changed(Outcome, outcome.id, coach, version, "that outcome")


def set_reference_consent(coach: Coach, client_id: int, consent: bool) -> None:
    client = journey_client(coach, client_id)
    with db.atomic():
        Client.update(reference_consent=bool(consent)).where(Client.id == client.id).execute()


def references(coach: Coach) -> list[ReferenceItem]:
    """Clients who agreed to be references, with their outcomes; one query.

    The client with the most recent outcome comes first, and each client's outcomes
    newest first; clients who consented but have no outcome yet come last, by name.
    """
    query = (
        Client.select(
            Client.id,
            Client.name,
            Client.status,
            Program.name,
            Outcome.id,
            Outcome.achieved_on,
            Outcome.title,
            Outcome.detail,
            Outcome.version,
        )
        .join(Program, JOIN.LEFT_OUTER, on=(Client.program == Program.id))
        .switch(Client)
        .join(Outcome, JOIN.LEFT_OUTER, on=(Outcome.client == Client.id))
        .where(
            (Client.coach == coach)
            & (Client.reference_consent == True)
            & (Client.status != ClientStatus.ARCHIVED)
        )
        .order_by(Client.id, Outcome.achieved_on.desc(), Outcome.id.desc())
    )
    heads: dict[int, tuple[str, str, str | None]] = {}
    outcomes: dict[int, list[OutcomeItem]] = {}
    for cid, name, status, program, oid, on, title, detail, version in query.tuples():
        heads.setdefault(cid, (name, status, program))
        found = outcomes.setdefault(cid, [])
        if oid is not None:
            found.append(OutcomeItem(oid, cid, as_date(on), title, detail, version))
    items = [
        ReferenceItem(cid, name, status, program, tuple(outcomes[cid]))
        for cid, (name, status, program) in heads.items()
    ]
    with_outcomes = sorted(
        (i for i in items if i.outcomes),
        key=lambda i: (-i.latest.toordinal(), i.client_name.casefold(), i.client_id),
    )
    without = sorted(
        (i for i in items if not i.outcomes), key=lambda i: (i.client_name.casefold(), i.client_id)
    )
    return with_outcomes + without
