"""The prompt library, the coach's prompts, sending one and logging the reply, on a fixed clock."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from helpers import QueryCounter

from trustdesk.store.models import TRUST_HABITS, Client, Coach, Program, Prompt, Stage, Touch
from trustdesk.store.practice import delete_rows
from trustdesk.trust.common import ActionError
from trustdesk.trust.prompts import (
    NO_STAGE,
    AwaitingReply,
    PromptError,
    add_prompt,
    awaiting_reply,
    compose,
    edit_prompt,
    ensure_library,
    library,
    list_prompts,
    log_reply,
    parse_library,
    send_prompt,
)

D = dt.timedelta


def client(coach, today, name="Ann Lee", **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def prompt(coach, title="A question", body="What mattered this week, {first_name}?", **kw):
    return Prompt.get_by_id(add_prompt(coach, kw.pop("habit", "depth"), title, body, **kw))


def touch(coach, who, day, channel, direction, about=None):
    return Touch.create(
        coach=coach,
        client=who,
        occurred_on=day,
        channel=channel,
        direction=direction,
        prompt=about,
    )


def sent(coach, who, day, about):
    return touch(coach, who, day, "journal_prompt", "outbound", about)


def replied(coach, who, day, about):
    return touch(coach, who, day, "reply", "inbound", about)


def refused(call, *args, match: str, **kwargs) -> str:
    with pytest.raises(PromptError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(match, message), message
    return message


# --- the library file ---------------------------------------------------------------------


def test_the_library_has_at_least_six_questions_for_each_habit():
    prompts = library()
    for habit in TRUST_HABITS:
        assert sum(p.habit == habit for p in prompts) >= 6, habit
    titles = [p.title.casefold() for p in prompts]
    assert len(set(titles)) == len(titles)
    for p in prompts:
        assert p.title and p.body
        assert "\n" not in p.title
        # Only the two placeholders compose() fills; any other brace would reach the client.
        assert set(re.findall(r"\{[^}]*\}", p.body)) <= {"{first_name}", "{stage}"}, p.title
        assert "  " not in p.body  # wrapped TOML lines are joined


def test_the_library_uses_stage_hints_and_placeholders():
    prompts = library()
    hints = {p.stage_hint for p in prompts}
    assert {"start", "middle", "ending", ""} <= hints
    assert any("{first_name}" in p.body for p in prompts)
    assert any("{stage}" in p.body for p in prompts)


GOOD = """
[[prompts]]
habit = "contact"
title = "Hello"
body = "How are you?"
"""


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("[[prompts]\nhabit = 1", r"prompts\.toml is not valid TOML: .*line 1"),
        ("", r"no \[\[prompts\]\] tables"),
        ("title = 'x'", r"unknown key 'title'"),
        (GOOD.replace('"contact"', '"kindness"'), r"prompt 1 \('Hello'\): habit must be one of"),
        (GOOD.replace('habit = "contact"\n', ""), r"prompt 1 \('Hello'\): habit"),
        (GOOD.replace('body = "How are you?"', 'body = "  "'), r"prompt 1 \('Hello'\): body"),
        (GOOD.replace('title = "Hello"', "title = 3"), r"prompt 1: title must be text"),
        (GOOD + 'stagehint = "start"\n', r"prompt 1 \('Hello'\): unknown key 'stagehint'"),
        (GOOD + GOOD.replace("How", "Who"), r"prompt 2 \('Hello'\): title is the same"),
    ],
)
def test_a_malformed_library_names_the_entry_and_the_key(source, match):
    message = refused(parse_library, source, match=match)
    assert message.startswith("prompts.toml")


def test_a_good_library_parses_with_an_optional_stage_hint():
    (one,) = parse_library(GOOD)
    assert (one.habit, one.title, one.body, one.stage_hint) == (
        "contact",
        "Hello",
        "How are you?",
        "",
    )


def test_prompt_error_is_an_action_error_so_the_screens_report_it():
    assert issubclass(PromptError, ActionError)


# --- copying the library in ----------------------------------------------------------------


def test_ensure_library_copies_once(coach):
    added = ensure_library(coach)
    assert added == len(library())
    assert ensure_library(coach) == 0
    assert Prompt.select().where(Prompt.coach == coach).count() == len(library())
    stored = {(p.habit, p.title, p.body, p.stage_hint) for p in Prompt.select()}
    assert stored == {(t.habit, t.title, t.body, t.stage_hint) for t in library()}


def test_ensure_library_keeps_what_the_coach_already_has(coach):
    first = library()[0]
    mine = prompt(coach, title=first.title, body="My own words")
    assert ensure_library(coach) == len(library()) - 1
    assert Prompt.get_by_id(mine.id).body == "My own words"
    # A library prompt the coach renamed is not copied back under its old title.
    second = Prompt.get(Prompt.title == library()[1].title)
    edit_prompt(coach, second.id, title="Renamed by me")
    assert ensure_library(coach) == 0


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_each_coach_gets_their_own_copy(coach):
    other = Coach.create(name="Sam Other")
    assert ensure_library(coach) == len(library())
    assert ensure_library(other) == len(library())
    assert len(list_prompts(other)) == len(list_prompts(coach)) == len(library())


# --- the coach's own prompts -------------------------------------------------------------------


def test_list_prompts_by_habit_in_order(coach):
    ensure_library(coach)
    mine = add_prompt(coach, "clarity", "Mine", "Where are we?", "middle")
    items = list_prompts(coach)
    habits = [p.habit for p in items]
    assert habits == sorted(habits, key=TRUST_HABITS.index)
    clarity = list_prompts(coach, "clarity")
    assert {p.habit for p in clarity} == {"clarity"}
    assert clarity[-1].prompt_id == mine  # the library's order first, then the coach's own
    assert (clarity[-1].title, clarity[-1].body, clarity[-1].stage_hint) == (
        "Mine",
        "Where are we?",
        "middle",
    )
    refused(list_prompts, coach, "kindness", match="unknown habit 'kindness'")


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_add_and_edit_refuse_in_one_line(coach):
    refused(add_prompt, coach, "depth", "  ", "Body", match="the title is empty")
    refused(add_prompt, coach, "depth", "Title", "\n\t ", match="the question is empty")
    refused(add_prompt, coach, "kindness", "Title", "Body", match="unknown habit")
    refused(add_prompt, coach, "depth", "T" * 201, "Body", match="longer than 200")
    refused(add_prompt, coach, "depth", "Title", "B" * 4001, match="longer than 4000")
    assert Prompt.select().count() == 0

    mine = prompt(coach)
    refused(edit_prompt, coach, mine.id, title="", match="the title is empty")
    refused(edit_prompt, coach, mine.id, body=" ", match="the question is empty")
    refused(edit_prompt, coach, mine.id, habit="trust", match="unknown habit")
    refused(edit_prompt, coach, 999_999, title="X", match="not in your library")
    other = Coach.create(name="Sam Other")
    theirs = prompt(other, title="Theirs")
    refused(edit_prompt, coach, theirs.id, title="Mine now", match="not in your library")
    assert Prompt.get_by_id(theirs.id).title == "Theirs"


def test_edit_changes_only_what_is_given(coach):
    mine = prompt(coach, stage_hint="start")
    edit_prompt(coach, mine.id, title="  New title ")
    row = Prompt.get_by_id(mine.id)
    assert (row.title, row.body, row.habit, row.stage_hint) == (
        "New title",
        mine.body,
        "depth",
        "start",
    )
    edit_prompt(coach, mine.id, habit="contact", body="Another?", stage_hint="")
    row = Prompt.get_by_id(mine.id)
    assert (row.title, row.body, row.habit, row.stage_hint) == (
        "New title",
        "Another?",
        "contact",
        "",
    )


# --- composing ------------------------------------------------------------------------------------


def test_compose_fills_the_first_name_and_stage(coach, today):
    program = Program.create(coach=coach, name="Leadership")
    stage = Stage.create(coach=coach, program=program, position=2, name="Experiment")
    ann = client(coach, today, "Ann Lee", email="ann@example.com", program=program, stage=stage)
    p = prompt(coach, body="{first_name}, what is hard about {stage}? {first_name}!")
    message = compose(coach, p.id, ann.id)
    assert message.subject == p.title
    assert message.to_email == "ann@example.com"
    assert message.body.startswith("Hi Ann,\n\n")
    assert "Ann, what is hard about Experiment? Ann!" in message.body
    assert message.body.rstrip().endswith("Morgan Reyes")
    assert message.text == f"{message.subject}\n\n{message.body}"


def test_compose_without_a_stage_says_this_stage(coach, today):
    bo = client(coach, today, "Bo")
    p = prompt(coach, body="How is {stage} going?")
    message = compose(coach, p.id, bo.id)
    assert f"How is {NO_STAGE} going?" in message.body
    assert message.body.startswith("Hi Bo,")
    assert message.to_email == ""


def test_compose_keeps_what_was_typed_literally(coach, today):
    weird = client(coach, today, "[red]Eve[/red] \x1b[2J Doe")
    body = "[bold]Really[/bold]? {0} {first_name.__class__} {{stage}} $x :smile: {first_name}"
    p = prompt(coach, body=body)
    message = compose(coach, p.id, weird.id)
    assert message.body.startswith("Hi [red]Eve[/red],")
    assert (
        "[bold]Really[/bold]? {0} {first_name.__class__} {this stage} $x :smile: [red]Eve[/red]"
        in message.body
    )


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_compose_refuses_another_coachs_prompt_or_client(coach, today):
    ann = client(coach, today)
    other = Coach.create(name="Sam Other")
    theirs = prompt(other)
    their_client = client(other, today, "Zed")
    refused(compose, coach, theirs.id, ann.id, match="not in your library")
    refused(compose, coach, prompt(coach).id, their_client.id, match="no longer exists")


# --- sending and replies ------------------------------------------------------------------------


def test_send_logs_an_outbound_journal_prompt_linked_to_the_prompt(coach, today):
    ann = client(coach, today)
    p = prompt(coach, title="One good moment")
    touch_id = send_prompt(coach, p.id, ann.id, today)
    row = Touch.get_by_id(touch_id)
    assert (row.client_id, row.prompt_id, row.occurred_on) == (ann.id, p.id, today)
    assert (row.channel, row.direction, row.counts_for_cadence) == (
        "journal_prompt",
        "outbound",
        True,
    )
    assert row.summary == "One good moment"


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_send_refuses_what_is_not_the_coachs(coach, today):
    ann = client(coach, today)
    other = Coach.create(name="Sam Other")
    refused(send_prompt, coach, prompt(other).id, ann.id, today, match="not in your library")
    refused(send_prompt, coach, prompt(coach).id, 999_999, today, match="no longer exists")
    assert Touch.select().count() == 0


def test_a_reply_is_an_inbound_touch_linked_to_the_prompt(coach, today):
    ann = client(coach, today)
    p = prompt(coach, title="Energy check")
    send_prompt(coach, p.id, ann.id, today - D(days=3))
    touch_id = log_reply(coach, ann.id, p.id, today, "Feeling better: a 7")
    row = Touch.get_by_id(touch_id)
    assert (row.client_id, row.prompt_id, row.occurred_on) == (ann.id, p.id, today)
    assert (row.channel, row.direction, row.counts_for_cadence) == ("reply", "inbound", True)
    assert row.summary == "Feeling better: a 7"
    other_reply = Touch.get_by_id(log_reply(coach, ann.id, p.id, today))
    assert other_reply.summary == "Reply to: Energy check"


def test_a_reply_to_a_prompt_never_sent_to_that_client_is_refused(coach, today):
    ann, bo = client(coach, today, "Ann"), client(coach, today, "Bo")
    p = prompt(coach)
    refused(log_reply, coach, ann.id, p.id, today, match="never sent to this client")
    send_prompt(coach, p.id, bo.id, today)
    refused(log_reply, coach, ann.id, p.id, today, match="never sent to this client")
    # Sent only in the future (a wrong clock) is not sent yet.
    send_prompt(coach, p.id, ann.id, today + D(days=2))
    refused(log_reply, coach, ann.id, p.id, today, match="never sent to this client")
    refused(log_reply, coach, ann.id, p.id, today, "x" * 2001, match="longer than 2000")
    assert Touch.select().where(Touch.channel == "reply").count() == 0


# --- awaiting a reply ------------------------------------------------------------------------


def test_awaiting_reply_on_a_fixed_clock(coach, today):
    ann, bo, cy = (client(coach, today, n) for n in ("Ann Lee", "Bo Chan", "Cy Dale"))
    first, second, third = (prompt(coach, title=t) for t in ("First", "Second", "Third"))

    # Answered: a reply on the day it was sent counts.
    sent(coach, ann, today - D(days=4), first)
    replied(coach, ann, today - D(days=4), first)
    # A reply dated before the prompt was sent is not an answer to it.
    replied(coach, ann, today - D(days=9), second)
    sent(coach, ann, today - D(days=6), second)
    # A reply to another prompt is not an answer to this one.
    sent(coach, bo, today - D(days=10), first)
    replied(coach, bo, today - D(days=2), second)
    # Sent, answered, then sent again: awaiting again, from the second sending.
    sent(coach, cy, today - D(days=20), third)
    replied(coach, cy, today - D(days=15), third)
    sent(coach, cy, today - D(days=3), third)
    # Another client's reply does not answer this client's prompt.
    sent(coach, cy, today - D(days=1), first)
    replied(coach, ann, today, first)
    # Not prompts: an email, and a journal prompt with no prompt linked.
    touch(coach, bo, today - D(days=30), "email", "outbound")
    sent(coach, bo, today - D(days=30), None)

    waiting = awaiting_reply(coach, today)
    assert waiting == [
        AwaitingReply(bo.id, "Bo Chan", first.id, "First", today - D(days=10), 10),
        AwaitingReply(ann.id, "Ann Lee", second.id, "Second", today - D(days=6), 6),
        AwaitingReply(cy.id, "Cy Dale", third.id, "Third", today - D(days=3), 3),
        AwaitingReply(cy.id, "Cy Dale", first.id, "First", today - D(days=1), 1),
    ]
    assert awaiting_reply(coach, today, client_id=cy.id) == waiting[2:]
    assert awaiting_reply(coach, today, client_id=999_999) == []

    # Logging the reply takes it off the list.
    log_reply(coach, bo.id, first.id, today)
    assert [w.client_id for w in awaiting_reply(coach, today)] == [ann.id, cy.id, cy.id]


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_awaiting_reply_ignores_other_coaches_and_sends_after_today(coach, today):
    ann = client(coach, today)
    p = prompt(coach)
    sent(coach, ann, today + D(days=1), p)  # a clock that ran ahead
    other = Coach.create(name="Sam Other")
    zed, theirs = client(other, today, "Zed"), prompt(other)
    sent(other, zed, today - D(days=5), theirs)
    assert awaiting_reply(coach, today) == []
    assert [w.client_name for w in awaiting_reply(other, today)] == ["Zed"]


def test_a_deleted_prompt_is_no_longer_awaited(coach, today):
    ann = client(coach, today)
    p = prompt(coach)
    send_prompt(coach, p.id, ann.id, today)
    delete_rows(Prompt, Prompt.id == p.id)
    assert awaiting_reply(coach, today) == []


def _practice_with(coach, today, clients: int) -> None:
    prompts = [prompt(coach, title=f"P{i}") for i in range(3)]
    for n in range(clients):
        who = client(coach, today, f"Client {n:03d}")
        for i, p in enumerate(prompts):
            sent(coach, who, today - D(days=10 + i), p)
            if (n + i) % 2:
                replied(coach, who, today - D(days=5), p)


def test_awaiting_reply_runs_a_fixed_number_of_queries(database, coach, today):
    _practice_with(coach, today, 1)
    with QueryCounter(database) as few:
        small = awaiting_reply(coach, today)
    _practice_with(coach, today, 40)
    with QueryCounter(database) as many:
        large = awaiting_reply(coach, today)
    assert len(large) > len(small) > 0
    assert few.count == many.count == 1


def test_an_old_prompt_has_lapsed_and_an_inactive_client_is_not_waited_on(coach, today):
    from trustdesk.trust.prompts import REPLY_WINDOW_DAYS

    ann = client(coach, today)
    done = client(coach, today, name="Bo Done", status="completed")
    question = prompt(coach)
    sent(coach, ann, today - dt.timedelta(days=REPLY_WINDOW_DAYS), question)
    sent(coach, done, today - dt.timedelta(days=2), question)
    assert awaiting_reply(coach, today) == []
    sent(coach, ann, today - dt.timedelta(days=REPLY_WINDOW_DAYS - 1), question)
    (waiting,) = awaiting_reply(coach, today)
    assert waiting.client_id == ann.id and waiting.days_waiting == REPLY_WINDOW_DAYS - 1


def test_a_prompt_sent_by_email_is_logged_with_its_source_and_message_id(coach, today):
    """The columns mail sync matches replies by: a coach of a practice may write them too."""
    ann, asked = client(coach, today), prompt(coach)
    touch_id = send_prompt(
        coach, asked.id, ann.id, today, source="sent", message_id="<a@b.example>"
    )
    touch = Touch.get_by_id(touch_id)
    assert (touch.source, touch.message_id) == ("sent", "<a@b.example>")
    assert (touch.channel, touch.direction, touch.prompt_id) == (
        "journal_prompt",
        "outbound",
        asked.id,
    )
    by_hand = Touch.get_by_id(send_prompt(coach, asked.id, ann.id, today))
    assert (by_hand.source, by_hand.message_id) == ("", None)
    assert [w.prompt_id for w in awaiting_reply(coach, today, client_id=ann.id)] == [asked.id]
