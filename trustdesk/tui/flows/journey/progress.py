"""A client's progress on their journey: moving to a stage, outcomes, agreeing to be a reference.

Each flow asks in a form where it needs to, writes through `trust.journey` with
`flows.base.perform`, and calls `done` after the write, whatever its outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.trust import journey
from trustdesk.trust.journey import ClientJourney, OutcomeItem, StageChoice
from trustdesk.tui.flows.base import SavedRecord, ask_then_change, perform
from trustdesk.tui.formatting import day
from trustdesk.tui.forms import ConfirmForm, Field, FormScreen, not_after

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

Done = Callable[[], None]


def next_stage(own: Sequence[StageChoice], current: int | None) -> int | None:
    """The stage after the client's current one; the first when they have none yet."""
    if not own:
        return None
    ids = [c.stage_id for c in own]
    if current not in ids:
        return ids[0]
    return ids[min(ids.index(current) + 1, len(ids) - 1)]


def stage_label(choice: StageChoice, current: int | None) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis", end="")
    label.append(visible(choice.program_name))
    label.append(f" › {choice.position}. ")
    label.append(visible(choice.name))
    if choice.stage_id == current:
        label.append("  (now)", "dim")
    return label


def move_to_stage(app: TrustdeskApp, name: str, path: ClientJourney, done: Done) -> None:
    """Ask which stage (of this client's program first, then any other) and from when.

    The programs load off the UI thread; if the coach has left the screen they were on
    by the time they arrive, nothing is asked.
    """
    asked_on = app.screen

    def load() -> None:
        try:
            choices = app.fetch(journey.stage_choices, app.coach)
        except StoreError as exc:
            message = f"Could not load the programs: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(ask, choices)

    def ask(choices: list[StageChoice]) -> None:
        if app.screen is asked_on:
            ask_stage(app, name, path, choices, done)

    app.run_worker(load, thread=True, exclusive=True, group="stages", exit_on_error=False)


def ask_stage(
    app: TrustdeskApp, name: str, path: ClientJourney, choices: list[StageChoice], done: Done
) -> None:
    if not choices:
        app.notify(
            "There are no programs with stages yet: add one in Programs first.",
            severity="warning",
            markup=False,
        )
        return
    today = app.today
    own = [c for c in choices if c.program_id == path.program_id]
    ordered = own + [c for c in choices if c.program_id != path.program_id]
    default = next_stage(own, path.stage_id) or ordered[0].stage_id
    form = FormScreen(
        f"Move {visible(name)} to a stage",
        [
            Field(
                "stage",
                "Stage",
                kind="choice",
                choices=[(stage_label(c, path.stage_id), c.stage_id) for c in ordered],
                default=default,
                required=True,
            ),
            Field(
                "on",
                "From (e.g. today, 3 dec)",
                kind="date",
                default=today,
                required=True,
                check=not_after(today, "today"),
            ),
        ],
        intro="A stage of another program puts the client on that program.",
        save="Move",
    )
    by_id = {c.stage_id: c for c in choices}

    def saved(values: dict | None) -> None:
        if not values:
            return
        chosen = by_id[values["stage"]]
        perform(
            app,
            lambda: journey.move_client_to_stage(
                app.coach, path.client_id, chosen.stage_id, values["on"], today=today
            ),
            f"{visible(name)} moved to {visible(chosen.name)}",
            done,
        )

    app.push_screen(form, saved)


def outcome_form(app: TrustdeskApp, title: str, outcome: OutcomeItem | None) -> FormScreen:
    today = app.today
    return FormScreen(
        title,
        [
            Field(
                "achieved_on",
                "Achieved on (e.g. today, 3 dec)",
                kind="date",
                default=outcome.achieved_on if outcome else today,
                required=True,
                check=not_after(today, "today"),
            ),
            Field(
                "title",
                "What did they achieve?",
                default=outcome.title if outcome else "",
                required=True,
            ),
            Field("detail", "In a line or two: how?", default=outcome.detail if outcome else ""),
        ],
    )


def add_outcome(app: TrustdeskApp, client_id: int, name: str, done: Done) -> None:
    today = app.today

    def saved(values: dict | None) -> None:
        if values:
            perform(
                app,
                lambda: journey.add_outcome(
                    app.coach,
                    client_id,
                    values["achieved_on"],
                    values["title"],
                    values["detail"] or "",
                    today=today,
                ),
                "Outcome recorded",
                done,
            )

    app.push_screen(outcome_form(app, f"An outcome for {visible(name)}", None), saved)


def edit_outcome(app: TrustdeskApp, outcome: OutcomeItem, done: Done) -> None:
    today, coach = app.today, app.coach
    ask_then_change(
        app,
        outcome_form(app, "Edit an outcome", outcome),
        lambda values, version: journey.edit_outcome(
            coach,
            outcome.outcome_id,
            achieved_on=values["achieved_on"],
            title=values["title"],
            detail=values["detail"] or "",
            today=today,
            version=version,
        ),
        "Outcome saved",
        done,
        version=outcome.version,
        record=SavedRecord(
            lambda: journey.saved_outcome(coach, outcome.outcome_id),
            lambda now: f"{visible(now.title)} ({day(now.achieved_on)})",
            lambda now: {
                "achieved_on": now.achieved_on,
                "title": now.title,
                "detail": now.detail,
            },
        ),
    )


def remove_outcome(app: TrustdeskApp, outcome: OutcomeItem, done: Done) -> None:
    form = ConfirmForm(
        "Remove an outcome",
        f"{visible(outcome.title)} ({day(outcome.achieved_on)}) will be removed.",
        save="Remove",
    )

    def saved(values: dict | None) -> None:
        if values is not None:
            perform(
                app,
                lambda: journey.remove_outcome(
                    app.coach, outcome.outcome_id, version=outcome.version
                ),
                f"Removed: {visible(outcome.title)}",
                done,
            )

    app.push_screen(form, saved)


def toggle_reference_consent(app: TrustdeskApp, name: str, path: ClientJourney, done: Done) -> None:
    consent = not path.reference_consent
    shown = visible(name)
    message = (
        f"{shown} is now listed as a reference"
        if consent
        else f"{shown} is no longer listed as a reference"
    )
    perform(
        app,
        lambda: journey.set_reference_consent(app.coach, path.client_id, consent),
        message,
        done,
    )
