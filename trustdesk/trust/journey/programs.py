"""Clarity of process, programs: a coach's programs and their ordered stages.

Stage positions within a program are always 1, 2, 3, ... with no gap. The database
holds a unique index on (program, position), which SQL checks row by row even inside
one UPDATE, so every renumbering goes through temporary negative positions.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from trustdesk.store.models import Client, Coach, Program, Session, Stage, StageChange, db
from trustdesk.store.practice import delete_rows
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import change_unless_changed, plural
from trustdesk.trust.journey.checks import (
    JourneyError,
    checked_count,
    checked_detail,
    checked_name,
    owned,
)

MAX_PROGRAM_SESSIONS = 500
MAX_STAGE_SESSIONS = 100


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


def _program(coach: Coach, program_id: int) -> Program:
    return owned(Program, coach, program_id, "program")


def journey_stage(coach: Coach, stage_id: int) -> Stage:
    return owned(Stage, coach, stage_id, "stage")


# --- programs ----------------------------------------------------------------------------


def list_programs(coach: Coach) -> list[ProgramSummary]:
    """Every program of the coach, by name, with its stage count and active clients; one query."""
    stages = Stage.select(fn.COUNT(Stage.id)).where(Stage.program == Program.id)
    active = Client.select(fn.COUNT(Client.id)).where(
        (Client.program == Program.id) & (Client.status == ClientStatus.ACTIVE)
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
        (Client.program == Program.id) & (Client.status == ClientStatus.ACTIVE)
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
    name = checked_name(name, "the program's name")
    summary = checked_detail(summary, "the summary")
    typical_sessions = checked_count(
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
    name = checked_name(name, "the program's name")
    summary = checked_detail(summary, "the summary")
    typical_sessions = checked_count(
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
    name = checked_name(name, "the stage's name")
    purpose = checked_detail(purpose, "the purpose")
    asks_of_client = checked_detail(asks_of_client, "what you ask of the client")
    typical_sessions = checked_count(
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
    stage = journey_stage(coach, stage_id)
    name = checked_name(name, "the stage's name")
    purpose = checked_detail(purpose, "the purpose")
    asks_of_client = checked_detail(asks_of_client, "what you ask of the client")
    typical_sessions = checked_count(
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
    stage = journey_stage(coach, stage_id)
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
    stage = journey_stage(coach, stage_id)
    with db.atomic():
        here = Client.select().where(Client.stage == stage.id).count()
        if here:
            raise JourneyError(
                f"{plural(here, 'client')} {'is' if here == 1 else 'are'} at this stage;"
                " move them to another stage first"
            )
        reached = StageChange.select().where(StageChange.stage == stage.id).count()
        sessions = Session.select().where(Session.stage == stage.id).count()
        if reached or sessions:
            history = " and ".join(
                part
                for part in (
                    f"{plural(reached, 'stage move')}" if reached else "",
                    f"{plural(sessions, 'session')}" if sessions else "",
                )
                if part
            )
            raise JourneyError(
                f"this stage has history ({history}); removing it would rewrite"
                " clients' journeys, so edit it instead"
            )
        delete_rows(Stage, Stage.id == stage.id)
        _shift(stage.program_id, stage.position + 1, -1)
