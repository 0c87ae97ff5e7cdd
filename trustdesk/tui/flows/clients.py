"""A client's whole life in the app: the client form (new and edit), moving a client
along prospect → active → paused → completed → archived, and deleting one with their
name typed back.

What a form offers (programs and stages, the client as saved) loads off the UI thread
first; the write runs through `trust.clients` with `flows.base`, and `done` reloads the
screen that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Button, Input

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.store.states import ClientStatus
from trustdesk.trust import clients
from trustdesk.trust.clients import (
    LONGEST_GAP_DAYS,
    MAX_NAME,
    MAX_PREFERENCES,
    ClientDetails,
    JourneyChoice,
)
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, ask_then_perform
from trustdesk.tui.forms import Field, FormScreen, Invalid, not_after

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

# The words for each move, as the status form offers them.
MOVE_WORDS = {
    ClientStatus.ACTIVE: "Active: working together now",
    ClientStatus.PAUSED: "Paused: on a break, no cadence",
    ClientStatus.COMPLETED: "Completed: the engagement ended",
    ClientStatus.ARCHIVED: "Archived: out of every list",
    ClientStatus.PROSPECT: "Prospect: not started yet",
}
# The move a coach most often makes next, offered first.
NEXT_MOVE = {
    ClientStatus.PROSPECT: ClientStatus.ACTIVE,
    ClientStatus.ACTIVE: ClientStatus.PAUSED,
    ClientStatus.PAUSED: ClientStatus.ACTIVE,
    ClientStatus.COMPLETED: ClientStatus.ARCHIVED,
    ClientStatus.ARCHIVED: ClientStatus.ACTIVE,
}


def _load_then(
    app: TrustdeskApp, work: Callable[[], Any], then: Callable[[Any], None], what: str
) -> None:
    """Load what a form needs off the UI thread, then ask, if the coach is still there."""
    asked_on = app.screen

    def load() -> None:
        try:
            loaded = app.fetch(work)
        except (StoreError, clients.ActionError) as exc:
            message = f"Could not load {what}: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
            return
        app.call_from_thread(ask, loaded)

    def ask(loaded: Any) -> None:
        if app.screen is asked_on:
            then(loaded)

    app.run_worker(load, thread=True, exclusive=True, group="client-form", exit_on_error=False)


# --- the client form ------------------------------------------------------------------


def journey_value(program_id: int | None, stage_id: int | None) -> str | None:
    if program_id is None:
        return None
    return f"s{stage_id}" if stage_id is not None else f"p{program_id}"


def journey_ids(value: str | None) -> tuple[int | None, int | None]:
    """(program, stage) from the journey choice: a stage names its program."""
    if not value:
        return None, None
    if value.startswith("s"):
        return None, int(value[1:])
    return int(value[1:]), None


def journey_label(choice: JourneyChoice) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis", end="")
    label.append(visible(choice.program_name))
    if choice.stage_id is None:
        label.append(" (no stages yet)", "dim")
    else:
        label.append(f" › {choice.position}. ")
        label.append(visible(choice.stage_name or ""))
    return label


def _contacts(values: tuple[str, ...]) -> str:
    return ", ".join(values)


class ClientForm(FormScreen):
    """The client form; the maximum gap is checked against the ideal gap as typed."""

    def _parse(self, f: Field) -> Any:
        value = super()._parse(f)
        if f.key == "max_gap_days" and value is not None:
            ideal = self.query_one("#field-ideal_gap_days", Input).value.strip()
            if ideal.isdigit() and value < int(ideal):
                raise Invalid(f"must not be shorter than the ideal gap ({int(ideal)} days)")
        return value

    def refilled(self, values: dict[str, Any], intro: str) -> FormScreen:
        fields = [replace(f, default=values.get(f.key, f.default)) for f in self.fields]
        return ClientForm(self.form_title, fields, intro=intro, save=self.save_label)

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Many fields: they scroll, and the buttons stay on screen even at 80x24."""
        if not self.is_attached:
            return
        form = self.query_one("#form")
        fields = self.query_one(".form-fields")
        others = sum(w.outer_size.height for w in form.children if w is not fields)
        room = int(self.size.height * 0.9) - 2 - others
        fields.styles.max_height = max(5, min(16, room))


