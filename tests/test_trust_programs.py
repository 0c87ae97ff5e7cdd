"""Program templates: they read back as written, and a wrong one says where it is wrong."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from helpers import one_line_error, text
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.store import Program, Stage
from trustdesk.trust.journey.templates import (
    ProgramTemplate,
    StageTemplate,
    TemplateError,
    import_template,
    journey_markdown,
    parse_template,
    program_templates,
    template_of,
    template_to_toml,
)

GOOD = textwrap.dedent(
    """\
    name = "Team Lead Start"
    summary = "The first hundred days of leading a team."
    typical_sessions = 6

    [[stages]]
    name = "Arrive"
    purpose = "Listen before changing anything."
    typical_sessions = 2
    asks_of_client = "Hold one-to-ones with everyone."

    [[stages]]
    name = "Act"
    purpose = "Make two visible improvements."
    typical_sessions = 4
    asks_of_client = "Pick the improvements with the team."
    """
)


def test_the_starter_templates_round_trip():
    templates = program_templates()
    assert len(templates) >= 3
    for template in templates:
        again = parse_template(template_to_toml(template), key=template.key)
        assert again == template


def test_a_good_template_reads_as_written():
    template = parse_template(GOOD, source="team.toml")
    assert template.name == "Team Lead Start"
    assert [s.name for s in template.stages] == ["Arrive", "Act"]
    assert template.stages[1].typical_sessions == 4


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace('name = "Arrive"\n', ""), "line 5: stage 1, name is missing"),
        (
            lambda t: t.replace("typical_sessions = 4", "typical_sessions = 0"),
            "line 14: stage 2, typical_sessions must be a whole number",
        ),
        (
            lambda t: t.replace("typical_sessions = 4", 'typical_sessions = "four"'),
            "line 14: stage 2, typical_sessions must be a whole number",
        ),
        (
            lambda t: t.replace('purpose = "Make', 'purpose = "  "\nnotes = "x"\nx = "Make'),
            "stage 2, notes is not a key a stage has",
        ),
        (lambda t: t.replace("summary =", "summery ="), "line 2: summery is not a key"),
        (lambda t: t.replace('name = "Act"', 'name = "arrive"'), "line 12: stage 2, name repeats"),
        (lambda t: t.replace("typical_sessions = 6", "typical_sessions = 6\n["), "not valid TOML"),
        (lambda t: t.split("[[stages]]")[0], "at least one [[stages]] table"),
    ],
)
def test_a_malformed_template_names_the_line_and_key(change, expected):
    with pytest.raises(TemplateError) as err:
        parse_template(change(GOOD), source="team.toml")
    assert expected in str(err.value)
    assert str(err.value).startswith("team.toml")
    assert "\n" not in str(err.value)


printable = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), min_size=1
).filter(lambda s: s.strip() and s == s.strip() and "\n\n" not in s and "  " not in s)


@given(name=printable, purpose=printable)
def test_any_text_survives_the_trip_through_toml(name, purpose):
    template = ProgramTemplate(
        key="",
        name=" ".join(name.split()),
        summary="s",
        typical_sessions=3,
        stages=(StageTemplate(" ".join(name.split()), " ".join(purpose.split()), 1, "a"),),
    )
    assert parse_template(template_to_toml(template)) == template


def test_import_adds_the_program_and_its_stages_once(coach):
    template = parse_template(GOOD)
    program_id = import_template(coach, template)
    stages = list(Stage.select().where(Stage.program == program_id).order_by(Stage.position))
    assert [(s.position, s.name) for s in stages] == [(1, "Arrive"), (2, "Act")]
    assert template_of(Program.get_by_id(program_id)).stages == template.stages
    with pytest.raises(TemplateError, match="already exists"):
        import_template(coach, template)
    assert Program.select().count() == 1


def test_markdown_is_a_page_for_a_prospective_client():
    template = parse_template(GOOD.replace("Listen before", "Listen *before* [anything]"))
    page = journey_markdown(template)
    assert page.startswith("# Team Lead Start\n")
    assert "## 1. Arrive" in page and "## 2. Act" in page
    assert "**What I will ask of you:** Hold one-to-ones with everyone." in page
    assert "Listen \\*before\\* \\[anything\\]" in page
    assert "about 6 sessions" in page


# --- the command line --------------------------------------------------------------------


def test_program_commands(initialised, tmp_path):
    listing = text(initialised("program", "list"))[0]
    assert "You have no programs yet." in listing and "leadership" in listing

    assert initialised("program", "import", "leadership").returncode == 0
    path = tmp_path / "team.toml"
    path.write_text(GOOD)
    result = initialised("program", "import", str(path))
    assert result.returncode == 0, text(result)
    listing = text(initialised("program", "list"))[0]
    assert "Team Lead Start: 2 stages, about 6 sessions, 0 active clients" in listing

    page = text(initialised("program", "show", "team lead start", "--markdown"))[0]
    assert page.startswith("# Team Lead Start")
    exported = text(initialised("program", "show", "Team Lead Start", "--toml"))[0]
    assert parse_template(exported) == parse_template(GOOD)

    again = one_line_error(initialised("program", "import", str(path)))
    assert "already exists" in again
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("typical_sessions = 4", "typical_sessions = -1"))
    assert "bad.toml, line 14: stage 2, typical_sessions" in one_line_error(
        initialised("program", "import", str(bad))
    )
    assert "no program called" in one_line_error(initialised("program", "show", "Nope"))
    assert "neither a file nor a starter" in one_line_error(
        initialised("program", "import", "nothing-here")
    )
    data = json.loads(initialised("export").stdout)
    assert {p["name"] for p in data["tables"]["program"]} == {
        "Team Lead Start",
        "Leadership Engagement",
    }
    assert os.path.exists(path)


# --- the page for a prospect: results and references ---------------------------------------


def _program_with_history(coach):
    """Team Lead Start with four clients: two reached outcomes, one is a prospect."""
    import datetime as dt

    from trustdesk.store import Client, Outcome

    program_id = import_template(coach, parse_template(GOOD))
    made = {}
    for name, status, consent in (
        ("Ann Secret", "completed", True),
        ("Ben <b>Bold</b>", "active", True),
        ("Cleo Quiet", "completed", False),
        ("Pat Prospect", "prospect", True),
    ):
        made[name] = Client.create(
            coach=coach,
            name=name,
            status=status,
            program=program_id,
            started_on=dt.date(2025, 1, 6),
            reference_consent=consent,
        )
    for client, title, day in (
        ("Ann Secret", "Promoted to *head* of sales", dt.date(2025, 7, 1)),
        ("Cleo Quiet", "Ran her first offsite", dt.date(2025, 2, 10)),
        ("Pat Prospect", "Not begun: never shown", dt.date(2025, 3, 1)),
    ):
        Outcome.create(coach=coach, client=made[client], achieved_on=day, title=title)
    Client.create(coach=coach, name="Elsewhere", started_on="2025-01-01", reference_consent=True)
    return Program.get_by_id(program_id)


def test_the_story_has_results_without_names_and_consenting_references(coach):
    from trustdesk.trust.journey.templates import THROUGH_ME, program_story, time_taken

    story = program_story(coach, _program_with_history(coach))
    assert [(r.title, time_taken(r.days_taken)) for r in story.results] == [
        ("Promoted to *head* of sales", "after 6 months"),
        ("Ran her first offsite", "after 5 weeks"),
    ]
    assert [(r.name, r.contact) for r in story.references] == [
        ("Ann Secret", THROUGH_ME),
        ("Ben <b>Bold</b>", THROUGH_ME),
    ]


def test_time_taken_reads_as_people_say_it():
    from trustdesk.trust.journey.templates import time_taken

    assert [time_taken(d) for d in (0, 6, 7, 20, 62, 63, 365)] == [
        "in the first week",
        "in the first week",
        "after 1 week",
        "after 2 weeks",
        "after 8 weeks",
        "after 2 months",
        "after 12 months",
    ]


def test_the_page_lists_results_and_references_literally(coach):
    from trustdesk.trust.journey.templates import (
        program_page_html,
        program_page_markdown,
        program_story,
    )

    program = _program_with_history(coach)
    template, story = template_of(program), program_story(coach, program)
    page = program_page_markdown(template, story)
    assert page.startswith(journey_markdown(template))
    assert "## What clients reached" in page
    assert "- Promoted to \\*head\\* of sales (after 6 months)" in page
    assert "Ann Secret" in page and "Cleo" not in page and "Prospect" not in page
    assert program_page_markdown(template, None) == journey_markdown(template)
    html = program_page_html(template, story)
    assert html.startswith("<!DOCTYPE html>") and "<title>Team Lead Start</title>" in html
    assert "<h2>What clients reached</h2>" in html
    assert "<li>Promoted to *head* of sales (after 6 months)</li>" in html
    assert "Ben &lt;b&gt;Bold&lt;/b&gt;" in html and "<b>" not in html


def test_program_show_with_results_and_without(initialised, practice_target):
    from trustdesk.store import current_coach, open_database

    database = open_database(practice_target)
    try:
        _program_with_history(current_coach())
    finally:
        database.close()
    page = text(initialised("program", "show", "team lead start", "--markdown"))[0]
    assert "## What clients reached" in page and "## Talk to a past client" in page
    assert "Ann Secret: an introduction through me" in page
    bare = text(initialised("program", "show", "team lead start", "--markdown", "--no-results"))[0]
    assert bare.startswith("# Team Lead Start") and "What clients reached" not in bare
    result = initialised("program", "show", "team lead start", "--html")
    assert result.returncode == 0, text(result)
    assert "<h2>Talk to a past client</h2>" in text(result)[0]
    starter = text(initialised("program", "show", "leadership", "--html"))[0]
    assert "<h1>" in starter and "What clients reached" not in starter
    both = one_line_error(initialised("program", "show", "leadership", "--html", "--toml"))
    assert "not allowed with" in both
