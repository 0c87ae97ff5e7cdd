"""The journey through Pilot: the program editor, stage moves, outcomes and references.

Every step is checked in the database afterwards.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import settle, type_into, wait_for_screen
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Outcome, Program, Stage, StageChange
from trustdesk.tui.app import TrustdeskApp
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.client.journey import JourneyView
from trustdesk.tui.screens.client.outcomes import OutcomesTable
from trustdesk.tui.screens.programs import ProgramsScreen, ProgramsTable, StagesTable
from trustdesk.tui.screens.references import ReferencesScreen, ReferencesTable

TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday
SIZE = (100, 32)


@pytest.fixture
def app(demo_practice):
    return TrustdeskApp(demo_practice(12), current_coach())


async def open_screen(pilot: Pilot, screen) -> None:
    await settle(pilot)
    await pilot.app.push_screen(screen)
    await settle(pilot)


async def fill(pilot: Pilot, **values: str) -> None:
    """Put text in the open form's fields (typing every key would only slow the suite)."""
    for key, text in values.items():
        widget = pilot.app.screen.query_one(f"#field-{key}", Input)
        widget.focus()
        widget.value = text
        await pilot.pause()


def stages_of(program_id: int) -> list[tuple[str, int]]:
    query = Stage.select().where(Stage.program == program_id).order_by(Stage.position)
    return [(s.name, s.position) for s in query]


def text_of(widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


# --- the program editor ---------------------------------------------------------------------


async def test_the_program_editor_creates_adds_reorders_and_edits(app):
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ProgramsScreen())
        screen = app.screen
        assert screen.query_one(ProgramsTable).row_count == Program.select().count() == 3

        await pilot.press("n")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-name", "Executive [b]presence[/b]")
        await fill(pilot, summary="For new leaders", typical_sessions="6")
        await pilot.press("enter")
        await settle(pilot)
        program = Program.get(Program.name == "Executive [b]presence[/b]")
        assert (program.summary, program.typical_sessions) == ("For new leaders", 6)
        assert screen.detail.program_id == program.id  # the new program is highlighted
        title = text_of(screen.query_one("#stages-title"))
        assert "Executive [b]presence[/b] — 0 stages" in title  # literal, not bold

        for name, sessions in (("Listen", "2"), ("Speak", "3")):
            await pilot.press("a")
            await wait_for_screen(pilot, FormScreen)
            await fill(pilot, name=name, purpose=f"{name} well", typical_sessions=sessions)
            await fill(pilot, asks_of_client=f"{name} daily")
            await pilot.press("enter")
            await settle(pilot)
        assert stages_of(program.id) == [("Listen", 1), ("Speak", 2)]
        stages = screen.query_one(StagesTable)
        speak = Stage.get((Stage.program == program) & (Stage.name == "Speak"))
        assert stages.current_key() == str(speak.id)  # the cursor is on the stage just added
        assert "We ask of the client: Speak daily" in text_of(screen.query_one("#stage-detail"))

        stages.focus()
        await pilot.press("K")
        await settle(pilot)
        assert stages_of(program.id) == [("Speak", 1), ("Listen", 2)]
        assert stages.current_key() == str(speak.id)  # the cursor moved with it
        await pilot.press("ctrl+down")
        await settle(pilot)
        assert stages_of(program.id) == [("Listen", 1), ("Speak", 2)]

        await pilot.press("E")
        await wait_for_screen(pilot, FormScreen)
        assert app.screen.query_one("#field-purpose", Input).value == "Speak well"
        await fill(pilot, name="Speak up", typical_sessions="4")
        await pilot.press("ctrl+s")
        await settle(pilot)
        edited = Stage.get_by_id(speak.id)
        assert (edited.name, edited.typical_sessions, edited.position) == ("Speak up", 4, 2)
        assert (edited.purpose, edited.asks_of_client) == ("Speak well", "Speak daily")

        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, name="Executive presence")
        await pilot.press("enter")
        await settle(pilot)
        assert Program.get_by_id(program.id).name == "Executive presence"
        assert Program.select().count() == 4


async def test_a_stage_changed_elsewhere_comes_back_with_what_was_typed(app):
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ProgramsScreen())
        screen = app.screen
        stages = screen.query_one(StagesTable)
        stages.focus()
        stage = Stage.get_by_id(int(stages.current_key()))
        await pilot.press("E")
        await wait_for_screen(pilot, FormScreen)
        Stage.update(purpose="Agreed in the other window").where(Stage.id == stage.id).execute()
        await fill(pilot, asks_of_client="One page, before we meet")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        again = app.screen
        assert again.query_one("#field-purpose", Input).value == "Agreed in the other window"
        assert again.query_one("#field-asks_of_client", Input).value == "One page, before we meet"
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Stage.get_by_id(stage.id)
        assert (saved.purpose, saved.asks_of_client, saved.name) == (
            "Agreed in the other window",
            "One page, before we meet",
            stage.name,
        )