def client_fields(
    app: TrustdeskApp, choices: list[JourneyChoice], details: ClientDetails | None
) -> list[Field]:
    settings, today = app.settings, app.today
    journeys = [(journey_label(c), journey_value(c.program_id, c.stage_id)) for c in choices]
    fields = [
        Field(
            "name",
            "Name",
            default=details.name if details else "",
            required=True,
            max_length=MAX_NAME,
        ),
        Field(
            "emails",
            "Email (more than one: separate with commas; the first is used)",
            default=_contacts(details.emails) if details else "",
        ),
        Field(
            "phones",
            "Phone (more than one: separate with commas)",
            default=_contacts(details.phones) if details else "",
        ),
        Field(
            "journey",
            "Program and stage",
            kind="choice",
            choices=journeys,
            default=journey_value(details.program_id, details.stage_id) if details else None,
        ),
        Field(
            "ideal_gap_days",
            "Ideal days between touches",
            kind="number",
            default=details.ideal_gap_days if details else settings.default_ideal_gap_days,
            required=True,
            minimum=1,
            maximum=LONGEST_GAP_DAYS,
        ),
        Field(
            "max_gap_days",
            "Most days before the client goes quiet",
            kind="number",
            default=details.max_gap_days if details else settings.default_max_gap_days,
            required=True,
            minimum=1,
            maximum=LONGEST_GAP_DAYS,
        ),
        Field(
            "started_on",
            "Started on",
            kind="date",
            default=details.started_on if details else today,
            required=True,
        ),
        Field(
            "contact_preferences",
            "How and when they like to be reached",
            default=details.contact_preferences if details else "",
            max_length=MAX_PREFERENCES,
        ),
    ]
    if details is None:
        fields += [
            Field(
                "status",
                "Status",
                kind="choice",
                choices=[("Active", "active"), ("Prospect", "prospect")],
                default="active",
                required=True,
            ),
            Field(
                "last_contact_on",
                "Last contact so far (optional: starts their cadence from it)",
                kind="date",
                check=not_after(today, "today"),
            ),
        ]
    return fields


def _client_form(
    app: TrustdeskApp, title: str, choices: list[JourneyChoice], details: ClientDetails | None
) -> ClientForm:
    fields = client_fields(app, choices, details)
    return ClientForm(title, fields, save="Add client" if details is None else "Save")


def _written(values: dict) -> dict[str, Any]:
    """The form's values as `trust.clients` takes them."""
    program_id, stage_id = journey_ids(values.get("journey"))
    return {
        "name": values["name"],
        "emails": values.get("emails") or "",
        "phones": values.get("phones") or "",
        "program_id": program_id,
        "stage_id": stage_id,
        "ideal_gap_days": values["ideal_gap_days"],
        "max_gap_days": values["max_gap_days"],
        "started_on": values["started_on"],
        "contact_preferences": values.get("contact_preferences") or "",
    }


def new_client(app: TrustdeskApp, done: Done | None) -> None:
    """`n` on the clients list, and "New client" in the palette."""

    def ask(choices: list[JourneyChoice]) -> None:
        form = _client_form(app, "New client", choices, None)
        today = app.today

        def work(values: dict) -> None:
            clients.add_client(
                app.coach,
                **_written(values),
                status=values["status"],
                last_contact_on=values.get("last_contact_on"),
                today=today,
            )

        ask_then_perform(
            app, form, work, lambda values: f"Added {visible(values['name'].strip())}", done
        )

    _load_then(app, lambda: clients.journey_choices(app.coach), ask, "the programs")


def _details_fields(details: ClientDetails) -> dict[str, Any]:
    return {
        "name": details.name,
        "emails": _contacts(details.emails),
        "phones": _contacts(details.phones),
        "journey": journey_value(details.program_id, details.stage_id),
        "ideal_gap_days": details.ideal_gap_days,
        "max_gap_days": details.max_gap_days,
        "started_on": details.started_on,
        "contact_preferences": details.contact_preferences,
    }


