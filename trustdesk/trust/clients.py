"""A client's whole life: named the way a coach names them (any unambiguous part of the
name, accents and case aside, or an id), added, corrected, moved along prospect → active
→ paused → completed → archived, and deleted with everything of theirs.

One set of rules for the command line and every flow; each write checks what it is
given, runs in one transaction and refuses with one plain line (ActionError).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, fn

from trustdesk.store.models import (
    Client,
    Coach,
    Commitment,
    Note,
    Outcome,
    Program,
    Session,
    Stage,
    StageChange,
    Touch,
    db,
    name_key,
    ways_to_reach,
)
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import (
    ActionError,
    ChangedElsewhere,
    as_date,
    change_unless_changed,
    no_nul,
    plural,
    refuse_if_changed,
    unchanged_since,
)

MAX_MATCHES_SHOWN = 8
# The longest client name a form, the command line or an import takes.
MAX_NAME = 120


class NoSuchClient(ActionError):
    """No client, or more than one, answers to the name given."""


def find_client(coach: Coach, text: str) -> Client:
    """The one client `text` names: an id, a whole name, or a part of exactly one name.

    A whole name beats a part ("Ann" finds Ann, not also Joanne); a listed client beats an
    archived one; an ambiguous name is refused with the matches listed.
    """
    wanted = text.strip()
    if wanted.isdigit():
        client = Client.get_or_none((Client.coach == coach) & (Client.id == int(wanted)))
        if client is not None:
            return client
    key = name_key(wanted)
    if not key:
        raise NoSuchClient("no client name given")
    candidates = list(
        Client.select()
        .where((Client.coach == coach) & Client.sort_name.contains(key))
        .order_by(Client.sort_name, Client.id)
        .limit(200)
    )
    # LIKE reads % and _ in a name as wildcards: what it found is checked again here.
    candidates = [c for c in candidates if key in c.sort_name]
    for pool in (
        [c for c in candidates if c.sort_name == key and ClientStatus(c.status).is_listed],
        [c for c in candidates if c.sort_name == key],
        [c for c in candidates if ClientStatus(c.status).is_listed],
        candidates,
    ):
        if len(pool) == 1:
            return pool[0]
        if len(pool) > 1:
            raise NoSuchClient(_ambiguous(wanted, pool))
    raise NoSuchClient(f"no client called {wanted!r}; see: trustdesk client list")


def _ambiguous(wanted: str, pool: list[Client]) -> str:
    shown = ", ".join(f"{c.name} (id {c.id})" for c in pool[:MAX_MATCHES_SHOWN])
    more = len(pool) - MAX_MATCHES_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return f"{wanted!r} names {len(pool)} clients: {shown}{tail}; give more of the name or the id"


# --- a client's whole life: add, edit, move, delete ------------------------------------

LONGEST_GAP_DAYS = 3650
MAX_CONTACTS = 10  # emails, and phone numbers, kept per client
MAX_CONTACT = 254  # the longest email address mail allows; phone numbers are far shorter
MAX_PREFERENCES = 500
# A last contact given when a client is added (before trustdesk knew them): a counted touch.
LAST_CONTACT_CHANNEL = "call"  # as `trustdesk import` logs a last_contact_on
LAST_CONTACT_SUMMARY = "Last contact before trustdesk"
ADDABLE_STATUSES = (ClientStatus.PROSPECT, ClientStatus.ACTIVE)


@dataclass(frozen=True)
class ClientDetails:
    """One client as the form and `client show` see it; `version` as read."""

    client_id: int
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    status: ClientStatus
    program_id: int | None
    program_name: str | None
    stage_id: int | None
    stage_name: str | None
    ideal_gap_days: int
    max_gap_days: int
    started_on: dt.date
    contact_preferences: str
    reference_consent: bool
    version: int

    @property
    def email(self) -> str:
        """The email used: the first."""
        return self.emails[0] if self.emails else ""

    @property
    def phone(self) -> str:
        """The phone number used: the first."""
        return self.phones[0] if self.phones else ""


@dataclass(frozen=True)
class ClientEntry:
    """One line of `client list`."""

    client_id: int
    name: str
    status: ClientStatus
    program_name: str | None
    stage_name: str | None
    email: str
    started_on: dt.date


@dataclass(frozen=True)
class ClientDeleted:
    """What went with a deleted client, per kind of record."""

    name: str
    removed: dict[str, int] = field(default_factory=dict)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # an edit leaves a field it is not given as it is


def _details(client: Client) -> ClientDetails:
    program = Program.get_or_none(Program.id == client.program_id) if client.program_id else None
    stage = Stage.get_or_none(Stage.id == client.stage_id) if client.stage_id else None
    return ClientDetails(
        client_id=client.id,
        name=client.name,
        emails=ways_to_reach(client.email, client.more_emails),
        phones=ways_to_reach(client.phone, client.more_phones),
        status=ClientStatus(client.status),
        program_id=client.program_id,
        program_name=program.name if program else None,
        stage_id=client.stage_id,
        stage_name=stage.name if stage else None,
        ideal_gap_days=client.ideal_gap_days,
        max_gap_days=client.max_gap_days,
        started_on=as_date(client.started_on),
        contact_preferences=client.contact_preferences,
        reference_consent=bool(client.reference_consent),
        version=client.version,
    )


def _own_client(coach: Coach, client_id: int) -> Client:
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise ActionError("that client no longer exists")
    return client


def client_details(coach: Coach, client_id: int) -> ClientDetails:
    return _details(_own_client(coach, client_id))


def has_clients(coach: Coach) -> bool:
    """Whether the practice has any client at all (archived ones included): an empty one
    is told how clients get in."""
    return Client.select().where(Client.coach == coach).exists()


def list_clients(coach: Coach, statuses: Sequence[ClientStatus] | None = None) -> list[ClientEntry]:
    """The coach's clients by name; by default every listed one (archived ones left out)."""
    wanted = tuple(statuses) if statuses else tuple(s for s in ClientStatus if s.is_listed)
    query = (
        Client.select(
            Client.id,
            Client.name,
            Client.status,
            Program.name,
            Stage.name,
            Client.email,
            Client.started_on,
        )
        .join(Program, JOIN.LEFT_OUTER, on=(Client.program == Program.id))
        .switch(Client)
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .where((Client.coach == coach) & Client.status.in_([str(s) for s in wanted]))
        .order_by(Client.sort_name, Client.id)
    )
    return [
        ClientEntry(cid, name, ClientStatus(status), program, stage, email, as_date(started))
        for cid, name, status, program, stage, email, started in query.tuples()
    ]


