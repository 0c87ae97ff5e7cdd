"""Notes you can use: first lines for the list and a search that hands on each hit at once."""

from __future__ import annotations

import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE

from trustdesk.store.models import Client
from trustdesk.trust.notes import (
    add_note,
    first_line,
    note_first_lines,
    search_notes,
    search_notes_stream,
)
from trustdesk.vault import Vault, VaultLocked


@pytest.fixture
def vault(coach):
    v = Vault(coach)
    v.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    return v


@pytest.fixture
def ann(coach):
    return Client.create(coach=coach, name="Ann", started_on="2026-01-01")


@pytest.fixture
def ben(coach):
    return Client.create(coach=coach, name="Ben", started_on="2026-01-01")


def test_first_line_skips_blank_lines_and_cuts_long_ones():
    assert first_line("\n  \n  Wants more sleep  \nand less coffee") == "Wants more sleep"
    assert first_line("") == ""
    cut = first_line("x" * 300, limit=20)
    assert cut == "x" * 19 + "…" and len(cut) == 20


def test_first_lines_of_one_clients_notes(vault, ann, ben):
    a = add_note(vault, ann.id, "goal", "\nLead the offsite\nwith a plan")
    b = add_note(vault, ann.id, "belief", "[b]not markup[/b]")
    add_note(vault, ben.id, "goal", "Ben's own words")
    assert note_first_lines(vault, client_id=ann.id) == {
        a: "Lead the offsite",
        b: "[b]not markup[/b]",
    }


def test_first_lines_need_the_key(vault, ann):
    add_note(vault, ann.id, "goal", "Lead the offsite")
    vault.lock()
    with pytest.raises(VaultLocked):
        note_first_lines(vault, client_id=ann.id)


def test_the_stream_hands_on_each_hit_before_the_scan_ends(vault, ann, ben):
    for n in range(30):
        add_note(vault, (ann if n % 2 else ben).id, "session", f"note {n}\nnothing here")
    add_note(vault, ann.id, "struggle", "Intro\nAfraid of the Board meeting in May")
    steps = search_notes_stream(vault, "board", every=5)
    first = next(steps)
    assert (first.opened, first.total, first.hits) == (0, 31, ())
    for step in steps:
        if step.hits:
            (hit,) = step.hits
            assert step.opened <= step.total == 31
            break
    else:
        raise AssertionError("no hit")
    assert hit.client_name == "Ann" and hit.kind == "struggle"
    assert hit.line == "Afraid of the Board meeting in May"
    assert hit.line[hit.at : hit.at + hit.length] == "Board"
    rest = list(steps)
    assert rest[-1].opened == rest[-1].total == 31
    assert not any(s.hits for s in rest)
    # Progress comes at least every `every` notes while nothing is found.
    quiet = list(search_notes_stream(vault, "nowhere", every=5))
    assert [s.opened for s in quiet] == [0, 5, 10, 15, 20, 25, 30, 31]


def test_the_stream_finds_what_search_notes_finds(vault, ann, ben):
    add_note(vault, ann.id, "struggle", "Afraid of the Board meeting in May")
    add_note(vault, ben.id, "goal", "Speak up at the board")
    add_note(vault, ben.id, "goal", "Sleep before midnight")
    streamed = [h for s in search_notes_stream(vault, "BOARD") for h in s.hits]
    assert {h.id for h in streamed} == {h.id for h in search_notes(vault, "BOARD")}
    only_ben = [h for s in search_notes_stream(vault, "board", client_id=ben.id) for h in s.hits]
    assert [h.line for h in only_ben] == ["Speak up at the board"]
    assert [s.hits for s in search_notes_stream(vault, "  ")] == [()]


def test_a_long_line_is_cut_around_the_words(vault, ann):
    add_note(vault, ann.id, "goal", "a" * 200 + " target " + "b" * 200)
    (hit,) = [h for s in search_notes_stream(vault, "TARGET") for h in s.hits]
    assert hit.line.startswith("…") and hit.line.endswith("…")
    assert hit.line[hit.at : hit.at + hit.length] == "target"
    assert len(hit.line) <= 125


def test_words_found_only_case_folded_are_shown_unmarked(vault, ann):
    add_note(vault, ann.id, "goal", "Die Straße nach Hause")
    (hit,) = [h for s in search_notes_stream(vault, "strasse") for h in s.hits]
    assert hit.line == "Die Straße nach Hause" and hit.at == -1
