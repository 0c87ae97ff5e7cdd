"""Clarity of process, progress: where each client is on their program's journey, where a
program's clients stand stage by stage, and moving a client to a stage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from peewee import JOIN, SQL, Select, fn

from trustdesk.store.models import Client, Coach, Program, Session, Stage, StageChange, db
from trustdesk.store.states import ClientStatus, SessionStatus
from trustdesk.trust.common import as_date, plural
from trustdesk.trust.journey.checks import JourneyError, journey_client, today_or_clock
from trustdesk.trust.journey.outcomes import OutcomeItem, outcomes_of
from trustdesk.trust.journey.programs import journey_stage


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
            return f"{self.sessions_held} of {plural(self.typical_sessions, 'session')}"
        return plural(self.sessions_held, "session")


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
class Journey:
    """A client's place in their program."""

    client_id: int
    client_name: str
    program_name: str | None
    stage_name: str | None
    stage_position: int | None
    stage_count: int
    sessions_held: int
    typical_sessions: int

    @property
    def session_progress(self) -> str:
        """'4 of 8' when the program sets a number of sessions, otherwise just the count."""
        if self.typical_sessions:
            return f"{self.sessions_held} of {self.typical_sessions}"
        return str(self.sessions_held)


@dataclass(frozen=True)
class StageCount:
    stage_name: str
    position: int
    clients: int


@dataclass(frozen=True)
class ProgramProgress:
    """Where the active clients of one program stand, stage by stage."""

    program_name: str
    stages: tuple[StageCount, ...]
    clients: int
    sessions_held: int
    sessions_typical: int


@dataclass(frozen=True)
class StageStep:
    position: int
    name: str
    purpose: str
    asks_of_client: str
    typical_sessions: int
    reached_on: dt.date | None
    state: str  # done, current, next


# --- reads ---------------------------------------------------------------------------


def journeys(
    coach: Coach,
    *,
    statuses: Sequence[str] | None = None,
    client_ids: Iterable[int] | None = None,
) -> list[Journey]:
    """Each client's program, current stage and sessions held against the typical number."""
    stage_count = Stage.select(fn.COUNT(Stage.id)).where(Stage.program == Client.program)
    held = Session.select(fn.COUNT(Session.id)).where(
        (Session.client == Client.id) & (Session.status == SessionStatus.HELD)
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
    """For each program: how many active clients are at each stage; two queries.

    Clients are counted per program and stage in SQL, their sessions held read from
    their rollups: the cost follows the programs and stages, not the years of sessions.
    """
    from trustdesk.trust.contact import sessions_held_count, with_rollup

    stages = (
        Stage.select(Stage.id, Stage.program, Stage.name, Stage.position, Program.name)
        .join(Program)
        .where(Stage.coach == coach)
        .order_by(fn.LOWER(Program.name), Program.id, Stage.position)
    )
    each = (
        with_rollup(
            Client.select(
                Program.name.alias("program"),
                Stage.position.alias("position"),
                sessions_held_count().alias("held"),
                Program.typical_sessions.alias("typical"),
            )
        )
        .join(Program, on=(Client.program == Program.id))
        .switch(Client)
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .where((Client.coach == coach) & (Client.status == ClientStatus.ACTIVE))
        .alias("each_client")
    )
    # Grouped outside: PostgreSQL will not group by a subquery on the outer row.
    keys = (each.c.program, each.c.position)
    grouped = Select(
        [each], [*keys, fn.COUNT(SQL("*")), fn.SUM(each.c.held), fn.SUM(each.c.typical)]
    ).group_by(*keys)
    by_stage: dict[tuple[str, int], int] = {}
    held: dict[str, int] = {}
    typical: dict[str, int] = {}
    clients: dict[str, int] = {}
    for key, position, n, n_held, n_typical in db.execute(grouped):
        clients[key] = clients.get(key, 0) + int(n)
        held[key] = held.get(key, 0) + int(n_held or 0)
        typical[key] = typical.get(key, 0) + int(n_typical or 0)
        if position is not None:
            by_stage[(key, position)] = by_stage.get((key, position), 0) + int(n)
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


def stage_steps(client: Client) -> tuple[StageStep, ...]:
    if client.program_id is None:
        return ()
    reached = {
        stage_id: as_date(on)
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
        reached[stage_id] = as_date(on)  # the latest arrival wins
    held: dict[int, list[dt.date]] = {}
    for stage_id, scheduled, actual in (
        Session.select(Session.stage, Session.scheduled_start, Session.actual_start)
        .where(
            (Session.client == client.id)
            & (Session.status == SessionStatus.HELD)
            & (Session.stage.is_null(False))
        )
        .order_by(Session.scheduled_start)
        .tuples()
    ):
        start = actual or scheduled
        held.setdefault(stage_id, []).append(
            start.date() if isinstance(start, dt.datetime) else as_date(start)
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
    return _progress(journey_client(coach, client_id))


def client_journey(coach: Coach, client_id: int) -> ClientJourney:
    """What the workspace's Journey and Outcomes tabs show; five queries."""
    client = journey_client(coach, client_id)
    return ClientJourney(
        client_id=client.id,
        program_id=client.program_id,
        stage_id=client.stage_id,
        progress=_progress(client),
        outcomes=outcomes_of(client.id),
        reference_consent=bool(client.reference_consent),
    )


# --- writes --------------------------------------------------------------------------


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
    client = journey_client(coach, client_id)
    stage = journey_stage(coach, stage_id)
    if on > today_or_clock(today):
        raise JourneyError("a stage move cannot be dated in the future")
    if client.stage_id == stage.id:
        raise JourneyError("the client is already at that stage")
    with db.atomic():
        last = (
            StageChange.select(fn.MAX(StageChange.changed_on))
            .where(StageChange.client == client.id)
            .scalar()
        )
        last = as_date(last)
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
