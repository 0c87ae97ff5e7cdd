"""Everything the client workspace shows about one client, as plain values.

Each habit reads its own part (journey, contact, sessions, promises, notes); this
gathers them for one client in one call, for one thread worker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trustdesk.store.models import Client, Coach
from trustdesk.store.states import ClientStatus
from trustdesk.trust.contact import (
    Cadence,
    ContactWeeks,
    MessageItem,
    TouchItem,
    cadence,
    contact_by_week,
    last_messages,
    recent_touches,
)
from trustdesk.trust.journey.progress import Journey, StageStep, journeys, stage_steps
from trustdesk.trust.notes import NoteSummary, list_notes
from trustdesk.trust.promises import PromiseItem, client_promises
from trustdesk.trust.sessions import SessionItem, client_sessions

RECENT_TOUCHES = 200


@dataclass(frozen=True)
class ClientWorkspace:
    client_id: int
    name: str
    email: str
    phone: str
    status: ClientStatus
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
    # The latest messages that logged themselves (mail read, prompts sent by email).
    last_messages: tuple[MessageItem, ...] = ()


class ClientMissing(Exception):
    pass


def client_workspace(coach: Coach, client_id: int, today: dt.date) -> ClientWorkspace:
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise ClientMissing("that client no longer exists")
    (journey,) = journeys(coach, client_ids=[client.id])
    cadence_rows = cadence(coach, today, statuses=(client.status,), client_ids=[client.id])
    status = ClientStatus(client.status)
    return ClientWorkspace(
        client_id=client.id,
        name=client.name,
        email=client.email,
        phone=client.phone,
        status=status,
        started_on=client.started_on,
        ideal_gap_days=client.ideal_gap_days,
        max_gap_days=client.max_gap_days,
        snoozed_until=client.snoozed_until,
        journey=journey,
        stages=stage_steps(client),
        cadence=cadence_rows[0] if status.has_cadence and cadence_rows else None,
        contact_weeks=contact_by_week(coach, today, [client.id])[client.id],
        sessions=client_sessions(client.id),
        promises=client_promises(client.id),
        touches=recent_touches(client.id, RECENT_TOUCHES),
        notes=tuple(list_notes(coach, client_id=client.id)),
        last_messages=last_messages(client.id),
    )
