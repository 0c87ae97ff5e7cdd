"""`trustdesk client ...` as a coach types it: each command in a new process, the practice
checked afterwards through `client show --json` and `export`, errors one line that write
nothing."""

from __future__ import annotations

import json

import pytest
from helpers import TODAY, one_line_error, text

ON_TODAY = {"TRUSTDESK_TODAY": TODAY}


@pytest.fixture
def td(initialised):
    def td(*args, **kwargs):
        return initialised(*args, env=ON_TODAY, **kwargs)

    return td


def ok(result):
    assert result.returncode == 0, text(result)
    return result


def tables(td):
    return json.loads(ok(td("export", "--json")).stdout)["tables"]


def show(td, name):
    return json.loads(ok(td("client", "show", name, "--json")).stdout)


def test_an_empty_practice_says_how_clients_get_in(td):
    out = ok(td("client", "list")).stdout.decode()
    assert "trustdesk client add NAME" in out and "trustdesk import FILE" in out
    assert "trustdesk import FILE" in ok(td("report")).stdout.decode()
    assert json.loads(ok(td("client", "list", "--json")).stdout) == {"clients": []}


def test_client_add_with_every_option_then_show_and_list_as_json(td):
    ok(td("program", "import", "leadership"))
    result = ok(
        td(
            "client",
            "add",
            "Ana Ruiz",
            "--email",
            "ana@work.example",
            "--email",
            "ana@home.example",
            "--phone",
            "+1 555 0100",
            "--program",
            "leadership",
            "--stage",
            "Discovery",
            "--ideal-gap",
            "5",
            "--max-gap",
            "12",
            "--started",
            "2026-03-02",
            "--last-contact",
            "-3",
            "--status",
            "prospect",
            "--prefers",
            "Texts, mornings only",
        )
    )
    assert "Added Ana Ruiz (id " in text(result)[1]
    shown = show(td, "ana")
    assert shown == {
        "id": shown["id"],
        "name": "Ana Ruiz",
        "status": "prospect",
        "emails": ["ana@work.example", "ana@home.example"],
        "phones": ["+1 555 0100"],
        "program": "Leadership Engagement",
        "stage": "Discovery",
        "started_on": "2026-03-02",
        "ideal_gap_days": 5,
        "max_gap_days": 12,
        "contact_preferences": "Texts, mornings only",
        "reference_consent": False,
        "cadence": None,  # a prospect has no cadence yet
        "open_promises": {"coach": 0, "client": 0},
        "next_session": None,
    }
    (touch,) = tables(td)["touch"]
    assert touch["occurred_on"] == "2026-03-13" and touch["counts_for_cadence"] in (True, 1)
    listed = json.loads(ok(td("client", "list", "--json")).stdout)["clients"]
    assert listed == [
        {
            "id": shown["id"],
            "name": "Ana Ruiz",
            "status": "prospect",
            "program": "Leadership Engagement",
            "stage": "Discovery",
            "email": "ana@work.example",
            "started_on": "2026-03-02",
        }
    ]


def test_an_active_client_shows_their_cadence(td):
    ok(td("client", "add", "Bo Chen", "--last-contact", "2026-03-06"))
    cadence = show(td, "bo")["cadence"]
    assert cadence["state"] == "due" and cadence["days_since_touch"] == 10
    out = ok(td("client", "show", "bo")).stdout.decode()
    assert "due, 10 days since contact" in out


def test_edit_changes_only_what_is_given(td):
    ok(td("client", "add", "Cy Park", "--email", "cy@a.example", "--phone", "555 0101"))
    ok(td("client", "edit", "cy", "--name", "Cy Park-Lee", "--max-gap", "40", "--prefers", "Calls"))
    shown = show(td, "park-lee")
    assert shown["name"] == "Cy Park-Lee" and shown["max_gap_days"] == 40
    assert shown["emails"] == ["cy@a.example"] and shown["phones"] == ["555 0101"]
    assert shown["contact_preferences"] == "Calls" and shown["ideal_gap_days"] == 7


def test_the_moves_of_a_clients_life(td):
    ok(td("client", "add", "Di Moss"))
    for verb, status in (
        ("pause", "paused"),
        ("resume", "active"),
        ("complete", "completed"),
        ("archive", "archived"),
    ):
        assert f"is now {status}" in text(ok(td("client", verb, "di")))[1]
        assert show(td, "di")["status"] == status
    # Archived: out of the list, there with --all or --status archived.
    assert json.loads(ok(td("client", "list", "--json")).stdout) == {"clients": []}
    assert "Di Moss" not in ok(td("client", "list")).stdout.decode()
    all_clients = json.loads(ok(td("client", "list", "--all", "--json")).stdout)["clients"]
    assert [c["name"] for c in all_clients] == ["Di Moss"]
    archived = ok(td("client", "list", "--status", "archived")).stdout.decode()
    assert "Di Moss" in archived
    line = one_line_error(td("client", "pause", "di"))
    assert "archived and cannot become paused" in line


def test_delete_needs_the_name_typed_back_or_yes(td):
    ok(td("client", "add", "Eve Stone"))
    ok(td("client", "add", "Fay Holt"))
    # No terminal and no --yes: refused, nothing deleted.
    line = one_line_error(td("client", "delete", "eve"))
    assert "--yes" in line
    assert {c["name"] for c in tables(td)["client"]} == {"Eve Stone", "Fay Holt"}
    result = ok(td("client", "delete", "eve", "--yes"))
    assert "Deleted Eve Stone with 0 sessions" in text(result)[1]
    assert [c["name"] for c in tables(td)["client"]] == ["Fay Holt"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("client", "add", " "), "name is empty"),
        (("client", "add", "Gus", "--ideal-gap", "10", "--max-gap", "5"), "shorter than"),
        (("client", "add", "Gus", "--started", "03/04"), "--started"),
        (("client", "add", "Gus", "--last-contact", "tomorrow"), "future"),
        (("client", "add", "Gus", "--program", "nope"), "no program called 'nope'"),
        (("client", "add", "Gus", "--email", "not-an-address"), "not an email"),
        (("client", "add", "Gus", "--status", "archived"), "invalid choice"),
        (("client", "add", "x" * 121), "longer than 120"),
        (("client", "edit", "nobody", "--max-gap", "9"), "no client called 'nobody'"),
        (("client", "edit", "hal"), "nothing to change"),
        (("client", "show", "zz"), "no client called"),
    ],
)
def test_errors_are_one_line_and_write_nothing(td, args, says):
    ok(td("client", "add", "Hal Berg"))
    before = tables(td)
    line = one_line_error(td(*args))
    assert says in line
    assert tables(td) == before


def test_an_ambiguous_name_lists_the_matches(td):
    ok(td("client", "add", "Ann Lee"))
    ok(td("client", "add", "Joanne Park"))
    line = one_line_error(td("client", "archive", "nn"))
    assert "names 2 clients" in line and "Ann Lee (id" in line
    assert {c["status"] for c in tables(td)["client"]} == {"active"}


def test_a_name_with_control_characters_is_kept_and_shown_visibly(td):
    ok(td("client", "add", "Eve\x1b[31mRed"))
    out = ok(td("client", "list")).stdout.decode()
    assert "\x1b" not in out and "Eve\\x1b[31mRed" in out
    assert show(td, "eve")["name"] == "Eve\x1b[31mRed"
    err = text(ok(td("client", "pause", "eve")))[1]
    assert "\x1b" not in err
