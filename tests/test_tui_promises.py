"""Closing a promise with care, through Pilot: d and its toast, u for every close of this
run, D for a chosen or corrected done date, who asked for a renegotiation, the due-soon
promises on the dashboard, and keys that cannot act left out of the footer. Each scenario
checks the database afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Commitment
from trustdesk.trust import promises as rules
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.client.promises import PromisesTable
from trustdesk.tui.widgets.virtual_table import VirtualTable

SIZE = (100, 32)
TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday
D = dt.timedelta
Scenario = Callable[..., Awaitable[None]]


@pytest.fixture
def practice(demo_practice):
    return demo_practice(12), current_coach()


@pytest.fixture
def ann(practice):
    """A client of her own with two open promises, one kept and one dropped."""
    _, coach = practice
    client = Client.create(coach=coach, name="Ann Lee", started_on=TODAY - D(days=60))
    for title, status, due in (
        ("Send the reading list", "open", 2),
        ("Book the check-up", "open", 9),
        ("Share the article", "done", -3),
        ("Call the mentor", "dropped", -5),
    ):
        Commitment.create(
            coach=coach,
            client=client,
            owner="coach",
            title=title,
            promised_on=TODAY - D(days=10),
            due_on=TODAY + D(days=due),
            status=status,
            done_on=None if status == "open" else TODAY - D(days=4),
        )
    return client.id


def titled(title: str) -> Commitment:
    return Commitment.get(Commitment.title == title)


def state(title: str):
    c = titled(title)
    return (c.status, c.done_on, c.reason, c.asked_by, c.due_on)


def run(practice, scenario: Scenario, *, client: int | None = None, size=SIZE) -> None:
    database, coach = practice

    async def main() -> None:
        app = RecordingApp(database, coach)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            if client is not None:
                await app.push_screen(ClientScreen(client))
                await settle(pilot)
                await pilot.press("3")
                await pilot.pause()
            await scenario(app, pilot)

    asyncio.run(main())


def promises_table(app) -> PromisesTable:
    return app.screen.query_one(PromisesTable)


async def highlight(pilot: Pilot, title: str) -> None:
    table: DataTable = promises_table(pilot.app)
    table.focus()
    table.move_cursor(row=table.get_row_index(str(titled(title).id)))
    await pilot.pause()


def offered(app) -> set[str]:
    return set(app.screen.active_bindings)


# --- d and u ---------------------------------------------------------------------------------


def test_d_says_it_is_done_today_and_u_undoes_it_exactly(practice, ann):
    before = state("Send the reading list")

    async def scenario(app, pilot):
        assert "u" not in offered(app)  # nothing to undo yet
        await highlight(pilot, "Send the reading list")
        await pilot.press("d")
        await settle(pilot)
        assert state("Send the reading list")[:2] == ("done", TODAY)
        assert app.said[-1] == "Done today: Send the reading list. Press u to undo."
        assert "u" in offered(app)
        await pilot.press("u")
        await settle(pilot)
        assert state("Send the reading list") == before
        assert app.said[-1].startswith("Undone: “Send the reading list” marked open again")
        assert "u" not in offered(app)

    run(practice, scenario, client=ann)


def test_u_undoes_every_close_of_this_run_most_recent_first(practice, ann):
    kept_before, dropped_before = state("Send the reading list"), state("Book the check-up")

    async def scenario(app, pilot):
        await highlight(pilot, "Send the reading list")
        await pilot.press("d")
        await settle(pilot)
        await highlight(pilot, "Book the check-up")
        await pilot.press("x")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-reason", "Not needed now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert state("Book the check-up")[0] == "dropped"
        await pilot.press("u")
        await settle(pilot)
        assert state("Book the check-up") == dropped_before
        assert state("Send the reading list")[0] == "done"
        await pilot.press("u")
        await settle(pilot)
        assert state("Send the reading list") == kept_before

    run(practice, scenario, client=ann)


def test_undo_of_a_renegotiation_removes_its_new_promise(practice, ann):
    before = state("Send the reading list")
    count = Commitment.select().count()

    async def scenario(app, pilot):
        await highlight(pilot, "Send the reading list")
        await pilot.press("r")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-due_on", "2026-03-30")
        await type_into(pilot, "#field-reason", "Waiting on the publisher")
        app.screen.query_one("#field-asked_by", Select).value = "client"
        await pilot.press("ctrl+s")
        await settle(pilot)
        old = titled_status("Send the reading list", "renegotiated")
        assert (old.reason, old.asked_by, old.done_on) == (
            "Waiting on the publisher",
            "client",
            TODAY,
        )
        assert rules.saved_promise(current_coach(), old.id).renegotiated_in_time
        assert Commitment.select().count() == count + 1
        assert "Press u to undo" in app.said[-1]
        await pilot.press("u")
        await settle(pilot)
        assert state("Send the reading list") == before
        assert Commitment.select().count() == count

    run(practice, scenario, client=ann)


def titled_status(title: str, status: str) -> Commitment:
    return Commitment.get((Commitment.title == title) & (Commitment.status == status))


def test_undo_refuses_in_one_line_once_another_terminal_changed_the_new_promise(practice, ann):
    async def scenario(app, pilot):
        await highlight(pilot, "Send the reading list")
        await pilot.press("r")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-due_on", "2026-03-30")
        await type_into(pilot, "#field-reason", "Travel")
        await pilot.press("ctrl+s")
        await settle(pilot)
        successor = titled_status("Send the reading list", "open")
        # Another terminal keeps the new promise meanwhile.
        rules.mark_done(current_coach(), successor.id, TODAY)
        await pilot.press("u")
        await settle(pilot)
        assert app.said[-1].startswith("Not undone: the renegotiated promise was changed")
        assert "\n" not in app.said[-1]
        assert titled_status("Send the reading list", "renegotiated").reason == "Travel"
        assert Commitment.get_by_id(successor.id).status == "done"
        assert "u" not in offered(app)  # that close can no longer be undone

    run(practice, scenario, client=ann)


# --- D: a chosen done date, and a corrected one ------------------------------------------------


def test_D_keeps_a_promise_on_a_chosen_day_and_refuses_a_future_one(practice, ann):
    async def scenario(app, pilot):
        await highlight(pilot, "Send the reading list")
        await pilot.press("D")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-done_on", "tomorrow")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # refused on its field
        assert state("Send the reading list")[0] == "open"
        await type_into(pilot, "#field-done_on", "2026-03-13")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert state("Send the reading list")[:2] == ("done", dt.date(2026, 3, 13))
        assert app.said[-1] == "Done on Fri 13 Mar: Send the reading list. Press u to undo."

    run(practice, scenario, client=ann)


def test_D_corrects_the_day_a_kept_promise_was_kept(practice, ann):
    async def scenario(app, pilot):
        await highlight(pilot, "Share the article")
        assert {"D"} <= offered(app) and not {"e", "d", "r", "x"} & offered(app)
        await pilot.press("D")
        await wait_for_screen(pilot, FormScreen)
        assert app.screen.form_title == "Correct the done date"
        await type_into(pilot, "#field-done_on", "2026-03-01")  # before it was promised
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-done_on", "2026-03-14")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert state("Share the article")[:2] == ("done", dt.date(2026, 3, 14))

    run(practice, scenario, client=ann)


def test_keys_that_cannot_act_on_a_dropped_promise_are_not_offered(practice, ann):
    async def scenario(app, pilot):
        await highlight(pilot, "Call the mentor")
        assert not {"e", "d", "D", "r", "x"} & offered(app)
        assert "a" in offered(app)
        before = state("Call the mentor")
        await pilot.press("e", "d", "D", "r", "x")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert state("Call the mentor") == before
        await highlight(pilot, "Book the check-up")
        assert {"e", "d", "D", "r", "x"} <= offered(app)

    run(practice, scenario, client=ann)


# --- the dashboard: due soon beside overdue ------------------------------------------------------


def test_due_soon_promises_follow_the_overdue_ones_and_d_keeps_one(practice, ann):
    coach = current_coach()
    overdue = rules.overdue_promises(coach, TODAY)
    soon = rules.due_soon(coach, TODAY)
    assert any(p.client_name == "Ann Lee" for p in soon)

    async def scenario(app, pilot):
        table = app.screen.query_one("#overdue", VirtualTable)
        assert table.total == len(overdue) + len(soon)
        rows = [table.row_at(i) for i in range(table.total)]
        assert [r.commitment_id for r in rows] == [p.commitment_id for p in [*overdue, *soon]]
        title = str(app.screen.query_one("#overdue-pane .pane-title").render())
        assert f"Overdue promises ({len(overdue)}) · {len(soon)} due soon" in title
        index = len(overdue) + [p.client_name for p in soon].index("Ann Lee")
        table.focus()
        table.cursor = index
        await pilot.pause()
        target = table.current_row
        assert isinstance(target, rules.DueSoonPromise)
        await pilot.press("d")
        await settle(pilot)
        kept = Commitment.get_by_id(target.commitment_id)
        assert (kept.status, kept.done_on) == ("done", TODAY)
        assert table.total == len(overdue) + len(soon) - 1
        await pilot.press("u")
        await settle(pilot)
        assert Commitment.get_by_id(target.commitment_id).status == "open"

    run(practice, scenario)


def test_an_empty_promises_pane_offers_no_promise_keys(practice):
    for c in Commitment.select().where(Commitment.status == "open"):
        rules.drop(current_coach(), c.id, "clearing the list", TODAY)

    async def scenario(app, pilot):
        app.screen.query_one("#overdue", VirtualTable).focus()
        await settle(pilot)
        assert not {"d", "D", "r", "x"} & offered(app)

    run(practice, scenario)


def test_the_palette_undo_says_when_there_is_nothing_to_undo(practice):
    async def scenario(app, pilot):
        app.action_undo()
        await settle(pilot)
        assert app.said[-1].startswith("Nothing to undo")

    run(practice, scenario)


def test_u_still_unlocks_in_the_notes_tab_while_the_notes_are_locked(practice, ann):
    async def scenario(app, pilot):
        await highlight(pilot, "Send the reading list")
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("u")
        await wait_for_screen(pilot, "UnlockScreen")
        assert state("Send the reading list")[0] == "done"  # not undone
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("u")
        await settle(pilot)
        assert state("Send the reading list")[0] == "open"

    run(practice, scenario, client=ann)
