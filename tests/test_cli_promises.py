"""`trustdesk promise ...` and `trustdesk touch`, through a real process, on both backends.

Each error is one line and writes nothing; what was written is read back with `export`.
"""

from __future__ import annotations

import json

import pytest
from helpers import TODAY, one_line_error, text

ON_TODAY = {"TRUSTDESK_TODAY": TODAY}  # a Monday


@pytest.fixture
def td(initialised, tmp_path):
    """The practice with two clients, run on the fixed Monday."""
    clients = tmp_path / "clients.csv"
    clients.write_text("name,email\nAnn Lee,ann@example.com\nBo Chen,\n")
    assert initialised("import", str(clients)).returncode == 0

    def run(*args, env=None):
        return initialised(*args, env={**ON_TODAY, **(env or {})})

    return run


def table(td, name):
    result = td("export", "--json")
    assert result.returncode == 0, text(result)
    return json.loads(result.stdout)["tables"][name]


def promises(td):
    return {row["id"]: row for row in table(td, "commitment")}


def ok(result):
    assert result.returncode == 0, text(result)
    return text(result)[0]


def test_add_then_list_with_json(td):
    out = ok(td("promise", "add", "ann", "Send the reading list", "--due", "fri"))
    assert "You owe Ann Lee: Send the reading list, due Fri 20 Mar." in out
    added = json.loads(
        ok(
            td(
                "promise",
                "add",
                "Bo",
                "Book the check-up",
                "--due",
                "+2w",
                "--client-owes",
                "--json",
            )
        )
    )
    assert added["owner"] == "client" and added["due_on"] == "2026-03-30"
    assert added["client"] == "Bo Chen" and added["promised_on"] == TODAY

    rows = promises(td)
    assert {(r["owner"], r["title"], r["due_on"], r["status"]) for r in rows.values()} == {
        ("coach", "Send the reading list", "2026-03-20", "open"),
        ("client", "Book the check-up", "2026-03-30", "open"),
    }
    listed = json.loads(ok(td("promise", "list", "--json")))
    assert listed["today"] == TODAY
    assert [p["title"] for p in listed["promises"]] == [
        "Send the reading list",
        "Book the check-up",
    ]
    first = listed["promises"][0]
    assert set(first) == {
        "commitment_id", "client_id", "client", "owner", "title", "promised_on", "due_on",
        "overdue", "days_overdue", "days_left",
    }  # fmt: skip
    assert (first["overdue"], first["days_overdue"], first["days_left"]) == (False, None, 4)
    within = json.loads(ok(td("promise", "list", "--due-within", "7", "--json")))
    assert [p["title"] for p in within["promises"]] == ["Send the reading list"]
    only_bo = json.loads(ok(td("promise", "list", "--client", "bo", "--json")))
    assert [p["client"] for p in only_bo["promises"]] == ["Bo Chen"]


def test_list_marks_the_overdue(td):
    ok(td("promise", "add", "ann", "Send the plan", "--due", "2026-03-17"))
    later = {"TRUSTDESK_TODAY": "2026-03-20"}
    out = ok(td("promise", "list", env=later))
    assert "3d late" in out and "Ann Lee: Send the plan" in out
    data = json.loads(ok(td("promise", "list", "--json", env=later)))
    assert data["promises"][0]["overdue"] is True
    assert data["promises"][0]["days_overdue"] == 3
    assert ok(td("promise", "list", "--client", "bo")) == "No open promises.\n"


def test_done_today_or_on_a_chosen_day(td):
    a = json.loads(ok(td("promise", "add", "ann", "One", "--due", "fri", "--json")))
    b = json.loads(ok(td("promise", "add", "ann", "Two", "--due", "fri", "--json")))
    assert "kept on Mon 16 Mar" in ok(td("promise", "done", str(a["commitment_id"])))
    ok(td("promise", "done", str(b["commitment_id"]), "--on", "today"))
    rows = promises(td)
    assert rows[a["commitment_id"]]["status"] == "done"
    assert rows[a["commitment_id"]]["done_on"] == TODAY
    assert rows[b["commitment_id"]]["done_on"] == TODAY


