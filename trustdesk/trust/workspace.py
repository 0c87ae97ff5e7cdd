"""Everything the client workspace shows about one client, as plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import Case

from trustdesk.store.models import Client, Coach, Commitment, Session, Stage, StageChange, Touch
from trustdesk.trust import rules
from trustdesk.trust.notes import NoteSummary, list_notes
from trustdesk.trust.rules import _as_date
from trustdesk.trust.views import Cadence, ContactWeeks, Journey

RECENT_TOUCHES = 200


@dataclass(frozen=True)
class StageStep:
    position: int
    name: str
    purpose: str
    asks_of_client: str
    typical_sessions: int
    reached_on: dt.date | None
    state: str  # done, current, next


@dataclass(frozen=True)
class SessionItem:
    session_id: int
    scheduled_start: dt.datetime
    actual_start: dt.datetime | None
    late_minutes: int | None
    duration_minutes: int
    status: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class PromiseItem:
    commitment_id: int
    owner: str
    title: str
    promised_on: dt.date
    due_on: dt.date
    done_on: dt.date | None
    status: str
    reason: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class TouchItem:
    touch_id: int
    occurred_on: dt.date
    channel: str
    direction: str
    counts_for_cadence: bool
    summary: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class ClientWorkspace:
    client_id: int
    name: str
    email: str
    phone: str
    status: str
    started_on: dt.date
    ideal_gap_days: int
    max_gap_days: int
    snoozed_until: dt.date | None
    journey: Journey
    stages: tuple[StageStep, ...]
    cadence: Cadence | None
    contact_weeks: ContactWeeks
    sessions: tuple[SessionItem, ...]
    promises: tuple[PromiseItem, ...]
    touches: tuple[TouchItem, ...]
    notes: tuple[NoteSummary, ...]


class ClientMissing(Exception):
    pass


# Open promises by due date, most overdue first; closed ones after, most recent first.
_open_due_first = Case(None, [(Commitment.status == "open", Commitment.due_on)], None)


def _stages(client: Client) -> tuple[StageStep, ...]:
    if client.program_id is None:
        return ()
    reached = {
        stage_id: _as_date(on)
        for stage_id, on in StageChange.select(StageChange.stage, StageChange.changed_on)
        .where(StageChange.client == client.id)
        .order_by(StageChange.changed_on)
        .tuples()
    }
    current = None
    if client.stage_id is not None:
        current = Stage.get_or_none(Stage.id == client.stage_id)
    steps = []
    for stage in Stage.select().where(Stage.program == client.program_id).order_by(Stage.position):
        if current is not None and stage.position < current.position:
            state = "done"
        elif current is not None and stage.id == current.id:
            state = "current"
        else:
            state = "next"
        steps.append(
            StageStep(
                position=stage.position,
                name=stage.name,
                purpose=stage.purpose,
                asks_of_client=stage.asks_of_client,
                typical_sessions=stage.typical_sessions,
                reached_on=reached.get(stage.id),
                state=state,
            )
        )
    return tuple(steps)


def _session_item(s: Session) -> SessionItem:
    return SessionItem(s.id, s.scheduled_start, s.actual_start, s.late_minutes,
                       s.duration_minutes, s.status, s.version)  # fmt: skip


def _promise_item(c: Commitment) -> PromiseItem:
    return PromiseItem(c.id, c.owner, c.title, c.promised_on, c.due_on, c.done_on, c.status,
                       c.reason, c.version)  # fmt: skip


def _touch_item(t: Touch) -> TouchItem:
    return TouchItem(t.id, t.occurred_on, t.channel, t.direction, t.counts_for_cadence,
                     t.summary, t.version)  # fmt: skip


# One record as it is saved now: what a form refused as changed elsewhere is laid over.


def session(coach: Coach, session_id: int) -> SessionItem | None:
    row = Session.get_or_none((Session.id == session_id) & (Session.coach == coach))
    return None if row is None else _session_item(row)


def promise(coach: Coach, commitment_id: int) -> PromiseItem | None:
    row = Commitment.get_or_none((Commitment.id == commitment_id) & (Commitment.coach == coach))
    return None if row is None else _promise_item(row)


def touch(coach: Coach, touch_id: int) -> TouchItem | None:
    row = Touch.get_or_none((Touch.id == touch_id) & (Touch.coach == coach))
    return None if row is None else _touch_item(row)


def client_workspace(coach: Coach, client_id: int, today: dt.date) -> ClientWorkspace:
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise ClientMissing("that client no longer exists")
    (journey,) = rules.journeys(coach, client_ids=[client.id])
    cadence_rows = rules.cadence(coach, today, statuses=(client.status,), client_ids=[client.id])
    sessions = tuple(
        _session_item(s)
        for s in Session.select().where(Session.client == client.id)
        .order_by(Session.scheduled_start.desc())
    )  # fmt: skip
    promises = tuple(
        _promise_item(c)
        for c in Commitment.select().where(Commitment.client == client.id)
        .order_by(Commitment.status != "open", _open_due_first, Commitment.due_on.desc(),
                  Commitment.id)
    )  # fmt: skip
    touches = tuple(
        _touch_item(t)
        for t in Touch.select().where(Touch.client == client.id)
        .order_by(Touch.occurred_on.desc(), Touch.id.desc()).limit(RECENT_TOUCHES)
    )  # fmt: skip
    return ClientWorkspace(
        client_id=client.id,
        name=client.name,
        email=client.email,
        phone=client.phone,
        status=client.status,
        started_on=client.started_on,
        ideal_gap_days=client.ideal_gap_days,
        max_gap_days=client.max_gap_days,
        snoozed_until=client.snoozed_until,
        journey=journey,
        stages=_stages(client),
        cadence=cadence_rows[0] if client.status == "active" and cadence_rows else None,
        contact_weeks=rules.contact_by_week(coach, today, [client.id])[client.id],
        sessions=sessions,
        promises=promises,
        touches=touches,
        notes=tuple(list_notes(coach, client_id=client.id)),
    )