async def test_an_empty_practice_starts_with_n(database, coach, today):
    app = TrustdeskApp(database, coach)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, ProgramsScreen())
        screen = app.screen
        assert "Press n to create one" in text_of(screen.query_one("#programs-empty"))
        assert not screen.active_bindings["a"].enabled  # no program to add a stage to
        await pilot.press("n")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, name="First steps")
        await pilot.press("enter")
        await settle(pilot)
        program = Program.get(Program.name == "First steps")
        assert program.typical_sessions == 0
        assert "Press a to add the first" in text_of(screen.query_one("#stages-empty"))
        await pilot.press("a")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, name="Hello")
        await pilot.press("enter")
        await settle(pilot)
        assert stages_of(program.id) == [("Hello", 1)]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ProgramsScreen)


async def test_a_form_validation_error_keeps_the_form_open_and_saves_nothing(app):
    taken = Program.select().order_by(Program.id).first().name
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ProgramsScreen())
        await pilot.press("n")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, name=taken)
        await type_into(pilot, "#field-typical_sessions", "six")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)  # still open
        assert "already a program with that name" in str(
            form.query_one("#error-name", Static).render()
        )
        assert "a whole number" in str(form.query_one("#error-typical_sessions", Static).render())
        assert Program.select().count() == 3
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProgramsScreen)
        assert Program.select().count() == 3


async def test_a_stage_with_history_stays_and_an_unused_one_is_removed(app):
    used = Stage.get(Stage.id << StageChange.select(StageChange.stage))
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ProgramsScreen(used.program_id))
        screen = app.screen
        assert screen.detail.program_id == used.program_id
        stages = screen.query_one(StagesTable)
        stages.focus()
        stages.move_cursor(row=stages.get_row_index(str(used.id)))
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("enter")  # the confirm button has the focus
        await settle(pilot)
        assert Stage.get_or_none(Stage.id == used.id) is not None

        await pilot.press("a")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, name="Spare")
        await pilot.press("enter")
        await settle(pilot)
        spare = Stage.get((Stage.program == used.program_id) & (Stage.name == "Spare"))
        assert stages.current_key() == str(spare.id)
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Stage.get_or_none(Stage.id == spare.id) is None
        positions = [p for _, p in stages_of(used.program_id)]
        assert positions == list(range(1, len(positions) + 1))


# --- the client's journey -----------------------------------------------------------------


def client_mid_program() -> Client:
    """An active client at a stage that has a stage after it."""
    for client in Client.select().where((Client.status == "active") & Client.stage.is_null(False)):
        if (
            Stage.select()
            .where((Stage.program == client.program_id) & (Stage.position > client.stage.position))
            .exists()
        ):
            return client
    raise AssertionError("the demo has no client in the middle of a program")


async def test_m_on_the_journey_tab_moves_the_client_and_records_it(app):
    client = client_mid_program()
    now = client.stage
    following = Stage.get((Stage.program == now.program) & (Stage.position == now.position + 1))
    other = Stage.get((Stage.program != now.program) & (Stage.position == 1))
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ClientScreen(client.id))
        screen = app.screen
        assert isinstance(app.focused, JourneyView)
        journey = text_of(screen.query_one("#journey-text"))
        assert "▶ now" in journey and " of " in journey and "session" in journey

        await pilot.press("m")
        await wait_for_screen(pilot, FormScreen)
        assert (
            app.screen.query_one("#field-stage", Select).value == following.id
        )  # next, by default
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Client.get_by_id(client.id).stage_id == following.id
        change = StageChange.select().where(StageChange.client == client.id)
        latest = change.order_by(StageChange.id.desc()).first()
        assert (latest.stage_id, latest.changed_on) == (following.id, TODAY)
        assert screen.journey.stage_id == following.id
        current = [p for p in screen.journey.progress if p.state == "current"]
        assert [p.stage_id for p in current] == [following.id]
        assert f"reached {TODAY:%d %b}" in text_of(screen.query_one("#journey-text"))

        # A stage of another program puts the client on that program.
        await pilot.press("m")
        await wait_for_screen(pilot, FormScreen)
        app.screen.query_one("#field-stage", Select).value = other.id
        await pilot.press("ctrl+s")
        await settle(pilot)
        moved = Client.get_by_id(client.id)
        assert (moved.program_id, moved.stage_id) == (other.program_id, other.id)

        # A date in the future is marked on the form, which stays open.
        count = StageChange.select().count()
        await pilot.press("m")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, on="2026-03-17")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert StageChange.select().count() == count