def _saved_client(app: TrustdeskApp, client_id: int) -> SavedRecord[ClientDetails]:
    def read() -> ClientDetails | None:
        try:
            return clients.client_details(app.coach, client_id)
        except clients.ActionError:
            return None

    return SavedRecord(read, lambda now: visible(now.name), _details_fields)


def edit_client(app: TrustdeskApp, client_id: int, done: Done | None) -> None:
    """`E` in the workspace: the client form, filled from the client as saved now."""

    def work() -> tuple[list[JourneyChoice], ClientDetails]:
        return clients.journey_choices(app.coach), clients.client_details(app.coach, client_id)

    def ask(loaded: tuple[list[JourneyChoice], ClientDetails]) -> None:
        choices, details = loaded
        form = _client_form(app, f"Edit {visible(details.name)}", choices, details)
        today = app.today

        def change(values: dict, version: int | None) -> None:
            clients.edit_client(
                app.coach, client_id, version=version, today=today, **_written(values)
            )

        ask_then_change(
            app,
            form,
            change,
            lambda values: f"Saved {visible(values['name'].strip())}",
            done,
            version=details.version,
            record=_saved_client(app, client_id),
        )

    _load_then(app, work, ask, "the client")


# --- status --------------------------------------------------------------------------


def move_client(app: TrustdeskApp, client_id: int, done: Done | None) -> None:
    """`S` in the workspace: the moves the client's status allows, the usual next first."""

    def ask(details: ClientDetails) -> None:
        now = details.status
        moves = [s for s in ClientStatus if now.can_become(s)]
        moves.sort(key=lambda s: s is not NEXT_MOVE.get(now))
        form = FormScreen(
            f"Status of {visible(details.name)}",
            [
                Field(
                    "status",
                    f"Now {now}; becomes",
                    kind="choice",
                    choices=[(MOVE_WORDS[s], s.value) for s in moves],
                    default=moves[0].value if moves else None,
                    required=True,
                )
            ],
            save="Change status",
        )

        def change(values: dict, version: int | None) -> None:
            clients.move_client(app.coach, client_id, values["status"], version=version)

        ask_then_change(
            app,
            form,
            change,
            lambda values: f"{visible(details.name)} is now {values['status']}",
            done,
            version=details.version,
            record=_saved_client(app, client_id),
        )

    _load_then(app, lambda: clients.client_details(app.coach, client_id), ask, "the client")


# --- delete --------------------------------------------------------------------------


class DeleteClientForm(FormScreen):
    """Delete, enabled only once the client's name is typed back."""

    def __init__(self, name: str) -> None:
        self.client_name = name
        super().__init__(
            f"Delete {visible(name)}",
            [Field("typed", "Type the client's name to confirm", required=True, check=self._match)],
            intro=(
                f"This deletes {visible(name)} and every record of theirs: sessions, "
                "promises, touches, notes (sealed ones too), outcomes and stage moves. "
                "It cannot be undone. An archived client stays in your exports instead."
            ),
            save="Delete for good",
        )

    def _match(self, typed: str) -> None:
        if not clients.typed_back(typed, self.client_name):
            raise Invalid("not the client's name")

    def on_mount(self) -> None:
        super().on_mount()
        button = self.query_one("#save", Button)
        button.variant = "error"
        button.disabled = True

    def on_input_changed(self, event: Input.Changed) -> None:
        matches = clients.typed_back(event.value, self.client_name)
        self.query_one("#save", Button).disabled = not matches
        if matches or self._errors:
            self._validate(self.fields[0])


def delete_client(
    app: TrustdeskApp, client_id: int, done: Done | None, gone: Done | None = None
) -> None:
    """`D` in the workspace: asks for the name typed back. `done` runs after the write,
    whatever its outcome; `gone` only once the client is deleted."""

    def ask(details: ClientDetails) -> None:
        def work(values: dict) -> None:
            clients.delete_client(app.coach, client_id, values["typed"], version=details.version)
            if gone is not None:
                app.call_from_thread(gone)

        name = visible(details.name)
        ask_then_perform(app, DeleteClientForm(details.name), work, f"Deleted {name}", done)

    _load_then(app, lambda: clients.client_details(app.coach, client_id), ask, "the client")
