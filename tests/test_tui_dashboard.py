"""The dashboard through Pilot: every action, checked in the database afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import settle, wait_for_screen
from textual.widgets import Input, Static

from trustdesk.config import Settings
from trustdesk.store import Client, Commitment, Touch, current_coach
from trustdesk.store.models import name_key
from trustdesk.trust import build_report, cadence, overdue_promises
from trustdesk.trust.contact import falls
from trustdesk.tui.app import TrustdeskApp
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.dashboard import DashboardScreen
from trustdesk.tui.screens.help import HelpScreen
from trustdesk.tui.widgets.virtual_table import VirtualTable

TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def practice(demo_practice):
    return demo_practice(24)


@pytest.fixture
def app(practice):
    return TrustdeskApp(practice, current_coach(), settings=Settings())


def table(app, name) -> VirtualTable:
    return app.screen.query_one(f"#{name}", VirtualTable)


def row_text(tbl: VirtualTable, index: int) -> str:
    strip = tbl.render_line(index + 1 - int(tbl.scroll_offset.y))
    return "".join(segment.text for segment in strip)


async def test_the_dashboard_answers_the_three_questions(app, practice):
    coach = current_coach()
    report = build_report(coach, TODAY, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert f"{len(report.overdue)} overdue" in summary
        assert f"{len(report.quiet)} quiet, {len(report.due_for_contact)} due" in summary
        assert "notes locked" in summary
        assert table(app, "clients").total == Client.select().count()
        # Overdue promises, then those due soon, in one list.
        assert table(app, "overdue").total == len(report.overdue) + len(report.due_soon)
        # The quiet and the due, and the clients who fell (who may be neither yet).
        needing = {c.client_id for c in report.due_for_contact + report.quiet}
        fell = {f.client_id for f in falls(coach, TODAY)}
        assert table(app, "cadence").total == len(needing | fell)
        first_overdue = table(app, "overdue").row_at(0)
        assert first_overdue.commitment_id == report.overdue[0].commitment_id


async def test_filter_by_name_as_you_type(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.focused.id == "client-filter"
        await pilot.press("a", "n")
        await settle(pilot)
        expected = Client.select().where(Client.sort_name.contains("an")).count()
        assert table(app, "clients").total == expected
        shown = [table(app, "clients").row_at(i).name for i in range(expected)]
        assert all("an" in name_key(name) for name in shown)
        await pilot.press("escape")
        await settle(pilot)
        assert table(app, "clients").total == Client.select().count()
        assert app.screen.query_one("#client-filter", Input).value == ""


async def test_sort_by_longest_since_contact(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        title = str(app.screen.query_one("#clients-pane .pane-title").render())
        assert "longest since contact" in title
        rows = [table(app, "clients").row_at(i) for i in range(5)]
        days = [r.days_since_contact for r in rows]
        assert days == sorted(days, reverse=True)


async def test_enter_opens_the_client_workspace(app):
    from trustdesk.tui.screens.client import ClientScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def focus_overdue(pilot):
    table(pilot.app, "overdue").focus()
    await settle(pilot)
    return table(pilot.app, "overdue").current_row


async def test_d_marks_the_promise_done(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = await focus_overdue(pilot)
        await pilot.press("d")
        await settle(pilot)
        promise = Commitment.get_by_id(row.commitment_id)
        assert promise.status == "done" and promise.done_on == TODAY
        assert row.commitment_id not in {
            o.commitment_id for o in overdue_promises(current_coach(), TODAY)
        }
        assert table(app, "overdue").row_at(0).commitment_id != row.commitment_id


async def test_r_renegotiates_with_a_new_due_date(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = await focus_overdue(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        box = app.screen.query_one("#field-due_on", Input)
        box.value = "2026-04-02"
        app.screen.query_one("#field-reason", Input).value = "A week of travel"
        await pilot.press("ctrl+s")
        await settle(pilot)
        old = Commitment.get_by_id(row.commitment_id)
        assert old.status == "renegotiated" and old.reason == "A week of travel"
        new = Commitment.get(Commitment.renegotiated_from == old.id)
        assert new.status == "open" and new.due_on == dt.date(2026, 4, 2)
        assert new.title == old.title


async def test_a_bad_date_is_marked_on_the_field_and_nothing_is_saved(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = await focus_overdue(pilot)
        await pilot.press("r")
        await settle(pilot)
        box = app.screen.query_one("#field-due_on", Input)
        box.value = "2026-02-30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        error = str(app.screen.query_one("#error-due_on", Static).render())
        assert "not a date" in error
        assert box.has_class("-invalid-field")
        box.value = "2026-03-01"  # in the past
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "must not be before today" in str(
            app.screen.query_one("#error-due_on", Static).render()
        )
        await pilot.press("escape")
        await settle(pilot)
        assert Commitment.get_by_id(row.commitment_id).status == "open"


async def test_x_drops_with_a_reason(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = await focus_overdue(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")  # empty reason: refused in place
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-reason", Input).value = "The offsite was cancelled"
        await pilot.press("ctrl+s")
        await settle(pilot)
        promise = Commitment.get_by_id(row.commitment_id)
        assert promise.status == "dropped" and promise.reason == "The offsite was cancelled"


async def test_t_logs_a_touch_and_the_client_is_no_longer_due(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table(app, "cadence").focus()
        await settle(pilot)
        row = table(app, "cadence").current_row
        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one("#field-summary", Input).value = "Called after the [b]board[/b]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        touch = Touch.select().order_by(Touch.id.desc()).first()
        assert touch.client_id == row.client_id and touch.occurred_on == TODAY
        assert touch.summary == "Called after the [b]board[/b]"
        assert touch.channel == "email" and touch.direction == "outbound"
        states = {c.client_id: c.state for c in cadence(current_coach(), TODAY)}
        assert states[row.client_id] == "ok"
        assert row.client_id not in {r.client_id for r in _rows(table(app, "cadence"))}


def _rows(tbl: VirtualTable):
    return [tbl.row_at(i) for i in range(tbl.total or 0)]


async def test_z_snoozes_until_a_date(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table(app, "cadence").focus()
        await settle(pilot)
        row = table(app, "cadence").current_row
        await pilot.press("z")
        await settle(pilot)
        app.screen.query_one("#field-until", Input).value = "2026-04-10"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Client.get_by_id(row.client_id).snoozed_until == dt.date(2026, 4, 10)


async def test_user_text_is_shown_literally(practice, isolated_home):
    coach = current_coach()
    Client.create(
        coach=coach,
        name="[b]Ann[/]\x1b[31m\u202e",
        started_on=TODAY - dt.timedelta(days=3),
    )
    app = TrustdeskApp(practice, coach)
    # Wide enough for the whole name beside the next session's day and time.
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Ann")
        await settle(pilot)
        line = row_text(table(app, "clients"), 0)
        assert "[b]Ann[/]\\x1b[31m" in line
        assert "\x1b" not in line and "\u202e" not in line


async def test_help_lists_every_binding(app):
    from trustdesk.tui.screens.help import sections

    described = " ".join(b.description for _, bindings in sections() for b in bindings)
    for words in (
        "Renegotiate",
        "Log touch",
        "Snooze",
        "Filter",
        "Lock notes",
        "Quit",
        "Prompt",
        "Awaiting replies",
        "Agenda",
        "Programs",
        "References",
        "Mark as sent",
        "Save",
    ):
        assert words in described
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "Anywhere" in shown and "Clients list" in shown and "Filter" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_every_binding_has_an_id():
    from trustdesk.tui.screens.help import sections

    for _title, bindings in sections():
        for binding in bindings:
            if binding.action:  # the extra lines the help adds have no action
                assert binding.id, binding


async def test_idle_time_locks_the_notes_and_says_so(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = app.vault.unlock_with_passphrase("demo")
        assert status.unlocked
        app.vault_changed(status)
        await settle(pilot)
        assert "notes open" in str(app.screen.query_one("#summary", Static).render())
        assert app._idle_timer is not None and app.idle_wakeup is not None
        app._last_activity -= app.settings.idle_lock_minutes * 60  # as if that long ago
        app.idle_tick()
        await settle(pilot)
        assert not app.vault.unlocked
        assert "notes locked" in str(app.screen.query_one("#summary", Static).render())
        assert any("idle" in str(n.message) for n in app._notifications)


async def test_ctrl_l_locks_now(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.vault_changed(app.vault.unlock_with_passphrase("demo"))
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert not app.vault.unlocked


def footer_keys(app) -> dict[str, object]:
    from textual.widgets._footer import FooterKey

    return {key.description: key for key in app.screen.query(FooterKey)}


async def test_the_footer_fits_80_columns_and_offers_lock_only_while_notes_are_open(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = footer_keys(app)
        assert "Lock" not in shown  # nothing to lock yet
        assert {"Filter", "Log touch", "New", "Help", "Quit"} <= set(shown)
        app.vault_changed(app.vault.unlock_with_passphrase("demo"))
        await settle(pilot)
        shown = footer_keys(app)
        assert "Lock" in shown
        # Every key is whole on screen, left of the palette key at the right edge.
        right = min(key.region.x for key in shown.values() if key.description == "palette")
        for description, key in shown.items():
            if description != "palette":
                assert key.region.right <= right, description


async def test_the_palette_jumps_to_a_client(app):
    from trustdesk.tui.screens.client import ClientScreen

    name = Client.select().order_by(Client.name).first().name
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*name[:6])
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)


async def test_editing_leaves_stored_control_characters_exactly_as_they_were(app, practice):
    """A title holding an escape shows escaped in the form; saved untouched, it is unchanged."""
    from textual.widgets import Input

    from trustdesk.tui.flows.promises import edit_promise

    promise = Commitment.select().where(Commitment.status == "open").first()
    odd = "Send the plan \x1b[5mnow\u202e"
    Commitment.update(title=odd).where(Commitment.id == promise.id).execute()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        edit_promise(app, promise.id, odd, promise.promised_on, promise.due_on, None)
        await settle(pilot)
        box = app.screen.query_one("#field-title", Input)
        assert box.value == "Send the plan \\x1b[5mnow\\u202e"
        box.value = box.value  # touched but not changed
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert Commitment.get_by_id(promise.id).title == odd


async def test_a_pasted_escape_sequence_arrives_as_visible_text(app):
    from textual import events

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#client-filter")
        box.post_message(events.Paste("a\x1b[2Jb"))
        await settle(pilot)
        assert box.value == "a\\x1b[2Jb"


async def test_programs_and_references_open_from_the_dashboard(app):
    from trustdesk.tui.screens.programs import ProgramsScreen
    from trustdesk.tui.screens.references import ReferencesScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, ProgramsScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ReferencesScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_w_lists_prompts_awaiting_a_reply(app):
    from trustdesk.trust.prompts import ensure_library, list_prompts, send_prompt
    from trustdesk.tui.screens.awaiting import AwaitingRepliesScreen

    coach = current_coach()
    Touch.update(prompt=None).where(Touch.prompt.is_null(False)).execute()  # nothing sent yet
    ensure_library(coach)
    prompt = list_prompts(coach)[0]
    client = Client.select().where(Client.status == "active").first()
    send_prompt(coach, prompt.prompt_id, client.id, TODAY - dt.timedelta(days=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # At 80 columns the title keeps the replies awaited, giving up the quiet/due split.
        title = str(app.screen.query_one("#cadence-pane .pane-title").render())
        assert title.startswith("Due for contact (") and title.endswith(" · 1 awaiting (w)")
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, AwaitingRepliesScreen)
        assert len(app.screen.items) == 1 and app.screen.items[0].days_waiting == 3


# --- sessions: clients who fell, the next session's time, the agenda ------------------------


async def test_a_client_who_fell_is_flagged_with_what_happened(app):
    from trustdesk.tui.screens.dashboard_panes import fall_words

    coach = current_coach()
    fall = falls(coach, TODAY)[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        cadence_table = table(app, "cadence")
        first = cadence_table.row_at(0)
        assert (first.client_id, first.fall.kind) == (fall.client_id, fall.kind)
        assert "!! fell" in row_text(cadence_table, 0)
        cadence_table.focus()
        await settle(pilot)
        detail = str(app.screen.query_one("#cadence-detail", Static).render())
        assert detail.startswith(f"{fall.client_name}: ")
        assert fall_words(fall, TODAY) in detail
        clients = table(app, "clients")
        names = [clients.row_at(i).name for i in range(clients.total)]
        index = names.index(fall.client_name)
        assert "!! fell" in row_text(clients, index)
        # Reaching out clears it.
        await pilot.press("t")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fall.client_id not in {f.client_id for f in falls(coach, TODAY)}
        assert "!! fell" not in row_text(clients, index)


async def test_the_next_session_shows_its_time(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        clients = table(app, "clients")
        for i in range(clients.total):
            row = clients.row_at(i)
            if row.next_session is not None:
                assert f"{row.next_session:%a %d %b %H:%M}" in row_text(clients, i)
                return
        raise AssertionError("no client in the demo has a session to come")


async def test_g_opens_the_agenda_and_h_records_the_waiting_session_held(app, monkeypatch):
    from textual.widgets import DataTable

    from trustdesk import config
    from trustdesk.store.models import Session
    from trustdesk.tui.screens.agenda import AgendaScreen

    # Early on the frozen Monday, before any of its sessions: only the one left over
    # from before today waits for its outcome, whatever the wall clock says.
    monkeypatch.setattr(config, "now", lambda: dt.datetime.combine(config.today(), dt.time(7)))

    (waiting,) = Session.select().where(
        (Session.status == "scheduled") & (Session.scheduled_start < dt.datetime(2026, 3, 16))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "1 to record (g)" in summary
        await pilot.press("g")
        await wait_for_screen(pilot, AgendaScreen)
        await settle(pilot)
        rows = app.screen.query_one(DataTable)
        assert "waiting" in str(rows.get_row_at(0)[2])
        await pilot.press("h")
        await wait_for_screen(pilot, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Session.get_by_id(waiting.id).status == "held"
        assert Touch.select().where(Touch.session == waiting.id).count() == 1
        assert isinstance(app.screen, AgendaScreen)
        await pilot.press("escape")
        await settle(pilot)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "to record" not in summary
