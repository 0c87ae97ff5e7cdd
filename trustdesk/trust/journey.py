"""Clarity of process: programs and their ordered stages, where a client is on the journey,
and what clients achieved (outcomes), with the clients willing to be references.

Reads return frozen dataclasses and run a fixed number of queries; writes check what
they are given, run in one transaction, and refuse with one plain line (JourneyError,
an ActionError, so the screens report it like any other refusal).

Stage positions within a program are always 1, 2, 3, ... with no gap. The database
holds a unique index on (program, position), which SQL checks row by row even inside
one UPDATE, so every renumbering goes through temporary negative positions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from trustdesk.store.models import (
    Client,
    Coach,
    Outcome,
    Program,
    Session,
    Stage,
    StageChange,
    db,
)
from trustdesk.store.practice import delete_rows
from trustdesk.trust.actions import (
    MAX_TEXT,
    ActionError,
    change_unless_changed,
    no_nul,
    refuse_if_changed,
    unchanged_since,
)
from trustdesk.trust.rules import _as_date

MAX_NAME = 200
MAX_PROGRAM_SESSIONS = 500
MAX_STAGE_SESSIONS = 100


class JourneyError(ActionError):
    """A program, stage or outcome change was not made; the message says why in one line."""


# --- what the screens get ----------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSummary:
    program_id: int
    name: str
    summary: str
    typical_sessions: int
    stage_count: int
    active_clients: int


@dataclass(frozen=True)
class StageItem:
    stage_id: int
    program_id: int
    position: int
    name: str
    purpose: str
    typical_sessions: int
    asks_of_client: str
    clients_here: int  # clients (of any status) whose current stage this is
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class ProgramDetail:
    program_id: int
    name: str
    summary: str
    typical_sessions: int
    active_clients: int
    stages: tuple[StageItem, ...]
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class StageChoice:
    """One stage as a place a client can be moved to."""

    stage_id: int
    program_id: int
    program_name: str
    position: int
    name: str


@dataclass(frozen=True)
class StageProgress:
    stage_id: int
    position: int
    name: str
    purpose: str
    asks_of_client: str
    typical_sessions: int
    state: str  # done, current, next
    reached_on: dt.date | None
    sessions_held: int
    held_on: tuple[dt.date, ...]  # the days those sessions were held, oldest first

    @property
    def sessions_words(self) -> str:
        """'2 of 3 sessions', or '2 sessions' when the stage sets no number."""
        if self.typical_sessions:
            plural = "" if self.typical_sessions == 1 else "s"
            return f"{self.sessions_held} of {self.typical_sessions} session{plural}"
        plural = "" if self.sessions_held == 1 else "s"
        return f"{self.sessions_held} session{plural}"


@dataclass(frozen=True)
class OutcomeItem:
    outcome_id: int
    client_id: int
    achieved_on: dt.date
    title: str
    detail: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class ClientJourney:
    """The journey and outcomes of one client, for the workspace."""

    client_id: int
    program_id: int | None
    stage_id: int | None
    progress: tuple[StageProgress, ...]
    outcomes: tuple[OutcomeItem, ...]  # newest first
    reference_consent: bool


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


# --- checks ----------------------------------------------------------------------------


def _owned(model, coach: Coach, row_id: int, what: str):
    """The coach's own row, or a refusal worded as if it were missing (another coach's too)."""
    row = model.get_or_none((model.id == row_id) & (model.coach == coach))
    if row is None:
        raise JourneyError(f"that {what} no longer exists")
    return row


def _client(coach: Coach, client_id: int) -> Client:
    return _owned(Client, coach, client_id, "client")


def _program(coach: Coach, program_id: int) -> Program:
    return _owned(Program, coach, program_id, "program")


def _stage(coach: Coach, stage_id: int) -> Stage:
    return _owned(Stage, coach, stage_id, "stage")


def _outcome(coach: Coach, outcome_id: int) -> Outcome:
    return _owned(Outcome, coach, outcome_id, "outcome")


def _name(value: str, what: str) -> str:
    value = no_nul((value or "").strip(), what, JourneyError)
    if not value:
        raise JourneyError(f"{what} is empty")
    if len(value) > MAX_NAME:
        raise JourneyError(f"{what} is longer than {MAX_NAME} characters")
    return value


def _text(value: str | None, what: str) -> str:
    value = no_nul((value or "").strip(), what, JourneyError)
    if len(value) > MAX_TEXT:
        raise JourneyError(f"{what} is longer than {MAX_TEXT} characters")
    return value


def _count(value: int, what: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise JourneyError(f"{what} must be a whole number from {least} to {most}")
    return value


def _today(today: dt.date | None) -> dt.date:
    if today is not None:
        return today
    from trustdesk import config

    return config.today()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- programs ----------------------------------------------------------------------------


def list_programs(coach: Coach) -> list[ProgramSummary]:
    """Every program of the coach, by name, with its stage count and active clients; one query."""
    stages = Stage.select(fn.COUNT(Stage.id)).where(Stage.program == Program.id)
    active = Client.select(fn.COUNT(Client.id)).where(
        (Client.program == Program.id) & (Client.status == "active")
    )
    query = (
        Program.select(
            Program.id,
            Program.name,
            Program.summary,
            Program.typical_sessions,
            stages.alias("stage_count"),
            active.alias("active_clients"),
        )
        .where(Program.coach == coach)
        .order_by(Program.name, Program.id)
    )
    return [
        ProgramSummary(pid, name, summary, int(typical or 0), int(n or 0), int(a or 0))
        for pid, name, summary, typical, n, a in query.tuples()
    ]


def program_detail(coach: Coach, program_id: int) -> ProgramDetail:
    """A program and its stages in order, with how many clients are at each; two queries."""
    active = Client.select(fn.COUNT(Client.id)).where(
        (Client.program == Program.id) & (Client.status == "active")
    )
    row = (
        Program.select(
            Program.id,
            Program.name,
            Program.summary,
            Program.typical_sessions,
            active.alias("active_clients"),
            Program.version,
        )
        .where((Program.id == program_id) & (Program.coach == coach))
        .tuples()
        .first()
    )
    if row is None:
        raise JourneyError("that program no longer exists")
    pid, name, summary, typical, n_active, version = row
    stages = tuple(_stage_items(Stage.program == pid))
    return ProgramDetail(pid, name, summary, int(typical or 0), int(n_active or 0), stages, version)


def _stage_items(where) -> list[StageItem]:
    here = Client.select(fn.COUNT(Client.id)).where(Client.stage == Stage.id)
    return [
        StageItem(sid, pid, position, sname, purpose, int(sessions or 0), asks, int(n or 0),
                  version)
        for sid, pid, position, sname, purpose, sessions, asks, n, version in Stage.select(
            Stage.id,
            Stage.program,
            Stage.position,
            Stage.name,
            Stage.purpose,
            Stage.typical_sessions,
            Stage.asks_of_client,
            here.alias("clients_here"),
            Stage.version,
        )
        .where(where)
        .order_by(Stage.position)
        .tuples()
    ]  # fmt: skip


def saved_program(coach: Coach, program_id: int) -> ProgramDetail | None:
    """A program as it is saved now, or None once it is gone."""
    try:
        return program_detail(coach, program_id)
    except JourneyError:
        return None


def saved_stage(coach: Coach, stage_id: int) -> StageItem | None:
    """A stage as it is saved now, or None once it is gone."""
    found = _stage_items((Stage.id == stage_id) & (Stage.coach == coach))
    return found[0] if found else None


def _unique_program_name(coach: Coach, name: str, *, other_than: int | None = None) -> None:
    query = Program.select(Program.id, Program.name).where(Program.coach == coach)
    for pid, existing in query.tuples():
        if pid != other_than and existing.casefold() == name.casefold():
            raise JourneyError(f"there is already a program called {existing!r}")


def create_program(coach: Coach, name: str, summary: str = "", typical_sessions: int = 0) -> int:
    """A new, empty program; typical_sessions 0 means the program sets no number."""
    name = _name(name, "the program's name")
    summary = _text(summary, "the summary")
    typical_sessions = _count(
        typical_sessions, "the typical number of sessions", 0, MAX_PROGRAM_SESSIONS
    )
    with db.atomic():
        _unique_program_name(coach, name)
        return Program.create(
            coach=coach, name=name, summary=summary, typical_sessions=typical_sessions
        ).id


def edit_program(
    coach: Coach,
    program_id: int,
    *,
    name: str,
    summary: str,
    typical_sessions: int,
    version: int | None = None,
) -> None:
    program = _program(coach, program_id)
    name = _name(name, "the program's name")
    summary = _text(summary, "the summary")
    typical_sessions = _count(
        typical_sessions, "the typical number of sessions", 0, MAX_PROGRAM_SESSIONS
    )
    with db.atomic():
        _unique_program_name(coach, name, other_than=program.id)
        change_unless_changed(
            Program,
            program.id,
            coach,
            version,
            "that program",
            JourneyError("that program no longer exists"),
            name=name,
            summary=summary,
            typical_sessions=typical_sessions,
        )


def stage_choices(coach: Coach) -> list[StageChoice]:
    """Every stage of every program, by program name and position; one query."""
    query = (
        Stage.select(Stage.id, Program.id, Program.name, Stage.position, Stage.name)
        .join(Program, on=(Stage.program == Program.id))
        .where(Stage.coach == coach)
        .order_by(Program.name, Program.id, Stage.position)
    )
    return [StageChoice(*row) for row in query.tuples()]


# --- stages ------------------------------------------------------------------------------


def _shift(program_id: int, from_position: int, by: int) -> None:
    """Move every stage at or after `from_position` by `by` (+1 or -1), keeping positions unique.

    Two steps through negative numbers, so no row ever lands on a position still in use.
    (In Peewee a unary minus on a column means DESC, hence the multiplications.)
    """
    Stage.update(position=(Stage.position + by) * -1).where(
        (Stage.program == program_id) & (Stage.position >= from_position)
    ).execute()
    Stage.update(position=Stage.position * -1).where(
        (Stage.program == program_id) & (Stage.position < 0)
    ).execute()


def _unique_stage_name(program_id: int, name: str, *, other_than: int | None = None) -> None:
    query = Stage.select(Stage.id, Stage.name).where(Stage.program == program_id)
    for sid, existing in query.tuples():
        if sid != other_than and existing.casefold() == name.casefold():
            raise JourneyError(f"this program already has a stage called {existing!r}")


def add_stage(
    coach: Coach,
    program_id: int,
    name: str,
    purpose: str = "",
    typical_sessions: int = 1,
    asks_of_client: str = "",
    position: int | None = None,
) -> int:
    """A new stage at the end, or at `position` (1 is first), the stages after it moving down."""
    program = _program(coach, program_id)
    name = _name(name, "the stage's name")
    purpose = _text(purpose, "the purpose")
    asks_of_client = _text(asks_of_client, "what you ask of the client")
    typical_sessions = _count(
        typical_sessions, "the typical number of sessions", 1, MAX_STAGE_SESSIONS
    )
    with db.atomic():
        _unique_stage_name(program.id, name)
        count = Stage.select().where(Stage.program == program.id).count()
        if position is None:
            position = count + 1
        elif isinstance(position, bool) or not 1 <= position <= count + 1:
            raise JourneyError(f"a new stage goes at a position from 1 to {count + 1}")
        else:
            _shift(program.id, position, +1)
        return Stage.create(
            coach=coach,
            program=program,
            position=position,
            name=name,
            purpose=purpose,
            typical_sessions=typical_sessions,
            asks_of_client=asks_of_client,
        ).id


def edit_stage(
    coach: Coach,
    stage_id: int,
    *,
    name: str,
    purpose: str,
    typical_sessions: int,
    asks_of_client: str,
    version: int | None = None,
) -> None:
    stage = _stage(coach, stage_id)
    name = _name(name, "the stage's name")
    purpose = _text(purpose, "the purpose")
    asks_of_client = _text(asks_of_client, "what you ask of the client")
    typical_sessions = _count(
        typical_sessions, "the typical number of sessions", 1, MAX_STAGE_SESSIONS
    )
    with db.atomic():
        _unique_stage_name(stage.program_id, name, other_than=stage.id)
        change_unless_changed(
            Stage,
            stage.id,
            coach,
            version,
            "that stage",
            JourneyError("that stage no longer exists"),
            name=name,
            purpose=purpose,
            typical_sessions=typical_sessions,
            asks_of_client=asks_of_client,
        )


def move_stage(coach: Coach, stage_id: int, up: bool) -> int:
    """Swap a stage with the one before (up) or after it; returns its new position."""
    stage = _stage(coach, stage_id)
    with db.atomic():
        siblings = Stage.select(Stage.id, Stage.position).where(Stage.program == stage.program_id)
        if up:
            neighbour = (
                siblings.where(Stage.position < stage.position)
                .order_by(Stage.position.desc())
                .first()
            )
        else:
            neighbour = (
                siblings.where(Stage.position > stage.position).order_by(Stage.position).first()
            )
        if neighbour is None:
            raise JourneyError(
                "that stage is already the first" if up else "that stage is already the last"
            )
        # Through a temporary position that no stage can hold, inside one transaction.
        Stage.update(position=-stage.position).where(Stage.id == stage.id).execute()
        Stage.update(position=stage.position).where(Stage.id == neighbour.id).execute()
        Stage.update(position=neighbour.position).where(Stage.id == stage.id).execute()
    return neighbour.position


def remove_stage(coach: Coach, stage_id: int) -> None:
    """Remove a stage nobody is at and nobody has been through; later stages move up one."""
    stage = _stage(coach, stage_id)
    with db.atomic():
        here = Client.select().where(Client.stage == stage.id).count()
        if here:
            raise JourneyError(
                f"{_plural(here, 'client')} {'is' if here == 1 else 'are'} at this stage;"
                " move them to another stage first"
            )
        reached = StageChange.select().where(StageChange.stage == stage.id).count()
        sessions = Session.select().where(Session.stage == stage.id).count()
        if reached or sessions:
            history = " and ".join(
                part
                for part in (
                    f"{_plural(reached, 'stage move')}" if reached else "",
                    f"{_plural(sessions, 'session')}" if sessions else "",
                )
                if part
            )
            raise JourneyError(
                f"this stage has history ({history}); removing it would rewrite"
                " clients' journeys, so edit it instead"
            )
        delete_rows(Stage, Stage.id == stage.id)
        _shift(stage.program_id, stage.position + 1, -1)


# --- a client's place on the journey ---------------------------------------------------------


def move_client_to_stage(
    coach: Coach,
    client_id: int,
    stage_id: int,
    on: dt.date,
    *,
    today: dt.date | None = None,
) -> None:
    """Put a client at a stage from a given day, and record the move (StageChange).

    A stage of another program puts the client on that program. Sessions of this
    client from that day on count towards the new stage.
    """
    client = _client(coach, client_id)
    stage = _stage(coach, stage_id)
    if on > _today(today):
        raise JourneyError("a stage move cannot be dated in the future")
    if client.stage_id == stage.id:
        raise JourneyError("the client is already at that stage")
    with db.atomic():
        last = (
            StageChange.select(fn.MAX(StageChange.changed_on))
            .where(StageChange.client == client.id)
            .scalar()
        )
        last = _as_date(last)
        if last is not None and on < last:
            raise JourneyError(
                f"the client's last stage move was on {last.isoformat()}; date this one on or after"
            )
        Client.update(stage=stage.id, program=stage.program_id).where(
            Client.id == client.id
        ).execute()
        StageChange.create(coach=coach, client=client, stage=stage.id, changed_on=on)
        Session.update(stage=stage.id).where(
            (Session.client == client.id)
            & (Session.scheduled_start >= dt.datetime.combine(on, dt.time.min))
        ).execute()


def _progress(client: Client) -> tuple[StageProgress, ...]:
    """Three queries: the program's stages, the client's stage moves, their held sessions."""
    if client.program_id is None:
        return ()
    stages = list(
        Stage.select(
            Stage.id,
            Stage.position,
            Stage.name,
            Stage.purpose,
            Stage.asks_of_client,
            Stage.typical_sessions,
        )
        .where(Stage.program == client.program_id)
        .order_by(Stage.position)
        .tuples()
    )
    reached: dict[int, dt.date] = {}
    for stage_id, on in (
        StageChange.select(StageChange.stage, StageChange.changed_on)
        .where(StageChange.client == client.id)
        .order_by(StageChange.changed_on, StageChange.id)
        .tuples()
    ):
        reached[stage_id] = _as_date(on)  # the latest arrival wins
    held: dict[int, list[dt.date]] = {}
    for stage_id, scheduled, actual in (
        Session.select(Session.stage, Session.scheduled_start, Session.actual_start)
        .where(
            (Session.client == client.id)
            & (Session.status == "held")
            & (Session.stage.is_null(False))
        )
        .order_by(Session.scheduled_start)
        .tuples()
    ):
        start = actual or scheduled
        held.setdefault(stage_id, []).append(
            start.date() if isinstance(start, dt.datetime) else _as_date(start)
        )
    current_position = next((pos for sid, pos, *_ in stages if sid == client.stage_id), None)
    out = []
    for sid, position, name, purpose, asks, typical in stages:
        if current_position is None:
            state = "next"
        elif position < current_position:
            state = "done"
        elif position == current_position:
            state = "current"
        else:
            state = "next"
        days = tuple(held.get(sid, ()))
        out.append(
            StageProgress(
                stage_id=sid,
                position=position,
                name=name,
                purpose=purpose,
                asks_of_client=asks,
                typical_sessions=int(typical or 0),
                state=state,
                reached_on=reached.get(sid),
                sessions_held=len(days),
                held_on=days,
            )
        )
    return tuple(out)


def stage_progress(coach: Coach, client_id: int) -> tuple[StageProgress, ...]:
    """Each stage of the client's program: done, current or next, when it was reached, and
    the sessions held at it against its typical number; four queries however long the history.
    """
    return _progress(_client(coach, client_id))


def outcome(coach: Coach, outcome_id: int) -> OutcomeItem | None:
    """One outcome as it is saved now."""
    row = Outcome.get_or_none((Outcome.id == outcome_id) & (Outcome.coach == coach))
    if row is None:
        return None
    return OutcomeItem(row.id, row.client_id, _as_date(row.achieved_on), row.title,
                       row.detail, row.version)  # fmt: skip


def _outcomes_of(client_id: int) -> tuple[OutcomeItem, ...]:
    return tuple(
        OutcomeItem(oid, cid, _as_date(on), title, detail, version)
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


def client_journey(coach: Coach, client_id: int) -> ClientJourney:
    """What the workspace's Journey and Outcomes tabs show; five queries."""
    client = _client(coach, client_id)
    return ClientJourney(
        client_id=client.id,
        program_id=client.program_id,
        stage_id=client.stage_id,
        progress=_progress(client),
        outcomes=_outcomes_of(client.id),
        reference_consent=bool(client.reference_consent),
    )


# --- outcomes and references -------------------------------------------------------------


def _check_outcome(achieved_on: dt.date, title: str, detail: str, today: dt.date | None):
    if achieved_on > _today(today):
        raise JourneyError("an outcome cannot be dated in the future")
    return _name(title, "the outcome"), _text(detail, "the detail")


def add_outcome(
    coach: Coach,
    client_id: int,
    achieved_on: dt.date,
    title: str,
    detail: str = "",
    *,
    today: dt.date | None = None,
) -> int:
    client = _client(coach, client_id)
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
    client = _client(coach, client_id)
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
        .where((Client.coach == coach) & (Client.reference_consent == True))
        .order_by(Client.id, Outcome.achieved_on.desc(), Outcome.id.desc())
    )
    heads: dict[int, tuple[str, str, str | None]] = {}
    outcomes: dict[int, list[OutcomeItem]] = {}
    for cid, name, status, program, oid, on, title, detail, version in query.tuples():
        heads.setdefault(cid, (name, status, program))
        found = outcomes.setdefault(cid, [])
        if oid is not None:
            found.append(OutcomeItem(oid, cid, _as_date(on), title, detail, version))
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
