"""Programs and their stages: create and edit a program, add, edit, move and remove a stage.

A name is checked against the program's (or the coach's) other names as it is typed;
a stage clients are at, or have been through, is kept when asked to go (`trust.journey`
says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.trust import journey
from trustdesk.trust.journey import (
    MAX_PROGRAM_SESSIONS,
    MAX_STAGE_SESSIONS,
    ProgramDetail,
    StageItem,
)
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, perform
from trustdesk.tui.forms import ConfirmForm, Field, FormScreen, Invalid

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

Made = Callable[[int | None], None]  # told the new record's id, or None if none was made


def _between(least: int, most: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not least <= value <= most:
            raise Invalid(f"a number from {least} to {most}")

    return check


def _new_name(taken: Sequence[str], what: str) -> Callable[[str], None]:
    taken_folded = {name.casefold() for name in taken}

    def check(value: str) -> None:
        if value.strip().casefold() in taken_folded:
            raise Invalid(f"there is already {what} with that name")

    return check


# --- programs ---------------------------------------------------------------------------------


def _program_fields(program: ProgramDetail | None, others: Sequence[str]) -> list[Field]:
    return [
        Field(
            "name",
            "Name",
            default=program.name if program else "",
            required=True,
            check=_new_name(others, "a program"),
        ),
        Field(
            "summary",
            "In a sentence: who is it for, and where does it lead?",
            default=program.summary if program else "",
        ),
        Field(
            "typical_sessions",
            "Typical number of sessions (0 if it varies)",
            kind="number",
            default=program.typical_sessions if program else 0,
            required=True,
            check=_between(0, MAX_PROGRAM_SESSIONS),
        ),
    ]


def new_program(app: TrustdeskApp, taken: Sequence[str], made: Made) -> None:
    """Ask for a program whose name is not one of `taken`, and create it."""
    created: list[int] = []

    def saved(values: dict | None) -> None:
        if not values:
            return

        def work() -> None:
            created.append(
                journey.create_program(
                    app.coach,
                    values["name"],
                    values["summary"] or "",
                    values["typical_sessions"],
                )
            )

        perform(
            app,
            work,
            f"Program created: {visible(values['name'].strip())}",
            lambda: made(created[0] if created else None),
        )

    app.push_screen(FormScreen("New program", _program_fields(None, taken)), saved)


def edit_program(
    app: TrustdeskApp, program: ProgramDetail, others: Sequence[str], done: Done | None
) -> None:
    """Change a program's name, summary or length; `others` are the names it cannot take."""
    coach = app.coach
    ask_then_change(
        app,
        FormScreen(f"Edit {visible(program.name)}", _program_fields(program, others)),
        lambda values, version: journey.edit_program(
            coach,
            program.program_id,
            name=values["name"],
            summary=values["summary"] or "",
            typical_sessions=values["typical_sessions"],
            version=version,
        ),
        "Program saved",
        done,
        version=program.version,
        record=SavedRecord(
            lambda: journey.saved_program(coach, program.program_id),
            lambda now: visible(now.name),
            lambda now: {
                "name": now.name,
                "summary": now.summary,
                "typical_sessions": now.typical_sessions,
            },
        ),
    )


# --- stages -----------------------------------------------------------------------------------


def _stage_fields(program: ProgramDetail, stage: StageItem | None) -> list[Field]:
    names = [s.name for s in program.stages]
    if stage is not None:
        names.remove(stage.name)
    return [
        Field(
            "name",
            "Name",
            default=stage.name if stage else "",
            required=True,
            check=_new_name(names, "a stage"),
        ),
        Field(
            "purpose",
            "Purpose: what is this stage for?",
            default=stage.purpose if stage else "",
        ),
        Field(
            "typical_sessions",
            "Typical number of sessions",
            kind="number",
            default=stage.typical_sessions if stage else 1,
            required=True,
            check=_between(1, MAX_STAGE_SESSIONS),
        ),
        Field(
            "asks_of_client",
            "What do you ask of the client at this stage?",
            default=stage.asks_of_client if stage else "",
        ),
    ]


def add_stage(app: TrustdeskApp, program: ProgramDetail, made: Made) -> None:
    """A new last stage of `program`."""
    created: list[int] = []

    def saved(values: dict | None) -> None:
        if not values:
            return

        def work() -> None:
            created.append(
                journey.add_stage(
                    app.coach,
                    program.program_id,
                    values["name"],
                    values["purpose"] or "",
                    values["typical_sessions"],
                    values["asks_of_client"] or "",
                )
            )

        message = f"Stage added to {visible(program.name)}"
        perform(app, work, message, lambda: made(created[0] if created else None))

    title = f"A new stage of {visible(program.name)}"
    app.push_screen(FormScreen(title, _stage_fields(program, None)), saved)


def edit_stage(
    app: TrustdeskApp, program: ProgramDetail, stage: StageItem, done: Done | None
) -> None:
    coach = app.coach
    ask_then_change(
        app,
        FormScreen(f"Edit stage {stage.position}", _stage_fields(program, stage)),
        lambda values, version: journey.edit_stage(
            coach,
            stage.stage_id,
            name=values["name"],
            purpose=values["purpose"] or "",
            typical_sessions=values["typical_sessions"],
            asks_of_client=values["asks_of_client"] or "",
            version=version,
        ),
        "Stage saved",
        done,
        version=stage.version,
        record=SavedRecord(
            lambda: journey.saved_stage(coach, stage.stage_id),
            lambda now: f"stage {now.position}, {visible(now.name)}",
            lambda now: {
                "name": now.name,
                "purpose": now.purpose,
                "typical_sessions": now.typical_sessions,
                "asks_of_client": now.asks_of_client,
            },
        ),
    )


def move_stage(app: TrustdeskApp, stage: StageItem, up: bool, done: Done | None) -> None:
    perform(
        app,
        lambda: journey.move_stage(app.coach, stage.stage_id, up),
        f"Moved {'up' if up else 'down'}: {visible(stage.name)}",
        done,
    )


def remove_stage(app: TrustdeskApp, stage: StageItem, done: Done | None) -> None:
    """Take a stage out once the coach has confirmed it; the stages after it move up."""
    form = ConfirmForm(
        "Remove a stage",
        f"Stage {stage.position}, {visible(stage.name)}, will be removed and the "
        "stages after it move up. A stage clients are at, or have been through, stays.",
        save="Remove",
    )

    def saved(values: dict | None) -> None:
        if values is not None:
            perform(
                app,
                lambda: journey.remove_stage(app.coach, stage.stage_id),
                f"Removed: {visible(stage.name)}",
                done,
            )

    app.push_screen(form, saved)
