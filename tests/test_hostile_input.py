"""Hostile text in every field a coach can fill: stored exactly, shown literally.

A client's name, a promise, a touch's summary or a note can hold Rich markup, ANSI and
OSC escape sequences, NUL and other control characters, right-to-left overrides or a
100,000-character paste. Whatever it is, what comes back out of the database is what
went in, and what reaches the screen cannot drive the terminal or the markup parser.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE, TODAY, delete_every_row
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rich.text import Text

from trustdesk.literal import needs_escape, visible
from trustdesk.store import Client, Commitment, Outcome, Prompt, Touch
from trustdesk.trust import contact, journey, promises, prompts
from trustdesk.trust.common import MAX_TEXT, ActionError
from trustdesk.trust.notes import add_note, read_note
from trustdesk.vault import Vault

DAY = dt.date.fromisoformat(TODAY)

NASTY = [
    "[b]bold[/b] [link=file:///etc/passwd]click[/link] [/]",
    "\x1b[2J\x1b[31mred\x1b[0m",
    "\x1b]52;c;SGVsbG8=\x07",  # OSC 52: write to the clipboard
    "\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x00nul\x00",
    "\u202eevil\u202c",  # right-to-left override
    "line\r\nbreak\u2028sep\u2029para",
    "\x7f\x9b31m",  # DEL and a C1 CSI
    "🙂\u200d🙃 é\u0301",
    '=HYPERLINK("http://x")',
]

hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=1, max_size=200),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=20), min_size=1, max_size=6).map("".join),
).filter(lambda s: s.strip() != "")

PROPERTY = hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def vault(coach):
    v = Vault(coach)
    v.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
    return v


@pytest.fixture
def ann(coach):
    return Client.create(coach=coach, name="Ann", sort_name="ann", started_on=DAY).id


@PROPERTY
@given(text=hostile)
def test_touches_and_promises_keep_exactly_what_was_typed(coach, ann, text):
    if "\x00" in text:  # the one character PostgreSQL cannot keep: refused on both backends
        with pytest.raises(ActionError, match="NUL character") as caught:
            contact.log_touch(coach, ann, channel="email", direction="outbound", summary=text,
                              occurred_on=DAY, today=DAY)  # fmt: skip
        assert "\n" not in str(caught.value)
        assert not Touch.select().where(Touch.summary == text.replace("\x00", "")).exists()
        return
    touch = contact.log_touch(
        coach, ann, channel="email", direction="outbound", summary=text, occurred_on=DAY,
        today=DAY,
    )  # fmt: skip
    promise = promises.add_commitment(
        coach, ann, owner="client", title=text, due_on=DAY, promised_on=DAY
    )
    assert Touch.get_by_id(touch).summary == text
    assert Commitment.get_by_id(promise).title == text
    promises.drop(coach, promise, text, DAY)
    assert Commitment.get_by_id(promise).reason == text


@PROPERTY
@given(text=hostile.filter(lambda s: len(s) <= 200))
def test_outcomes_and_prompts_keep_what_was_typed(coach, ann, text):
    """Titles lose only the spaces at their ends; everything between is kept."""
    if "\x00" in text:
        with pytest.raises(ActionError, match="NUL character"):
            journey.add_outcome(coach, ann, DAY, text, text, today=DAY)
        with pytest.raises(ActionError, match="NUL character"):
            prompts.add_prompt(coach, "depth", text, text)
        return
    outcome = journey.add_outcome(coach, ann, DAY, text, text, today=DAY)
    stored = Outcome.get_by_id(outcome)
    assert stored.title.strip() == text.strip() and stored.detail.strip() == text.strip()
    prompt = prompts.add_prompt(coach, "depth", text, text)
    stored = Prompt.get_by_id(prompt)
    assert (stored.title, stored.body) == (text.strip(), text.strip())


@PROPERTY
@given(text=hostile | st.just("x" * 100_000))
def test_notes_keep_exactly_what_was_typed(coach, ann, vault, text):
    note = add_note(vault, ann, "session", text, written_on=DAY)
    assert read_note(vault, note).body == text


def test_a_hundred_thousand_characters_are_refused_in_one_line_and_nothing_is_stored(coach, ann):
    huge = "y" * 100_000
    assert len(huge) > MAX_TEXT
    touches = Touch.select().count()
    with pytest.raises(ActionError) as caught:
        contact.log_touch(
            coach, ann, channel="email", direction="outbound", summary=huge, occurred_on=DAY,
            today=DAY,
        )  # fmt: skip
    assert "\n" not in str(caught.value) and "longer than" in str(caught.value)
    assert Touch.select().count() == touches


@hsettings(max_examples=300, deadline=None)
@given(text=st.text() | st.sampled_from(NASTY))
def test_what_is_shown_cannot_drive_the_terminal_or_the_markup(text):
    shown = visible(text)
    assert not any(needs_escape(ch) for ch in shown)
    assert "\x1b" not in shown and "\x00" not in shown and "\x9b" not in shown
    # Every character that is safe to show is still there, in order.
    kept = [ch for ch in text if not needs_escape(ch)]
    it = iter(shown)
    assert all(ch in it for ch in kept)
    # Shown through rich.text.Text, markup is text: nothing is parsed into a style.
    rendered = Text(shown)
    assert rendered.plain == shown and not rendered.spans
    # Only the characters that could move the cursor or reorder the line are escaped.
    if all(not needs_escape(ch) for ch in text):
        assert shown == text
    for ch in shown:
        assert unicodedata.category(ch) not in ("Cc", "Zl", "Zp")


@PROPERTY
@given(
    rows=st.lists(
        st.tuples(
            hostile.filter(lambda s: "\x00" not in s and len(s) <= 200),
            st.integers(min_value=0, max_value=3),  # extra values beyond the header
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda r: r[0].strip().casefold(),
    ),
    bom=st.booleans(),
)
def test_a_csv_imports_whole_or_not_at_all_with_every_bad_line_named(coach, rows, bom):
    import csv
    import io

    from trustdesk.config import Settings
    from trustdesk.importer import ImportRejected, import_clients
    from trustdesk.trust.clients import MAX_NAME

    delete_every_row(Client)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["name", "email"])
    # Each row has its own address: two rows sharing one are a duplicate, named as such.
    for i, (name, extra) in enumerate(rows):
        writer.writerow([name, f"client{i}@example.org", *(["more"] * extra)])
    data = ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")
    # A row is bad when it has values beyond the header or a name longer than a form takes.
    bad = {i for i, (name, extra) in enumerate(rows) if extra or len(name.strip()) > MAX_NAME}
    try:
        result = import_clients(data, coach=coach, today=DAY, settings=Settings())
    except ImportRejected as exc:
        assert bad, exc.problems
        assert Client.select().count() == 0  # nothing partially imported
        assert len({p.line for p in exc.problems}) == len(bad)
        for problem in exc.problems:
            assert "\n" not in str(problem) and "\x1b" not in str(problem)
        return
    assert not bad
    assert result.imported == len(rows)
    stored = [n for (n,) in Client.select(Client.name).order_by(Client.id).tuples()]
    assert stored == [name for name, _ in rows]
