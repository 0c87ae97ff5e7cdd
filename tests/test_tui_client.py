"""The client workspace, driven by keys, forms and the mouse; every action checked in the database.

Textual's `run_test` is async and no async pytest plugin is installed, so each test is a
plain function that runs its scenario with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea

from trustdesk.demo import DEMO_PASSPHRASE
from trustdesk.store import current_coach
from trustdesk.store.models import Client, Commitment, Note, Session, Touch
from trustdesk.tui.app import TrustdeskApp
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.client.contact import ContactTable
from trustdesk.tui.screens.client.journey import JourneyView
from trustdesk.tui.screens.client.notes import LOCKED_TEXT, NoteScreen, NotesTable
from trustdesk.tui.screens.client.outcomes import OutcomesTable
from trustdesk.tui.screens.client.promises import PromisesTable
from trustdesk.tui.screens.client.sessions import SessionsTable

SIZE = (100, 32)
TABS_AND_RELOAD = {
    *(f"tab_{tab}" for tab in ("journey", "sessions", "promises", "contact", "notes", "outcomes")),
    "workspace_reload",
}
TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday
Scenario = Callable[..., Awaitable[None]]


# --- a practice, an app, and ways to drive it ---------------------------------------------


@pytest.fixture
def practice(demo_practice):
    return demo_practice(12), current_coach()


@pytest.fixture
def client_id(practice) -> int:
    """An active client with an open and a closed promise, a session to come, and notes."""
    for client in Client.select().where(Client.status == "active").order_by(Client.id):
        promises = Commitment.select().where(Commitment.client == client)
        if (
            promises.where(Commitment.status == "open").exists()
            and promises.where(Commitment.status != "open").exists()
            and Session.select()
            .where((Session.client == client) & (Session.status == "scheduled"))
            .exists()
            and Note.select().where(Note.client == client).exists()
        ):
            return client.id
    raise AssertionError("the demo has no client with everything this test needs")


def run(practice, scenario: Scenario, *, client: int | None = None, size=SIZE) -> None:
    """Open the app (dashboard first), push the client's workspace, and play the scenario."""
    database, coach = practice

    async def main() -> None:
        app = RecordingApp(database, coach)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            if client is not None:
                await app.push_screen(ClientScreen(client))
                await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


async def unlock(pilot: Pilot, passphrase: str = DEMO_PASSPHRASE) -> None:
    """Answer the unlock screen the way a coach does: type the passphrase, press Enter."""
    await wait_for_screen(pilot, "UnlockScreen")
    await type_into(pilot, "#passphrase", passphrase)
    await pilot.press("enter")
    for _ in range(100):
        await settle(pilot)
        if type(pilot.app.screen).__name__ != "UnlockScreen":
            return
        await pilot.pause(0.05)
    raise AssertionError("the unlock screen stayed open")


def workspace(app: TrustdeskApp) -> ClientScreen:
    for screen in reversed(app.screen_stack):
        if isinstance(screen, ClientScreen):
            return screen
    raise AssertionError("no client workspace open")


async def highlight(pilot: Pilot, table: DataTable, key: object) -> None:
    table.focus()
    table.move_cursor(row=table.get_row_index(str(key)))
    await pilot.pause()


def line_text(widget, y: int = 0) -> str:
    return widget.render_line(y).text


def shown_lines(widget) -> list[str]:
    return [line_text(widget, y) for y in range(widget.size.height)]


# --- opening and closing ----------------------------------------------------------------


def test_enter_on_the_dashboard_opens_the_workspace_and_escape_returns(practice):
    async def scenario(app, pilot):
        await pilot.press("enter")
        await wait_for_screen(pilot, ClientScreen)
        await settle(pilot)
        screen = workspace(app)
        assert screen.workspace is not None
        top = "\n".join(shown_lines(screen.query_one("#top-text")))
        assert screen.workspace.name in top
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ClientScreen)

    run(practice, scenario)


def test_the_top_shows_stage_progress_cadence_and_contact(practice, client_id):
    async def scenario(app, pilot):
        screen = workspace(app)
        ws = screen.workspace
        top = "\n".join(shown_lines(screen.query_one("#top-text")))
        j = ws.journey
        assert f"stage {j.stage_position} of {j.stage_count}" in top
        assert f"session {j.session_progress}" in top
        assert f"{ws.cadence.days_since_touch} days since contact" in top
        assert f"ideal every {ws.ideal_gap_days}d, at most {ws.max_gap_days}d" in top
        sparkline = screen.query_one("#sparkline")
        assert list(sparkline.data) == list(ws.contact_weeks.counts)
        assert len(sparkline.data) == 12
        journey = "\n".join(shown_lines(screen.query_one("#journey-text")))
        assert "▶ now" in journey and "Purpose:" in journey and "We ask of the client:" in journey

    run(practice, scenario, client=client_id)


def test_a_missing_client_says_so_and_closes(practice):
    async def scenario(app, pilot):
        assert not isinstance(app.screen, ClientScreen)
        assert any("no longer exists" in said for said in app.said)

    run(practice, scenario, client=999_999)


def test_list_keys_work_only_when_their_list_has_focus(practice, client_id):
    async def scenario(app, pilot):
        screen = workspace(app)
        assert "a" not in screen.active_bindings  # the journey is read-only
        await pilot.press("a")
        assert not isinstance(app.screen, FormScreen)
        await pilot.press("3")
        assert app.focused is screen.query_one(PromisesTable)
        assert screen.active_bindings["a"].binding.id == "promise_add"
        await pilot.press("4")
        assert "a" not in screen.active_bindings
        assert screen.active_bindings["t"].binding.id == "contact_log_touch"

    run(practice, scenario, client=client_id)


def test_tabs_and_rows_answer_the_mouse(practice, client_id):
    async def scenario(app, pilot):
        screen = workspace(app)
        await pilot.click("#--content-tab-tab-promises")
        await settle(pilot)
        assert app.focused is screen.query_one(PromisesTable)
        await pilot.click("#--content-tab-tab-notes")
        await settle(pilot)
        notes = screen.query_one(NotesTable)
        assert app.focused is notes
        # First click highlights a row, a second click on it opens it: locked, so unlock.
        await pilot.click(NotesTable, offset=(4, 2))
        assert notes.cursor_row == 1
        await pilot.click(NotesTable, offset=(4, 2))
        await wait_for_screen(pilot, "UnlockScreen")

    run(practice, scenario, client=client_id)