def test_drop_and_renegotiate_record_why_and_who_asked(td):
    a = json.loads(ok(td("promise", "add", "ann", "One", "--due", "wed", "--json")))
    b = json.loads(ok(td("promise", "add", "bo", "Two", "--due", "wed", "--json")))
    ok(td("promise", "drop", str(a["commitment_id"]), "--reason", "no longer needed"))
    out = ok(
        td(
            "promise", "renegotiate", str(b["commitment_id"]), "--due", "+2w",
            "--reason", "away at a conference", "--asked-by", "client",
        )
    )  # fmt: skip
    assert "renegotiated in time" in out
    rows = promises(td)
    assert (rows[a["commitment_id"]]["status"], rows[a["commitment_id"]]["reason"]) == (
        "dropped",
        "no longer needed",
    )
    old = rows[b["commitment_id"]]
    assert (old["status"], old["reason"], old["asked_by"]) == (
        "renegotiated",
        "away at a conference",
        "client",
    )
    (new,) = [r for r in rows.values() if r["renegotiated_from"] == b["commitment_id"]]
    assert (new["status"], new["due_on"]) == ("open", "2026-03-30")
    report = json.loads(ok(td("report", "--json")))
    assert report["follow_through"]["renegotiated"]["coach"] == {"in_time": 1, "total": 1}


@pytest.mark.parametrize(
    "args, words",
    [
        (("promise", "add", "nobody", "x", "--due", "fri"), "no client called"),
        (("promise", "add", "ann", "x", "--due", "03/12"), "--due"),
        (("promise", "add", "ann", "x", "--due", "yesterday"), "before the day it was promised"),
        (("promise", "add", "ann", "", "--due", "fri"), "is empty"),
        (("promise", "done", "999"), "no promise with id 999"),
        (("promise", "done", "{id}", "--on", "tomorrow"), "after today"),
        (("promise", "done", "{id}", "--on", "2026-01-01"), "before it was made"),
        (("promise", "drop", "{id}", "--reason", " "), "is empty"),
        (("promise", "renegotiate", "{id}", "--due", "2026-03-01", "--reason", "x"), "past"),
        (("promise", "renegotiate", "{id}", "--due", "fri", "--reason", "x"), "same as the old"),
        (("promise", "list", "--client", "zed"), "no client called"),
        (("touch", "nobody", "--channel", "email"), "no client called"),
        (("touch", "ann", "--channel", "email", "--on", "tomorrow"), "in the future"),
    ],
)
def test_each_error_is_one_line_and_writes_nothing(td, args, words):
    made = json.loads(ok(td("promise", "add", "ann", "Keep", "--due", "fri", "--json")))
    args = tuple(a.replace("{id}", str(made["commitment_id"])) for a in args)
    before = (promises(td), table(td, "touch"))
    line = one_line_error(td(*args))
    assert words in line
    assert (promises(td), table(td, "touch")) == before


def test_closing_a_closed_promise_is_refused(td):
    made = json.loads(ok(td("promise", "add", "ann", "Keep", "--due", "fri", "--json")))
    pid = str(made["commitment_id"])
    ok(td("promise", "done", pid))
    before = promises(td)
    for args in (("done", pid), ("drop", pid, "--reason", "x"),
                 ("renegotiate", pid, "--due", "+1w", "--reason", "x")):  # fmt: skip
        assert "already done" in one_line_error(td("promise", *args))
    assert promises(td) == before


def test_usage_mistakes_are_one_line(td):
    assert "--channel" in one_line_error(td("touch", "ann", "--channel", "fax"), code=2)
    one_line_error(td("promise", "renegotiate", "1", "--due", "fri", "--reason", "x",
                      "--asked-by", "boss"), code=2)  # fmt: skip
    one_line_error(td("promise", "done", "one"), code=2)
    assert table(td, "touch") == []


def test_touch_logs_a_contact_that_counts(td):
    out = ok(td("touch", "ann", "--channel", "call", "--in", "--summary", "a quick check-in"))
    assert out == "Logged a call from Ann Lee today.\n"
    data = json.loads(ok(td("touch", "bo", "--channel", "email", "--on", "2026-03-13", "--json")))
    assert data["direction"] == "outbound" and data["occurred_on"] == "2026-03-13"
    assert data["source"] == ""  # typed, not read from mail
    touches = sorted(table(td, "touch"), key=lambda t: t["id"])
    assert [(t["channel"], t["direction"], t["summary"], t["counts_for_cadence"])
            for t in touches] == [
        ("call", "inbound", "a quick check-in", True),
        ("email", "outbound", "", True),
    ]  # fmt: skip