# --- checks --------------------------------------------------------------------------


def checked_client_name(value: str) -> str:
    """A client's name as stored: trimmed, on one line, not empty, at most MAX_NAME long."""
    name = no_nul((value or "").strip(), "the name")
    if not name:
        raise ActionError("the name is empty")
    if "\n" in name or "\r" in name:
        raise ActionError("the name must be on one line")
    if len(name) > MAX_NAME:
        raise ActionError(f"the name is longer than {MAX_NAME} characters")
    return name


def _checked_contacts(values: Sequence[str] | str, what: str, *, email: bool) -> tuple[str, ...]:
    """Emails or phone numbers, one per item (or per line, or comma-separated), in order."""
    if isinstance(values, str):
        values = [values]
    found: list[str] = []
    for value in values:
        for part in no_nul(value or "", what).replace(",", "\n").split("\n"):
            part = part.strip()
            if not part or part in found:
                continue
            if len(part) > MAX_CONTACT:
                raise ActionError(f"{what} {part[:40]!r}… is longer than {MAX_CONTACT} characters")
            if email and (" " in part or "@" not in part.strip("@")):
                raise ActionError(f"{what} {part!r} is not an email address")
            if not email and not any(ch.isdigit() for ch in part):
                raise ActionError(f"{what} {part!r} has no digits")
            found.append(part)
    if len(found) > MAX_CONTACTS:
        raise ActionError(f"at most {MAX_CONTACTS} {what}s are kept per client")
    return tuple(found)