# --- sessions -----------------------------------------------------------------------------


def test_a_schedules_a_session(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("2", "a")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-start", "2026-03-25 14:30")
        await type_into(pilot, "#field-duration", "45")
        await pilot.press("enter")
        await settle(pilot)
        session = Session.get(
            (Session.client == client_id)
            & (Session.scheduled_start == dt.datetime(2026, 3, 25, 14, 30))
        )
        assert session.status == "scheduled" and session.duration_minutes == 45
        assert str(session.id) in [k.value for k in workspace(app).query_one(SessionsTable).rows]

    run(practice, scenario, client=client_id)


def test_h_marks_a_session_held_with_its_late_start(practice, client_id):
    # A session is marked held only once it has begun: one scheduled for last Friday.
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    friday = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(10, 0))
    Session.update(scheduled_start=friday).where(Session.id == session.id).execute()
    session = Session.get_by_id(session.id)

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("h")
        await wait_for_screen(pilot, FormScreen)
        start = session.scheduled_start + dt.timedelta(minutes=7)
        await type_into(pilot, "#field-actual", f"{start:%Y-%m-%d %H:%M}")
        await pilot.press("enter")
        await settle(pilot)
        held = Session.get_by_id(session.id)
        assert held.status == "held" and held.late_minutes == 7
        table = workspace(app).query_one(SessionsTable)
        assert table.current_key() == str(session.id)  # the cursor stayed on the row
        row = [cell.plain for cell in table.get_row(str(session.id))]
        assert "held" in row and "7 min late" in row

    run(practice, scenario, client=client_id)


def test_correcting_a_held_start_shows_when_it_was_scheduled(practice, client_id):
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    friday = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(10, 0))
    Session.update(
        scheduled_start=friday,
        status="held",
        actual_start=friday + dt.timedelta(minutes=12),
        late_minutes=12,
    ).where(Session.id == session.id).execute()

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("h")
        await wait_for_screen(pilot, FormScreen)
        form = app.screen
        assert form.query_one("#field-actual", Input).value == f"{friday:%Y-%m-%d} 10:12"
        assert str(form.query_one(".dialog-intro", Static).render()) == (
            f"Scheduled for {friday:%a %d %b} 10:00."
        )

    run(practice, scenario, client=client_id)


def begun_session(client_id: int) -> Session:
    """The client's scheduled session, moved to last Friday: it has begun, and is over."""
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    friday = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(10, 0))
    Session.update(scheduled_start=friday).where(Session.id == session.id).execute()
    return Session.get_by_id(session.id)


def test_n_marks_a_session_that_has_begun_a_no_show(practice, client_id):
    session = begun_session(client_id)

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("n")
        await settle(pilot)
        assert Session.get_by_id(session.id).status == "no_show"

    run(practice, scenario, client=client_id)


@pytest.mark.parametrize(
    ("key", "status", "by", "words"),
    [("l", "late_cancel", "client", "late cancel · client"),
     ("c", "cancelled", "coach", "cancelled · coach")],
)  # fmt: skip
def test_cancelling_asks_who_called_it_off(practice, client_id, key, status, by, words):
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press(key)
        await wait_for_screen(pilot, FormScreen)
        assert Session.get_by_id(session.id).status == "scheduled"  # nothing yet
        app.screen.query_one("#field-by", Select).value = by
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Session.get_by_id(session.id)
        assert (saved.status, saved.cancelled_by) == (status, by)
        row = [c.plain for c in workspace(app).query_one(SessionsTable).get_row(str(session.id))]
        assert words in row

    run(practice, scenario, client=client_id)


def test_escape_on_the_cancel_form_changes_nothing(practice, client_id):
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    before = Session.get_by_id(session.id)

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("c")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("escape")
        await settle(pilot)
        after = Session.get_by_id(session.id)
        assert (after.status, after.cancelled_by, after.version) == ("scheduled", None,
                                                                     before.version)  # fmt: skip

    run(practice, scenario, client=client_id)


def test_holding_a_session_in_the_workspace_counts_it_as_contact(practice, client_id):
    session = begun_session(client_id)

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("h")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        (touch,) = Touch.select().where(Touch.session == session.id)
        assert (touch.channel, touch.occurred_on) == ("session", session.scheduled_start.date())
        assert touch.counts_for_cadence

    run(practice, scenario, client=client_id)


def test_scheduling_over_another_session_saves_it_and_warns(practice, client_id):
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    overlap = session.scheduled_start + dt.timedelta(minutes=30)

    async def scenario(app, pilot):
        await pilot.press("2", "a")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-start", f"{overlap:%Y-%m-%d %H:%M}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        made = Session.get((Session.client == client_id) & (Session.scheduled_start == overlap))
        assert made.status == "scheduled"
        warning = [m for m in app.said if m.startswith("It overlaps your session with")]
        assert warning and f"{session.scheduled_start:%H:%M}" in warning[0]

    run(practice, scenario, client=client_id)


def test_keys_for_a_session_to_come_hide_held_and_no_show(practice, client_id):
    future = dt.datetime.combine(TODAY + dt.timedelta(days=3), dt.time(10, 0))
    session = Session.get((Session.client == client_id) & (Session.status == "scheduled"))
    Session.update(scheduled_start=future).where(Session.id == session.id).execute()

    async def scenario(app, pilot):
        await pilot.press("2")
        screen = workspace(app)
        await highlight(pilot, screen.query_one(SessionsTable), session.id)
        for key in ("e", "l", "c"):
            assert screen.active_bindings[key].enabled, key
        for key in ("h", "n"):
            assert key not in screen.active_bindings or not screen.active_bindings[key].enabled
        await pilot.press("h", "n")
        await settle(pilot)
        assert Session.get_by_id(session.id).status == "scheduled"

    run(practice, scenario, client=client_id)


