"""The coach's own name and email, from the palette ("Your name"): they sign every prompt
the app composes, so a practice made by `init` as "root" can put that right in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.trust.coach import MAX_COACH_NAME, MAX_EMAIL, CoachProfile, coach_profile
from trustdesk.trust.coach import rename_coach as rename_rule
from trustdesk.trust.common import ChangedElsewhere
from trustdesk.tui.flows.base import Done, ask_then_perform
from trustdesk.tui.forms import Field, FormScreen

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def rename_coach(app: TrustdeskApp, done: Done | None = None) -> None:
    """Ask for the name and email, filled with what the app knows, and save them."""
    coach = app.coach
    shown = CoachProfile(coach.id, coach.name, coach.email)
    form = FormScreen(
        "Your name",
        [
            Field(
                "name", "Your name", default=shown.name, required=True, max_length=MAX_COACH_NAME
            ),
            Field("email", "Your email (optional)", default=shown.email, max_length=MAX_EMAIL),
        ],  # fmt: skip
        intro="Your name signs every prompt you send to a client.",
    )

    def save(values: dict) -> None:
        rename_rule(coach, name=values["name"], email=values["email"], was=shown)

    def changed(refused: ChangedElsewhere) -> str:
        # Take in what was saved elsewhere, so the form opens with it next time.
        now = coach_profile(coach)
        coach.name, coach.email = now.name, now.email
        return (
            f"Not saved: your name was changed elsewhere to {visible(now.name)}."
            " Open Your name again to change it."
        )

    def said(values: dict) -> str:
        return f"Your prompts are now signed {visible(values['name'].strip())}"

    ask_then_perform(app, form, save, said, done, changed=lambda values: changed)
