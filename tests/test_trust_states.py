"""States as types: the words on disk stay the same, and each rule about a state is said once."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from trustdesk.store.models import Client, Commitment, Session
from trustdesk.store.states import CadenceState, ClientStatus, PromiseState, SessionStatus
from trustdesk.trust.contact import Cadence, cadence_state
from trustdesk.trust.promises import PromiseItem
from trustdesk.trust.sessions import SessionItem

DAY = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 2, 10, 0)


def test_the_states_are_the_words_the_database_keeps():
    assert tuple(PromiseState) == ("open", "done", "renegotiated", "dropped")
    assert tuple(SessionStatus) == ("scheduled", "held", "late_cancel", "no_show", "cancelled")
    assert tuple(ClientStatus) == ("prospect", "active", "paused", "completed", "archived")
    assert tuple(CadenceState) == ("quiet", "due", "ok", "snoozed")


def test_a_state_prints_and_serialises_as_its_plain_word():
    assert json.dumps({"state": CadenceState.DUE}) == '{"state": "due"}'
    assert f"{SessionStatus.NO_SHOW}" == str(SessionStatus.NO_SHOW) == "no_show"
    assert {"open": 1}[PromiseState.OPEN] == 1


def test_the_models_offer_the_states_as_choices_and_defaults():
    assert [value for value, _ in Client.status.choices] == list(ClientStatus)
    assert [value for value, _ in Commitment.status.choices] == list(PromiseState)
    assert [value for value, _ in Session.status.choices] == list(SessionStatus)
    assert Client.status.default == "active"
    assert Commitment.status.default == "open"
    assert Session.status.default == "scheduled"


def promise(status: str) -> PromiseItem:
    return PromiseItem(1, "coach", "Send the plan", DAY, DAY, None, PromiseState(status), "")


@pytest.mark.parametrize("status", list(PromiseState))
def test_only_an_open_promise_can_change(status):
    assert promise(status).can_change is (status == "open")


def session(status: str) -> SessionItem:
    return SessionItem(1, AT, None, None, 60, SessionStatus(status))


@pytest.mark.parametrize("now", list(SessionStatus))
@pytest.mark.parametrize("then", list(SessionStatus))
def test_a_session_may_be_marked_anything_else_and_a_held_one_held_again(now, then):
    assert session(now).allows(then) is (now != then or now == "held")


@pytest.mark.parametrize("status", list(SessionStatus))
def test_only_a_scheduled_session_can_move(status):
    assert session(status).can_move is (status == "scheduled")


def test_only_an_active_client_has_a_cadence():
    assert [s for s in ClientStatus if s.has_cadence] == [ClientStatus.ACTIVE]


@pytest.mark.parametrize(
    ("days", "snoozed", "state", "needs_contact"),
    [
        (3, None, "ok", False),
        (7, None, "due", True),
        (22, None, "quiet", True),
        (22, DAY, "snoozed", False),
    ],
)
def test_a_client_due_or_gone_quiet_needs_contact(days, snoozed, state, needs_contact):
    since = DAY - dt.timedelta(days=days)
    found = cadence_state(
        today=DAY, counted_from=since, ideal_gap_days=7, max_gap_days=21, snoozed_until=snoozed
    )
    assert found is CadenceState(state)
    row = Cadence(1, "Ann", 7, 21, since, since, days, since, found, snoozed, None, None)
    assert row.needs_contact is needs_contact


def test_the_cadence_states_sort_most_urgent_first():
    assert [s.urgency for s in CadenceState] == [0, 1, 2, 3]