# --- promises -----------------------------------------------------------------------------


def open_promise(client_id: int) -> Commitment:
    return (
        Commitment.select()
        .where((Commitment.client == client_id) & (Commitment.status == "open"))
        .order_by(Commitment.id)
        .first()
    )


def test_a_adds_a_promise(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("3", "a")
        await wait_for_screen(pilot, FormScreen)
        app.screen.query_one("#field-owner", Select).value = "client"
        await type_into(pilot, "#field-title", "Draft the [b]team[/b] charter")
        await type_into(pilot, "#field-due_on", "2026-03-30")
        await pilot.press("enter")
        await settle(pilot)
        promise = Commitment.get(
            (Commitment.client == client_id) & (Commitment.title == "Draft the [b]team[/b] charter")
        )
        assert promise.owner == "client" and promise.status == "open"
        assert promise.due_on == dt.date(2026, 3, 30) and promise.promised_on == TODAY
        table = workspace(app).query_one(PromisesTable)
        row = table.get_row(str(promise.id))
        assert row[1].plain == "Draft the [b]team[/b] charter"  # literal, not bold

    run(practice, scenario, client=client_id)


def test_a_bad_due_date_is_marked_and_nothing_is_saved(practice, client_id):
    before = Commitment.select().count()

    async def scenario(app, pilot):
        await pilot.press("3", "a")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-title", "Send the article")
        await type_into(pilot, "#field-due_on", "2026-02-30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)  # still open
        error = form.query_one("#error-due_on", Static)
        assert "not a date" in str(error.render())
        assert form.query_one("#field-due_on").has_class("-invalid-field")
        assert Commitment.select().count() == before
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert Commitment.select().count() == before

    run(practice, scenario, client=client_id)


def test_e_edits_an_open_promise(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-title", "Send the worksheet, revised")
        await type_into(pilot, "#field-due_on", "2026-03-27")
        await pilot.press("enter")
        await settle(pilot)
        edited = Commitment.get_by_id(promise.id)
        assert edited.title == "Send the worksheet, revised"
        assert edited.due_on == dt.date(2026, 3, 27) and edited.status == "open"

    run(practice, scenario, client=client_id)


def test_a_closed_promise_cannot_be_edited(practice, client_id):
    closed = (
        Commitment.select()
        .where((Commitment.client == client_id) & (Commitment.status != "open"))
        .first()
    )

    async def scenario(app, pilot):
        await pilot.press("3")
        table = workspace(app).query_one(PromisesTable)
        await highlight(pilot, table, closed.id)
        # Not offered at all: hidden from the footer rather than silently inert.
        assert not {"e", "d", "r", "x"} & set(workspace(app).active_bindings)
        await pilot.press("e", "d", "x")
        await pilot.pause()
        assert isinstance(app.screen, ClientScreen)
        assert Commitment.get_by_id(closed.id).status == closed.status

    run(practice, scenario, client=client_id)


def test_d_marks_a_promise_done(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("d")
        await settle(pilot)
        kept = Commitment.get_by_id(promise.id)
        assert kept.status == "done" and kept.done_on == TODAY

    run(practice, scenario, client=client_id)


def test_r_renegotiates_a_promise(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("r")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-due_on", "2026-04-02")
        await type_into(pilot, "#field-reason", "A week of travel")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Commitment.get_by_id(promise.id).status == "renegotiated"
        successor = Commitment.get(Commitment.renegotiated_from == promise.id)
        assert successor.status == "open" and successor.due_on == dt.date(2026, 4, 2)

    run(practice, scenario, client=client_id)


def test_x_drops_a_promise_with_a_reason(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-reason", "No longer relevant")
        await pilot.press("enter")
        await settle(pilot)
        dropped = Commitment.get_by_id(promise.id)
        assert dropped.status == "dropped" and dropped.reason == "No longer relevant"

    run(practice, scenario, client=client_id)


# --- contact ------------------------------------------------------------------------------


def test_t_logs_a_touch_and_keeps_the_cursor_on_its_row(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("4")
        table = workspace(app).query_one(ContactTable)
        await pilot.press("down", "down")
        kept = table.current_key()
        await pilot.press("t")
        await wait_for_screen(pilot, FormScreen)
        app.screen.query_one("#field-channel", Select).value = "call"
        await type_into(pilot, "#field-summary", "Talked through the [red]offsite[/]")
        await pilot.press("enter")
        await settle(pilot)
        touch = Touch.get(
            (Touch.client == client_id) & (Touch.summary == "Talked through the [red]offsite[/]")
        )
        assert touch.channel == "call" and touch.direction == "outbound"
        assert touch.occurred_on == TODAY
        assert table.current_key() == kept
        assert table.get_row(str(touch.id))[-1].plain == "Talked through the [red]offsite[/]"

    run(practice, scenario, client=client_id)


def test_z_snoozes_the_client(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("4", "z")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-until", "2026-04-06")
        await pilot.press("enter")
        await settle(pilot)
        assert Client.get_by_id(client_id).snoozed_until == dt.date(2026, 4, 6)
        top = "\n".join(shown_lines(workspace(app).query_one("#top-text")))
        assert "snoozed until Mon 06 Apr" in top

    run(practice, scenario, client=client_id)


# --- notes ---------------------------------------------------------------------------------


def test_notes_are_locked_and_the_list_never_holds_a_body(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("5")
        screen = workspace(app)
        assert not app.vault.unlocked
        assert line_text(screen.query_one("#notes-lock")).strip() == LOCKED_TEXT
        assert screen.active_bindings["u"].binding.id == "unlock"
        table = screen.query_one(NotesTable)
        assert table.row_count == Note.select().where(Note.client == client_id).count()
        for row in range(table.row_count):
            cells = [cell.plain for cell in table.get_row_at(row)]
            assert cells[-1].endswith(" chars")
        await pilot.press("u")
        await unlock(pilot)
        assert app.vault.unlocked
        assert "Notes are open" in line_text(screen.query_one("#notes-lock"))
        assert "u" not in screen.active_bindings

    run(practice, scenario, client=client_id)


def test_reading_a_note_shows_its_body_only_after_unlock(practice, client_id):
    from trustdesk.trust.notes import read_note

    async def scenario(app, pilot):
        await pilot.press("5")
        table = workspace(app).query_one(NotesTable)
        note_id = table.current_key()
        await pilot.press("enter")
        await wait_for_screen(pilot, "UnlockScreen")
        assert not any(isinstance(s, NoteScreen) for s in app.screen_stack)
        await unlock(pilot)
        await wait_for_screen(pilot, NoteScreen)
        body = read_note(app.vault, uuid.UUID(note_id)).body
        shown = app.screen.query_one("#note-text", Static)
        assert str(shown.render()) == body
        # Locking (the idle timer does the same) takes the note away at once.
        app.lock_notes("Notes locked after 10 idle minutes.")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert line_text(workspace(app).query_one("#notes-lock")).strip() == LOCKED_TEXT

    run(practice, scenario, client=client_id)


def test_escape_closes_a_note(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await unlock(pilot)
        await pilot.press("enter")  # already unlocked: straight to the words
        await settle(pilot)
        await wait_for_screen(pilot, NoteScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientScreen)

    run(practice, scenario, client=client_id)


def test_a_writes_a_sealed_note_after_unlock(practice, client_id):
    from trustdesk.trust.notes import read_note

    before = {n.id for n in Note.select(Note.id).where(Note.client == client_id)}

    async def scenario(app, pilot):
        await pilot.press("5", "a")
        await unlock(pilot)
        await wait_for_screen(pilot, FormScreen)
        app.screen.query_one("#field-kind", Select).value = "goal"
        await type_into(pilot, "#field-body", "Wants to lead the [b]offsite[/b].")
        await pilot.press("ctrl+s")
        await settle(pilot)
        (note,) = [n for n in Note.select().where(Note.client == client_id) if n.id not in before]
        assert note.kind == "goal" and note.written_on == TODAY
        assert b"offsite" not in bytes(note.body_sealed)
        assert read_note(app.vault, note.id).body == "Wants to lead the [b]offsite[/b]."
        table = workspace(app).query_one(NotesTable)
        # Unlocked, the list shows the note's first line, literally (markup not read).
        assert [c.plain for c in table.get_row(str(note.id))][-1] == (
            "Wants to lead the [b]offsite[/b]."
        )
        app.action_lock()
        await settle(pilot)
        assert [c.plain for c in table.get_row(str(note.id))][-1] == "33 chars"

    run(practice, scenario, client=client_id)


# --- what the coach typed stays literal --------------------------------------------------


def test_a_name_with_markup_and_escapes_shows_literally(practice, client_id):
    name = "[bold]Ann[/] \x1b[31m"
    Client.update(name=name).where(Client.id == client_id).execute()

    async def scenario(app, pilot):
        screen = workspace(app)
        top = screen.query_one("#top-text")
        first = line_text(top)
        assert first.startswith("[bold]Ann[/] \\x1b[31m")
        assert "\x1b" not in "".join(shown_lines(top))
        strip = top.render_line(0)
        name_cells = [seg for seg in strip if "Ann" in seg.text]
        assert name_cells and all(seg.style.bold for seg in name_cells)  # ours, not theirs
        assert not any(seg.style.color and seg.style.color.name == "red" for seg in strip)

    run(practice, scenario, client=client_id)


def test_the_workspace_fits_80_by_24(practice, client_id):
    async def scenario(app, pilot):
        screen = workspace(app)
        for key, table in (("2", SessionsTable), ("3", PromisesTable), ("4", ContactTable)):
            await pilot.press(key)
            widget = screen.query_one(table)
            assert widget.size.height >= 8
            assert widget.virtual_size.width <= widget.size.width

    run(practice, scenario, client=client_id, size=(80, 24))


def test_every_binding_has_an_id_a_description_and_shows():
    ids = []
    for owner in (
        ClientScreen,
        JourneyView,
        SessionsTable,
        PromisesTable,
        ContactTable,
        NotesTable,
        OutcomesTable,
        NoteScreen,
    ):
        for binding in owner.BINDINGS:
            assert binding.id and binding.description, (owner, binding)
            # Kept out of the footer: the tab numbers, which the tabs themselves show
            # ("1 Journey"), and F5; `?` lists them all.
            assert binding.show or binding.id in TABS_AND_RELOAD, (owner, binding)
            ids.append(binding.id)
    assert len(ids) == len(set(ids))


# --- moving a session ----------------------------------------------------------------------


def scheduled_session(client_id: int) -> Session:
    return (
        Session.select()
        .where((Session.client == client_id) & (Session.status == "scheduled"))
        .order_by(Session.id)
        .first()
    )


def test_e_reschedules_a_scheduled_session(practice, client_id):
    session = scheduled_session(client_id)

    async def scenario(app, pilot):
        await pilot.press("2")
        screen = workspace(app)
        await highlight(pilot, screen.query_one(SessionsTable), session.id)
        assert screen.active_bindings["e"].binding.id == "session_reschedule"
        assert screen.active_bindings["e"].enabled
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        shown = app.screen.query_one("#field-start", Input).value
        assert shown == f"{session.scheduled_start:%Y-%m-%d %H:%M}"  # prefilled
        await type_into(pilot, "#field-start", "2026-03-26 16:15")
        await type_into(pilot, "#field-duration", "90")
        await pilot.press("enter")
        await settle(pilot)
        moved = Session.get_by_id(session.id)
        assert moved.scheduled_start == dt.datetime(2026, 3, 26, 16, 15)
        assert (moved.duration_minutes, moved.status) == (90, "scheduled")
        row = [c.plain for c in workspace(app).query_one(SessionsTable).get_row(str(session.id))]
        assert "90 min" in row

    run(practice, scenario, client=client_id)


def test_a_bad_date_when_rescheduling_is_marked_and_nothing_is_saved(practice, client_id):
    session = scheduled_session(client_id)
    before = sorted(Session.select().tuples())

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-start", "2026-02-30 10:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)  # still open, the mistake marked on its field
        assert "not a date" in str(form.query_one("#error-start", Static).render())
        assert form.query_one("#field-start").has_class("-invalid-field")
        assert sorted(Session.select().tuples()) == before
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert sorted(Session.select().tuples()) == before

    run(practice, scenario, client=client_id)


def test_a_held_session_cannot_be_moved_and_marking_it_missed_takes_its_contact_back(
    practice, client_id
):
    from trustdesk.trust.sessions import set_session_status

    session = scheduled_session(client_id)
    last_week = dt.datetime.combine(TODAY - dt.timedelta(days=7), dt.time(9, 0))
    Session.update(scheduled_start=last_week).where(Session.id == session.id).execute()
    set_session_status(practice[1], session.id, "held")
    assert Touch.select().where(Touch.session == session.id).count() == 1

    async def scenario(app, pilot):
        await pilot.press("2")
        screen = workspace(app)
        await highlight(pilot, screen.query_one(SessionsTable), session.id)
        assert "e" not in screen.active_bindings or not screen.active_bindings["e"].enabled
        for key in ("h", "n", "l", "c"):  # held again corrects its start; the rest undo it
            assert screen.active_bindings[key].enabled, key
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert Session.get_by_id(session.id).scheduled_start == last_week
        await pilot.press("n")
        await settle(pilot)
        assert Session.get_by_id(session.id).status == "no_show"
        assert not Touch.select().where(Touch.session == session.id).exists()

    run(practice, scenario, client=client_id)


# --- correcting the contact log --------------------------------------------------------------


def latest_touch(client_id: int) -> Touch:
    return (
        Touch.select()
        .where(Touch.client == client_id)
        .order_by(Touch.occurred_on.desc(), Touch.id.desc())
        .first()
    )


def test_e_edits_a_touch(practice, client_id):
    touch = latest_touch(client_id)

    async def scenario(app, pilot):
        await pilot.press("4")
        screen = workspace(app)
        await highlight(pilot, screen.query_one(ContactTable), touch.id)
        assert screen.active_bindings["e"].binding.id == "contact_edit_touch"
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        form = app.screen
        assert form.query_one("#field-channel", Select).value == touch.channel  # prefilled
        form.query_one("#field-channel", Select).value = "message"
        form.query_one("#field-direction", Select).value = "inbound"
        form.query_one("#field-counts", Select).value = "no"
        await type_into(pilot, "#field-summary", "Asked about [b]Friday[/b]")
        await type_into(pilot, "#field-occurred_on", "2026-03-12")
        await pilot.press("ctrl+s")
        await settle(pilot)
        edited = Touch.get_by_id(touch.id)
        assert (edited.channel, edited.direction, edited.counts_for_cadence) == (
            "message",
            "inbound",
            False,
        )
        assert edited.summary == "Asked about [b]Friday[/b]"
        assert edited.occurred_on == dt.date(2026, 3, 12)
        row = workspace(app).query_one(ContactTable).get_row(str(touch.id))
        assert row[-1].plain == "Asked about [b]Friday[/b]"  # literal, not bold

    run(practice, scenario, client=client_id)


def test_a_touch_cannot_be_moved_into_the_future(practice, client_id):
    touch = latest_touch(client_id)

    async def scenario(app, pilot):
        await pilot.press("4")
        await highlight(pilot, workspace(app).query_one(ContactTable), touch.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-occurred_on", "2026-03-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "must not be after today" in str(app.screen.query_one("#error-occurred_on").render())
        assert Touch.get_by_id(touch.id).occurred_on == touch.occurred_on

    run(practice, scenario, client=client_id)


def test_x_removes_a_touch_once_confirmed(practice, client_id):
    touch = latest_touch(client_id)
    count = Touch.select().where(Touch.client == client_id).count()

    async def scenario(app, pilot):
        await pilot.press("4")
        screen = workspace(app)
        table = screen.query_one(ContactTable)
        await highlight(pilot, table, touch.id)
        assert screen.active_bindings["x"].binding.id == "contact_remove_touch"
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("escape")  # changed their mind: nothing removed
        await settle(pilot)
        assert Touch.get_or_none(Touch.id == touch.id) is not None
        await highlight(pilot, table, touch.id)
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("enter")  # the Remove button has the focus
        await settle(pilot)
        assert Touch.get_or_none(Touch.id == touch.id) is None
        assert Touch.select().where(Touch.client == client_id).count() == count - 1
        assert str(touch.id) not in [k.value for k in table.rows]
        assert "Touch removed" in app.said

    run(practice, scenario, client=client_id)


# --- promises: why one was dropped ------------------------------------------------------------


def test_the_reason_a_promise_was_dropped_shows_under_the_list(practice, client_id):
    promise = open_promise(client_id)
    Commitment.update(status="dropped", done_on=TODAY, reason="Out of [b]scope[/b] \x1b[31m").where(
        Commitment.id == promise.id
    ).execute()

    async def scenario(app, pilot):
        await pilot.press("3")
        screen = workspace(app)
        await highlight(pilot, screen.query_one(PromisesTable), promise.id)
        await settle(pilot)
        detail = line_text(screen.query_one("#promise-detail"))
        assert "Dropped 16 Mar: Out of [b]scope[/b] \\x1b[31m" in detail
        assert "\x1b" not in detail

    run(practice, scenario, client=client_id)


# --- rewriting a note ------------------------------------------------------------------------


def test_e_rewrites_a_note_and_seals_it_again(practice, client_id):
    from trustdesk.trust.notes import read_note

    async def scenario(app, pilot):
        await pilot.press("5")
        screen = workspace(app)
        table = screen.query_one(NotesTable)
        note_id = uuid.UUID(table.current_key())
        sealed_before = bytes(Note.get_by_id(note_id).body_sealed)
        assert screen.active_bindings["e"].binding.id == "note_edit"
        await pilot.press("e")
        await unlock(pilot)  # asked first: the words are read only once unlocked
        await wait_for_screen(pilot, FormScreen)
        old = read_note(app.vault, note_id).body
        assert app.screen.query_one("#field-body", TextArea).text == old  # prefilled
        await type_into(pilot, "#field-body", "Ready to lead the [b]offsite[/b].")
        await pilot.press("ctrl+s")
        await settle(pilot)
        note = Note.get_by_id(note_id)
        assert bytes(note.body_sealed) != sealed_before
        assert b"offsite" not in bytes(note.body_sealed)
        assert read_note(app.vault, note_id).body == "Ready to lead the [b]offsite[/b]."
        assert [c.plain for c in table.get_row(str(note_id))][-1] == (
            "Ready to lead the [b]offsite[/b]."
        )

    run(practice, scenario, client=client_id)


def test_a_note_being_rewritten_survives_the_notes_locking(practice, client_id):
    from trustdesk.trust.notes import read_note

    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await unlock(pilot)
        note_id = uuid.UUID(workspace(app).query_one(NotesTable).current_key())
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        form = app.screen
        await type_into(pilot, "#field-body", "Words typed before the lock")
        # The idle timer fires: the words are hidden, not thrown away.
        app.lock_notes("Notes locked after 10 idle minutes.")
        await settle(pilot)
        assert app.screen is form
        assert not form.query_one(".form-fields").display
        assert form.query_one("#note-form-locked").display
        # Saving asks for the passphrase; cancelling that keeps the form and its words.
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, "UnlockScreen")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#field-body", TextArea).text == "Words typed before the lock"
        await pilot.press("ctrl+s")
        await unlock(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert read_note(app.vault, note_id).body == "Words typed before the lock"

    run(practice, scenario, client=client_id)


def test_a_promise_changed_elsewhere_comes_back_with_what_the_coach_typed(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        first = app.screen
        # Meanwhile, in another terminal:
        Commitment.update(title="Send the worksheet and the reading list").where(
            Commitment.id == promise.id
        ).execute()
        await type_into(pilot, "#field-title", "Mine")
        await type_into(pilot, "#field-due_on", "2026-03-27")
        await pilot.press("enter")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        # Nothing was written over, and nothing typed was lost: the form is back with it.
        assert Commitment.get_by_id(promise.id).title == "Send the worksheet and the reading list"
        assert any("Not saved yet: that promise was changed elsewhere" in s for s in app.said)
        again = app.screen
        assert again is not first
        assert again.query_one("#field-title", Input).value == "Mine"
        assert again.query_one("#field-due_on", Input).value == "2026-03-27"
        intro = str(again.query_one(".dialog-intro", Static).render())
        assert "saved now: \u201cSend the worksheet and the reading list\u201d, due" in intro
        # Behind it, the workspace already shows what was saved.
        rows = workspace(app).workspace.promises
        assert [p.title for p in rows if p.commitment_id == promise.id] == [
            "Send the worksheet and the reading list"
        ]
        await pilot.press("enter")  # saving again puts the coach's words in place
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        saved = Commitment.get_by_id(promise.id)
        assert (saved.title, saved.due_on) == ("Mine", dt.date(2026, 3, 27))
        assert saved.version == promise.version + 2

    run(practice, scenario, client=client_id)


def test_a_refilled_form_cancelled_keeps_what_was_saved_elsewhere(practice, client_id):
    touch = latest_touch(client_id)

    async def scenario(app, pilot):
        await pilot.press("4")
        await highlight(pilot, workspace(app).query_one(ContactTable), touch.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        other = "inbound" if touch.direction == "outbound" else "outbound"
        Touch.update(summary="Fixed in the other window", direction=other).where(
            Touch.id == touch.id
        ).execute()
        await type_into(pilot, "#field-summary", "Typed here")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        # Both changed the summary: the coach's words stand. Only the other changed the
        # direction: the form now holds theirs.
        assert app.screen.query_one("#field-summary", Input).value == "Typed here"
        assert app.screen.query_one("#field-direction", Select).value == other
        assert "Fixed in the other window" in str(
            app.screen.query_one(".dialog-intro", Static).render()
        )
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert Touch.get_by_id(touch.id).summary == "Fixed in the other window"

    run(practice, scenario, client=client_id)


def test_a_record_gone_by_the_time_it_is_read_again_is_said_plainly(
    practice, client_id, monkeypatch
):
    from trustdesk.trust import contact as rules_contact

    touch = latest_touch(client_id)

    async def scenario(app, pilot):
        await pilot.press("4")
        await highlight(pilot, workspace(app).query_one(ContactTable), touch.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        Touch.update(summary="Changed elsewhere").where(Touch.id == touch.id).execute()
        # Removed in the moment between the refusal and reading it again.
        monkeypatch.setattr(rules_contact, "saved_touch", lambda coach, touch_id: None)
        await type_into(pilot, "#field-summary", "Typed here")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert app.said[-1] == (
            "Not saved: that touch was changed elsewhere and can no longer take this change. "
            "It has been reloaded."
        )

    run(practice, scenario, client=client_id)


def test_a_drop_reason_survives_a_change_elsewhere_but_not_a_closing(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        Commitment.update(due_on=dt.date(2026, 4, 1)).where(Commitment.id == promise.id).execute()
        await type_into(pilot, "#field-reason", "They chose another route")
        await pilot.press("enter")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        assert app.screen.query_one("#field-reason", Input).value == "They chose another route"
        assert "due Wed 01 Apr" in str(app.screen.query_one(".dialog-intro", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        dropped = Commitment.get_by_id(promise.id)
        assert (dropped.status, dropped.reason) == ("dropped", "They chose another route")

    run(practice, scenario, client=client_id)


def test_a_promise_closed_elsewhere_is_not_offered_again(practice, client_id):
    promise = open_promise(client_id)

    async def scenario(app, pilot):
        await pilot.press("3")
        await highlight(pilot, workspace(app).query_one(PromisesTable), promise.id)
        await pilot.press("r")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-reason", "Travel")
        Commitment.update(status="done", done_on=TODAY).where(Commitment.id == promise.id).execute()
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Refused: the form stays open and says why; the list behind it is refreshed.
        assert isinstance(app.screen, FormScreen)
        refused = str(app.screen.query_one("#form-refused", Static).render())
        assert refused == "that promise is already done; the list has been refreshed"
        assert Commitment.get_by_id(promise.id).status == "done"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        rows = workspace(app).workspace.promises
        assert [p.status for p in rows if p.commitment_id == promise.id] == ["done"]

    run(practice, scenario, client=client_id)


def test_a_reschedule_changed_elsewhere_keeps_the_new_time(practice, client_id):
    session = scheduled_session(client_id)

    async def scenario(app, pilot):
        await pilot.press("2")
        await highlight(pilot, workspace(app).query_one(SessionsTable), session.id)
        await pilot.press("e")
        await wait_for_screen(pilot, FormScreen)
        Session.update(duration_minutes=45).where(Session.id == session.id).execute()
        await type_into(pilot, "#field-start", "2026-03-26 16:15")
        await pilot.press("enter")
        await settle(pilot)
        await wait_for_screen(pilot, FormScreen)
        assert app.screen.query_one("#field-start", Input).value == "2026-03-26 16:15"
        assert app.screen.query_one("#field-duration", Input).value == "45"
        assert "45 minutes, scheduled" in str(
            app.screen.query_one(".dialog-intro", Static).render()
        )
        await pilot.press("enter")
        await settle(pilot)
        moved = Session.get_by_id(session.id)
        assert (moved.scheduled_start, moved.duration_minutes) == (
            dt.datetime(2026, 3, 26, 16, 15),
            45,
        )

    run(practice, scenario, client=client_id)


def test_a_note_rewritten_in_two_places_keeps_both(practice, client_id):
    from trustdesk.trust.notes import read_note, update_note

    async def scenario(app, pilot):
        await pilot.press("5")
        table = workspace(app).query_one(NotesTable)
        note_id = uuid.UUID(table.current_key())
        before = {n.id for n in Note.select(Note.id).where(Note.client == client_id)}
        await pilot.press("e")
        await unlock(pilot)
        await wait_for_screen(pilot, FormScreen)
        update_note(app.vault, note_id, "Saved in the other window.")  # meanwhile
        await type_into(pilot, "#field-body", "Typed in this one.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert read_note(app.vault, note_id).body == "Saved in the other window."
        (beside,) = {n.id for n in Note.select(Note.id).where(Note.client == client_id)} - before
        assert read_note(app.vault, beside).body == "Typed in this one."
        assert any("your words were saved as a new note" in said for said in app.said)

    run(practice, scenario, client=client_id)


# --- secrets never reach the screen's edges: tracebacks, logs, screenshots ---------------

TYPED = "zebra-crossing-4711 secret words"


def test_a_crash_deriving_the_key_is_one_line_and_never_shows_the_passphrase(
    practice, client_id, monkeypatch, tmp_path, capfd
):
    import textual.constants

    from trustdesk.vault import vault as vault_module

    log = tmp_path / "textual.log"
    monkeypatch.setattr(textual.constants, "LOG_FILE", str(log))

    def no_memory(secret, params):
        raise MemoryError("cannot allocate 64 MiB")

    monkeypatch.setattr(vault_module, "_argon2", no_memory)

    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await wait_for_screen(pilot, "UnlockScreen")
        await type_into(pilot, "#passphrase", TYPED)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app._exit_renderables == []
        assert app.return_code is None
        assert type(app.screen).__name__ == "UnlockScreen"
        shown = str(app.screen.query_one("#unlock-error", Static).render())
        assert shown.startswith("not enough memory to derive the key: cannot allocate 64 MiB")
        assert "\n" not in shown and TYPED not in shown
        assert not app.vault.unlocked
        assert all(TYPED not in said for said in app.said)
        # A tampered slot (its parameters unreadable) is one line too.
        monkeypatch.setattr(vault_module, "_argon2", lambda secret, params: params["gone"])
        await type_into(pilot, "#passphrase", TYPED)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app._exit_renderables == []
        shown = str(app.screen.query_one("#unlock-error", Static).render())
        assert "KeyError" in shown and TYPED not in shown and "\n" not in shown

    run(practice, scenario, client=client_id)
    out, err = capfd.readouterr()
    assert TYPED not in out and TYPED not in err
    assert "Traceback" not in out + err
    assert not log.exists() or TYPED not in log.read_text()


def test_textual_screenshots_are_off_while_the_app_runs(practice, client_id, monkeypatch, tmp_path):
    import textual.constants

    shots = tmp_path / "shots"
    shots.mkdir()
    monkeypatch.setattr(textual.constants, "SCREENSHOT_DELAY", 2)
    monkeypatch.setattr(textual.constants, "SCREENSHOT_LOCATION", str(shots))

    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await unlock(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, NoteScreen)
        await pilot.pause(2.5)
        assert app.is_running and isinstance(app.screen, NoteScreen)
        assert list(shots.iterdir()) == []
        assert app.save_screenshot(path=str(shots)) == ""
        assert list(shots.iterdir()) == []

    run(practice, scenario, client=client_id)


# --- the idle lock ---------------------------------------------------------------------


def idle_app(database, coach, clock) -> RecordingApp:
    """The app with notes that lock after 10 idle minutes, timed by `clock`."""
    from trustdesk import config

    return RecordingApp(
        database, coach, settings=config.Settings(idle_lock_minutes=10), clock=clock
    )


async def notes_unlocked(pilot: Pilot, app, client_id) -> None:
    """A client's Notes tab, with the notes unlocked."""
    await settle(pilot)
    await app.push_screen(ClientScreen(client_id))
    await settle(pilot)
    await pilot.press("5", "u")
    await unlock(pilot)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("active_at", [0, 1, 299, 540, 599])
def test_the_idle_lock_fires_at_the_setting_whenever_the_coach_was_last_active(
    practice, client_id, active_at
):

    database, coach = practice
    clock = FakeClock()
    limit = 10 * 60

    async def main() -> None:
        app = idle_app(database, coach, clock)
        async with app.run_test(size=SIZE) as pilot:
            await notes_unlocked(pilot, app, client_id)
            start = clock.now
            clock.now = start + active_at
            await pilot.press("5")  # the coach does something
            await pilot.pause()
            last = clock.now
            # Play the idle timer as Textual would: it wakes at its deadline, and again.
            locked_at = None
            for _ in range(20):
                wakeup = app.idle_wakeup
                assert wakeup is not None
                clock.now = max(clock.now, wakeup)
                app.idle_tick()
                if not app.vault.unlocked:
                    locked_at = clock.now
                    break
            assert locked_at is not None
            assert last + limit - 5 <= locked_at <= last + limit + 5
            assert app.idle_wakeup is None
            assert app.said[-1] == "Notes locked after 10 idle minutes."

    asyncio.run(main())


def test_the_idle_lock_does_not_fire_early_after_activity(practice, client_id):

    database, coach = practice
    clock = FakeClock()

    async def main() -> None:
        app = idle_app(database, coach, clock)
        async with app.run_test(size=SIZE) as pilot:
            await notes_unlocked(pilot, app, client_id)
            clock.now += 590
            await pilot.press("5")
            await pilot.pause()
            clock.now += 590  # 1180 s since unlock, 590 s since the key
            app.idle_tick()
            assert app.vault.unlocked
            assert app.idle_wakeup is not None and app.idle_wakeup <= clock.now + 15

    asyncio.run(main())


def test_the_lock_hides_a_new_note_being_written_and_says_so(practice, client_id):
    from trustdesk.trust.notes import read_note

    before = {n.id for n in Note.select(Note.id).where(Note.client == client_id)}

    async def scenario(app, pilot):
        await pilot.press("5", "a")
        await unlock(pilot)
        await wait_for_screen(pilot, FormScreen)
        form = app.screen
        await type_into(pilot, "#field-body", "Words of a new note")
        app.lock_notes("Notes locked after 10 idle minutes.")
        await settle(pilot)
        assert app.screen is form
        assert not form.query_one(".form-fields").display
        assert form.query_one("#note-form-locked").display
        assert "hidden, not lost" in str(form.query_one("#note-form-locked", Static).render())
        await pilot.press("ctrl+s")
        await unlock(pilot)
        await settle(pilot)
        (note,) = [n for n in Note.select().where(Note.client == client_id) if n.id not in before]
        assert read_note(app.vault, note.id).body == "Words of a new note"

    run(practice, scenario, client=client_id)


def test_the_recovery_code_is_masked_like_the_passphrase(practice, client_id):
    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await wait_for_screen(pilot, "UnlockScreen")
        await pilot.press("ctrl+r")
        await pilot.pause()
        box = app.screen.query_one("#passphrase", Input)
        assert str(app.screen.query_one("#unlock-label").render()) == "Recovery code"
        assert box.password

    run(practice, scenario, client=client_id)


def test_after_the_lock_no_screen_holds_a_note_or_the_passphrase(practice, client_id, monkeypatch):
    import gc
    import weakref

    from trustdesk.tui.screens.client import notes as client_module
    from trustdesk.tui.screens.unlock import UnlockScreen

    opened = []
    real_read_note = client_module.read_note

    def read_note(*args, **kwargs):
        note = real_read_note(*args, **kwargs)
        opened.append(weakref.ref(note))
        return note

    monkeypatch.setattr(client_module, "read_note", read_note)

    async def scenario(app, pilot):
        await pilot.press("5", "u")
        await wait_for_screen(pilot, UnlockScreen)
        box = app.screen.query_one("#passphrase", Input)
        await unlock(pilot)
        assert app.vault.unlocked and box.value == ""
        await pilot.press("enter")
        await wait_for_screen(pilot, NoteScreen)
        note_screen = app.screen
        assert opened
        words = note_screen.query_one("#note-text", Static)
        body = str(words.render())
        assert body
        app.lock_notes("Notes locked.")
        await settle(pilot)
        gc.collect()
        assert opened[0]() is None
        assert body not in str(words.render()) and not str(note_screen._words)
        assert app.vault._keys == {}

    run(practice, scenario, client=client_id)


def test_failed_unlocks_make_the_next_try_wait_longer_and_say_so(practice, client_id, monkeypatch):
    from trustdesk.vault import Vault

    database, coach = practice
    clock = FakeClock()
    tries = []
    real = Vault.unlock_with_passphrase

    def counted(self, passphrase):
        tries.append(clock.now)
        return real(self, passphrase)

    monkeypatch.setattr(Vault, "unlock_with_passphrase", counted)

    async def attempt(pilot, passphrase: str) -> str:
        await type_into(pilot, "#passphrase", passphrase)
        await pilot.press("enter")
        await settle(pilot)
        if type(pilot.app.screen).__name__ != "UnlockScreen":
            return ""
        return str(pilot.app.screen.query_one("#unlock-error", Static).render())

    async def main() -> None:
        app = RecordingApp(database, coach, clock=clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await app.push_screen(ClientScreen(client_id))
            await settle(pilot)
            await pilot.press("5", "u")
            await wait_for_screen(pilot, "UnlockScreen")
            assert "Next try in 1 s" in await attempt(pilot, "wrong one")
            # Straight away: refused without trying, and the wait is on screen.
            assert "Wait 1 s before the next try" in await attempt(pilot, "wrong two")
            assert len(tries) == 1
            clock.now += 1
            assert "Next try in 2 s" in await attempt(pilot, "wrong three")
            clock.now += 1
            assert "Wait 1 s before the next try" in await attempt(pilot, DEMO_PASSPHRASE)
            assert len(tries) == 2 and not app.vault.unlocked
            clock.now += 1
            assert "Next try in 4 s" in await attempt(pilot, "wrong four")
            clock.now += 4
            assert await attempt(pilot, DEMO_PASSPHRASE) == ""
            assert app.vault.unlocked and len(tries) == 4
            # A success starts again from nothing.
            app.lock_notes("Notes locked.")
            await pilot.press("u")
            await wait_for_screen(pilot, "UnlockScreen")
            assert "Next try in 1 s" in await attempt(pilot, "wrong again")

    asyncio.run(main())
