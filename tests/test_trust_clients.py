"""A client is named the way a coach names them: a part of the name, any case, or an id."""

import datetime as dt

import pytest

from trustdesk.store.models import Client
from trustdesk.store.states import ClientStatus
from trustdesk.trust.clients import NoSuchClient, find_client


def _client(coach, name, status=ClientStatus.ACTIVE):
    return Client.create(coach=coach, name=name, status=status, started_on=dt.date(2026, 1, 5))


def test_a_part_of_one_name_any_case_or_accent_finds_the_client(coach):
    elodie = _client(coach, "Élodie Kahananui")
    _client(coach, "Kwame Mensah")
    assert find_client(coach, "elodie").id == elodie.id
    assert find_client(coach, "KAHANA").id == elodie.id
    assert find_client(coach, str(elodie.id)).id == elodie.id


def test_an_ambiguous_name_lists_the_matches(coach):
    _client(coach, "Ann Lee")
    _client(coach, "Joanne Park")
    _client(coach, "Annabel Ortiz")
    with pytest.raises(NoSuchClient) as refused:
        find_client(coach, "nn")
    message = str(refused.value)
    assert "names 3 clients" in message and "Joanne Park (id" in message
    assert find_client(coach, "ann lee").name == "Ann Lee"  # a whole name wins


def test_a_listed_client_wins_over_an_archived_one_and_wildcards_are_letters(coach):
    _client(coach, "Sam Old", ClientStatus.ARCHIVED)
    sam = _client(coach, "Sam New")
    assert find_client(coach, "sam").id == sam.id
    assert find_client(coach, "sam old").status == ClientStatus.ARCHIVED
    with pytest.raises(NoSuchClient, match="no client called '%'"):
        find_client(coach, "%")
    with pytest.raises(NoSuchClient, match="no client name given"):
        find_client(coach, "  ")


def test_the_moves_of_a_clients_life():
    assert ClientStatus.PROSPECT.can_become(ClientStatus.ACTIVE)
    assert ClientStatus.ACTIVE.can_become(ClientStatus.PAUSED)
    assert ClientStatus.PAUSED.can_become(ClientStatus.ACTIVE)
    assert ClientStatus.COMPLETED.can_become(ClientStatus.ARCHIVED)
    assert not ClientStatus.ACTIVE.can_become(ClientStatus.ACTIVE)
    assert not ClientStatus.ARCHIVED.can_become(ClientStatus.PAUSED)
    assert not ClientStatus.ARCHIVED.is_listed and ClientStatus.PAUSED.is_listed