async def test_an_outcome_and_consent_put_the_client_among_references(app):
    client = Client.get(
        (Client.status == "active") & (Client.reference_consent == False)  # noqa: E712
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ClientScreen(client.id))
        screen = app.screen
        await pilot.press("o")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, detail="Ran it without notes", title="Led the [i]offsite[/i]")
        await pilot.press("enter")
        await settle(pilot)
        outcome = Outcome.get((Outcome.client == client.id) & (Outcome.title.startswith("Led")))
        assert (outcome.title, outcome.detail, outcome.achieved_on) == (
            "Led the [i]offsite[/i]",
            "Ran it without notes",
            TODAY,
        )
        assert "Led the [i]offsite[/i] (16 Mar)" in text_of(screen.query_one("#journey-text"))

        await pilot.press("6")
        table = screen.query_one(OutcomesTable)
        assert app.focused is table
        assert table.get_row(str(outcome.id))[1].plain.startswith("Led the [i]offsite[/i] — ")
        await pilot.press("c")
        await settle(pilot)
        assert Client.get_by_id(client.id).reference_consent is True
        assert "agreed to be a reference" in text_of(screen.query_one("#outcomes-consent"))

        await open_screen(pilot, ReferencesScreen())
        refs = app.screen
        lines = refs._lines
        mine = [i for i, line in enumerate(lines) if line.client_id == client.id]
        assert mine and lines[mine[0]].first and lines[mine[0]].outcome.title == outcome.title
        assert lines[0].outcome.achieved_on == TODAY  # the newest outcome comes first
        assert all(Client.get_by_id(line.client_id).reference_consent for line in lines)

        listed = refs.query_one(ReferencesTable)
        listed.cursor = mine[0]
        await pilot.pause()
        assert "Ran it without notes" in text_of(refs.query_one("#reference-detail"))
        await pilot.press("enter")
        await wait_for_screen(pilot, ClientScreen)
        await settle(pilot)
        assert app.screen.client_id == client.id

        # Withdrawn consent takes the client off the list when the coach comes back.
        await pilot.press("6", "c")
        await settle(pilot)
        assert Client.get_by_id(client.id).reference_consent is False
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is refs
        assert client.id not in {line.client_id for line in refs._lines}


async def test_outcomes_are_edited_and_removed_on_their_tab(app):
    outcome = Outcome.select().order_by(Outcome.id).first()
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ClientScreen(outcome.client_id))
        screen = app.screen
        await pilot.press("6")
        table = screen.query_one(OutcomesTable)
        table.move_cursor(row=table.get_row_index(str(outcome.id)))
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, achieved_on="2026-03-01", title="Promoted")
        await pilot.press("enter")
        await settle(pilot)
        edited = Outcome.get_by_id(outcome.id)
        assert (edited.title, edited.achieved_on) == ("Promoted", dt.date(2026, 3, 1))
        assert table.current_key() == str(outcome.id)

        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert Outcome.get_or_none(Outcome.id == outcome.id) is None


async def test_an_outcome_changed_elsewhere_comes_back_with_what_was_typed(app):
    outcome = Outcome.select().order_by(Outcome.id).first()
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, ClientScreen(outcome.client_id))
        await pilot.press("6")
        table = app.screen.query_one(OutcomesTable)
        table.move_cursor(row=table.get_row_index(str(outcome.id)))
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        first = app.screen
        Outcome.update(title="Named team lead").where(Outcome.id == outcome.id).execute()
        await fill(pilot, detail="After two quarters of practice")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        again = app.screen
        assert again is not first
        assert again.query_one("#field-detail", Input).value == "After two quarters of practice"
        # The title the coach left alone now holds what the other window saved.
        assert again.query_one("#field-title", Input).value == "Named team lead"
        assert "saved now: Named team lead" in str(
            again.query_one(".dialog-intro", Static).render()
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Outcome.get_by_id(outcome.id)
        assert (saved.title, saved.detail) == ("Named team lead", "After two quarters of practice")


# --- the keys -----------------------------------------------------------------------------


def test_every_binding_has_an_id_a_description_and_shows():
    for owners in (
        (ProgramsScreen, ProgramsTable, StagesTable),
        (ReferencesScreen, ReferencesTable),
    ):
        ids = []
        for owner in owners:
            for binding in owner.BINDINGS:
                assert binding.id and binding.description and binding.show, (owner, binding)
                ids.append(binding.id)
        assert len(ids) == len(set(ids))