def _checked_gaps(ideal: int, most: int) -> tuple[int, int]:
    for value, what in ((ideal, "the ideal gap"), (most, "the maximum gap")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ActionError(f"{what} must be a whole number of days")
        if not 1 <= value <= LONGEST_GAP_DAYS:
            raise ActionError(f"{what} must be from 1 to {LONGEST_GAP_DAYS} days")
    if most < ideal:
        raise ActionError(
            f"the maximum gap ({plural(most, 'day')}) is shorter than the ideal gap "
            f"({plural(ideal, 'day')})"
        )
    return ideal, most


def _checked_preferences(value: str) -> str:
    value = no_nul((value or "").strip(), "the contact preferences")
    if len(value) > MAX_PREFERENCES:
        raise ActionError(f"the contact preferences are longer than {MAX_PREFERENCES} characters")
    return value


def _checked_journey(
    coach: Coach, program_id: int | None, stage_id: int | None
) -> tuple[int | None, int | None]:
    """(program, stage): a stage must belong to the program; a stage alone names its
    program; a program alone starts the client at its first stage."""
    program = stage = None
    if program_id is not None:
        program = Program.get_or_none((Program.id == program_id) & (Program.coach == coach))
        if program is None:
            raise ActionError("that program no longer exists")
    if stage_id is not None:
        stage = Stage.get_or_none((Stage.id == stage_id) & (Stage.coach == coach))
        if stage is None:
            raise ActionError("that stage no longer exists")
        if program is None:
            return stage.program_id, stage.id
        if stage.program_id != program.id:
            raise ActionError(f"the stage {stage.name!r} is not a stage of {program.name!r}")
        return program.id, stage.id
    if program is None:
        return None, None
    first = (
        Stage.select(Stage.id)
        .where(Stage.program == program.id)
        .order_by(Stage.position)
        .limit(1)
        .scalar()
    )
    return program.id, first


def find_program(coach: Coach, text: str) -> int:
    """A program by its name (any case, accents aside) or id, for the command line."""
    wanted = text.strip()
    programs = list(Program.select(Program.id, Program.name).where(Program.coach == coach))
    for program in programs:
        if wanted.isdigit() and program.id == int(wanted):
            return program.id
    key = name_key(wanted)
    exact = [p for p in programs if name_key(p.name) == key]
    if len(exact) == 1:
        return exact[0].id
    parts = [p for p in programs if key and key in name_key(p.name)]
    if len(parts) == 1:
        return parts[0].id
    if len(parts) > 1:
        shown = ", ".join(p.name for p in parts[:MAX_MATCHES_SHOWN])
        raise ActionError(f"{wanted!r} names {len(parts)} programs: {shown}")
    raise ActionError(f"no program called {wanted!r}; see: trustdesk program list")


def find_stage(coach: Coach, program_id: int | None, text: str) -> int:
    """A stage by name (any case) or position number, within the program when one is given."""
    wanted = text.strip()
    query = Stage.select(Stage.id, Stage.name, Stage.position, Stage.program).where(
        Stage.coach == coach
    )
    if program_id is not None:
        query = query.where(Stage.program == program_id)
    stages = list(query)
    key = name_key(wanted)
    found = [s for s in stages if name_key(s.name) == key]
    if not found and program_id is not None and wanted.isdigit():
        found = [s for s in stages if s.position == int(wanted)]
    if len(found) == 1:
        return found[0].id
    if len(found) > 1:
        raise ActionError(f"{wanted!r} names stages of {len(found)} programs; give --program")
    where = " of that program" if program_id is not None else ""
    raise ActionError(f"no stage called {wanted!r}{where}")


def _today(today: dt.date | None) -> dt.date:
    if today is not None:
        return today
    from trustdesk import config

    return config.today()


def _record_stage(coach: Coach, client_id: int, stage_id: int, on: dt.date) -> None:
    """The client reached a stage on a day: a StageChange, and their sessions from that
    day on count towards it (as a move on the journey tab does)."""
    StageChange.create(coach=coach, client=client_id, stage=stage_id, changed_on=on)
    Session.update(stage=stage_id).where(
        (Session.client == client_id)
        & (Session.scheduled_start >= dt.datetime.combine(on, dt.time.min))
    ).execute()


def _record_last_contact(coach: Coach, client_id: int, on: dt.date) -> None:
    Touch.create(
        coach=coach,
        client=client_id,
        occurred_on=on,
        channel=LAST_CONTACT_CHANNEL,
        direction="outbound",
        summary=LAST_CONTACT_SUMMARY,
        counts_for_cadence=True,
    )


def _checked_move(client: Client, status: ClientStatus | str) -> ClientStatus:
    """The status a client may move to from where they are, or a refusal in words."""
    try:
        status = ClientStatus(status)
    except ValueError:
        raise ActionError(f"unknown status {status!r}") from None
    current = ClientStatus(client.status)
    if current is status:
        raise ActionError(f"{client.name} is already {status}")
    if not current.can_become(status):
        raise ActionError(f"{client.name} is {current} and cannot become {status}")
    return status


# --- writes --------------------------------------------------------------------------


def add_client(
    coach: Coach,
    name: str,
    *,
    emails: Sequence[str] | str = (),
    phones: Sequence[str] | str = (),
    program_id: int | None = None,
    stage_id: int | None = None,
    ideal_gap_days: int = 7,
    max_gap_days: int = 21,
    started_on: dt.date | None = None,
    status: ClientStatus | str = ClientStatus.ACTIVE,
    contact_preferences: str = "",
    last_contact_on: dt.date | None = None,
    today: dt.date | None = None,
) -> ClientDetails:
    """A new client, and (given a last contact) the touch that starts their cadence from it."""
    today = _today(today)
    name = checked_client_name(name)
    email_list = _checked_contacts(emails, "email", email=True)
    phone_list = _checked_contacts(phones, "phone", email=False)
    ideal, most = _checked_gaps(ideal_gap_days, max_gap_days)
    preferences = _checked_preferences(contact_preferences)
    try:
        status = ClientStatus(status)
    except ValueError:
        raise ActionError(f"unknown status {status!r}") from None
    if status not in ADDABLE_STATUSES:
        raise ActionError("a new client is a prospect or active")
    started_on = started_on or today
    if last_contact_on is not None and last_contact_on > today:
        raise ActionError("the last contact cannot be in the future")
    with db.atomic():
        program, stage = _checked_journey(coach, program_id, stage_id)
        client = Client.create(
            coach=coach,
            name=name,
            email=email_list[0] if email_list else "",
            more_emails="\n".join(email_list[1:]),
            phone=phone_list[0] if phone_list else "",
            more_phones="\n".join(phone_list[1:]),
            status=status,
            program=program,
            stage=stage,
            started_on=started_on,
            ideal_gap_days=ideal,
            max_gap_days=most,
            contact_preferences=preferences,
        )
        if stage is not None:
            _record_stage(coach, client.id, stage, min(started_on, today))
        if last_contact_on is not None:
            _record_last_contact(coach, client.id, last_contact_on)
        return _details(client)


def edit_client(
    coach: Coach,
    client_id: int,
    *,
    version: int | None = None,
    name: str = UNSET,
    emails: Sequence[str] | str = UNSET,
    phones: Sequence[str] | str = UNSET,
    program_id: int | None = UNSET,
    stage_id: int | None = UNSET,
    ideal_gap_days: int = UNSET,
    max_gap_days: int = UNSET,
    started_on: dt.date = UNSET,
    contact_preferences: str = UNSET,
    status: ClientStatus | str = UNSET,
    last_contact_on: dt.date | None = None,
    today: dt.date | None = None,
) -> ClientDetails:
    """Change what is given and nothing else, in one transaction; refused if saved
    elsewhere since `version`.

    A new stage is recorded as a stage move today; a new status must be a move the
    current one allows; a last contact is logged as a counted touch. `version` None (a
    script that read nothing) skips the check.
    """
    today = _today(today)
    if last_contact_on is not None and last_contact_on > today:
        raise ActionError("the last contact cannot be in the future")
    changes: dict[str, object] = {}
    if name is not UNSET:
        changes["name"] = checked_client_name(name)
        changes["sort_name"] = name_key(changes["name"])
    if emails is not UNSET:
        found = _checked_contacts(emails, "email", email=True)
        changes["email"] = found[0] if found else ""
        changes["more_emails"] = "\n".join(found[1:])
    if phones is not UNSET:
        found = _checked_contacts(phones, "phone", email=False)
        changes["phone"] = found[0] if found else ""
        changes["more_phones"] = "\n".join(found[1:])
    if contact_preferences is not UNSET:
        changes["contact_preferences"] = _checked_preferences(contact_preferences)
    if started_on is not UNSET:
        if not isinstance(started_on, dt.date):
            raise ActionError("the start date is missing")
        changes["started_on"] = started_on
    with db.atomic():
        client = _own_client(coach, client_id)
        if version is not None and client.version != version:
            raise ChangedElsewhere(f"the client {client.name!r}")
        if ideal_gap_days is not UNSET or max_gap_days is not UNSET:
            ideal = client.ideal_gap_days if ideal_gap_days is UNSET else ideal_gap_days
            most = client.max_gap_days if max_gap_days is UNSET else max_gap_days
            changes["ideal_gap_days"], changes["max_gap_days"] = _checked_gaps(ideal, most)
        new_stage = None
        if program_id is not UNSET or stage_id is not UNSET:
            if program_id is UNSET:
                # A stage alone: its program; no stage and no program change keeps both.
                wanted_program = None if stage_id is not None else client.program_id
            else:
                wanted_program = program_id
            if stage_id is UNSET:
                keep = program_id == client.program_id
                wanted_stage = client.stage_id if keep else None
            else:
                wanted_stage = stage_id
            if (wanted_program, wanted_stage) == (client.program_id, None) and wanted_program:
                # Kept on their program, not yet in a stage: left so, not put at the first.
                program, stage = _checked_journey(coach, wanted_program, None)[0], None
            else:
                program, stage = _checked_journey(coach, wanted_program, wanted_stage)
            changes["program"], changes["stage"] = program, stage
            if stage is not None and stage != client.stage_id:
                new_stage = stage
        if status is not UNSET:
            changes["status"] = _checked_move(client, status)
        if changes:
            change_unless_changed(
                Client,
                client.id,
                coach,
                client.version,
                f"the client {client.name!r}",
                ActionError("that client no longer exists"),
                **changes,
            )
        if new_stage is not None:
            _record_stage(coach, client.id, new_stage, today)
        if last_contact_on is not None:
            _record_last_contact(coach, client.id, last_contact_on)
        return _details(_own_client(coach, client.id))


def move_client(
    coach: Coach, client_id: int, status: ClientStatus | str, *, version: int | None = None
) -> ClientDetails:
    """Move a client along their life (prospect → active → paused ⇄ active → completed →
    archived, and back from completed or archived); a move the status does not allow is
    refused in words."""
    with db.atomic():
        client = _own_client(coach, client_id)
        status = _checked_move(client, status)
        change_unless_changed(
            Client,
            client.id,
            coach,
            version,
            f"the client {client.name!r}",
            ActionError("that client no longer exists"),
            status=status,
        )
        return _details(_own_client(coach, client.id))


# Every record that belongs to a client; the database removes them with the client
# (each reference cascades, on a practice through the client's delete function).
CLIENT_RECORDS = (
    ("session", Session),
    ("promise", Commitment),
    ("touch", Touch),
    ("note", Note),
    ("outcome", Outcome),
    ("stage move", StageChange),
)


def removed_text(deleted: ClientDeleted) -> str:
    """'2 sessions, 1 promise, 0 touches...': what went with a deleted client."""
    return ", ".join(
        plural(deleted.removed[what], what).replace("touchs", "touches")
        for what, _ in CLIENT_RECORDS
    )


def typed_back(typed: str, name: str) -> bool:
    """Whether the name typed back to confirm a deletion is the client's (case, accents and
    spacing aside)."""
    return bool(name_key(typed)) and name_key(typed) == name_key(name)


def delete_client(
    coach: Coach, client_id: int, typed_name: str, *, version: int | None = None
) -> ClientDeleted:
    """Remove a client and every record of theirs (sessions, promises, touches and prompts
    sent, notes sealed or not, outcomes, stage moves) in one transaction, once their name
    has been typed back."""
    from trustdesk.store.practice import delete_rows

    with db.atomic():
        client = _own_client(coach, client_id)
        if not typed_back(typed_name, client.name):
            raise ActionError(f"the name typed does not match {client.name!r}; nothing was deleted")
        removed = {
            what: model.select().where(model.client == client.id).count()
            for what, model in CLIENT_RECORDS
        }
        gone = delete_rows(
            Client,
            (Client.id == client.id) & (Client.coach == coach) & unchanged_since(Client, version),
        )
        if gone != 1:
            refuse_if_changed(Client, client.id, coach, version, f"the client {client.name!r}")
            raise ActionError("that client no longer exists")
        left = [
            what
            for what, model in CLIENT_RECORDS
            if model.select().where(model.client == client.id).exists()
        ]
        if left:  # never half a client: the transaction is rolled back
            raise ActionError(f"the client's {left[0]} could not be deleted; nothing was deleted")
        return ClientDeleted(name=client.name, removed=removed)


# --- one client at a glance -----------------------------------------------------------

EMPTY_PRACTICE_HINT = (
    "No clients yet. Add one with `n` in the app or `trustdesk client add NAME`, "
    "or bring a spreadsheet in with `trustdesk import FILE`."
)


@dataclass(frozen=True)
class ClientOverview:
    """A client's details with where they stand: cadence, open promises, next session."""

    details: ClientDetails
    cadence: Any  # trust.contact.Cadence for an active client, else None
    open_promises_coach: int
    open_promises_client: int
    next_session: dt.datetime | None


def client_overview(coach: Coach, client_id: int, today: dt.date) -> ClientOverview:
    from trustdesk.store.states import PromiseState, SessionStatus
    from trustdesk.trust.common import as_datetime
    from trustdesk.trust.contact import cadence

    details = client_details(coach, client_id)
    rows = cadence(coach, today, client_ids=[client_id]) if details.status.has_cadence else []
    owners = dict(
        Commitment.select(Commitment.owner, fn.COUNT(Commitment.id))
        .where((Commitment.client == client_id) & (Commitment.status == PromiseState.OPEN))
        .group_by(Commitment.owner)
        .tuples()
    )
    upcoming = (
        Session.select(fn.MIN(Session.scheduled_start))
        .where(
            (Session.client == client_id)
            & (Session.status == SessionStatus.SCHEDULED)
            & (Session.scheduled_start >= dt.datetime.combine(today, dt.time.min))
        )
        .scalar()
    )
    return ClientOverview(
        details=details,
        cadence=rows[0] if rows else None,
        open_promises_coach=int(owners.get("coach", 0)),
        open_promises_client=int(owners.get("client", 0)),
        next_session=as_datetime(upcoming),
    )


@dataclass(frozen=True)
class JourneyChoice:
    """A place on a journey a client can be put: a program's stage, or a program that has
    no stages yet (stage None)."""

    program_id: int
    program_name: str
    stage_id: int | None
    position: int | None
    stage_name: str | None


def journey_choices(coach: Coach) -> list[JourneyChoice]:
    """Every stage of every program, and every program with no stage; one query."""
    query = (
        Program.select(Program.id, Program.name, Stage.id, Stage.position, Stage.name)
        .join(Stage, JOIN.LEFT_OUTER, on=(Stage.program == Program.id))
        .where(Program.coach == coach)
        .order_by(Program.name, Program.id, Stage.position)
    )
    return [JourneyChoice(*row) for row in query.tuples()]
