"""Clarity of process, templates: a journey written as TOML, read, checked, imported, shown.

A coach can start from our templates in assets/programs, write their own, and send a
prospective client a one-page description of the journey (`program show --markdown`).
A template that is wrong says where: the file, the line and the key.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from peewee import fn

from trustdesk.literal import for_terminal, needs_escape
from trustdesk.store.models import Client, Coach, Program, Stage, db
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import assets_dir, plural, tidy

PROGRAM_KEYS = {"name", "summary", "typical_sessions", "stages"}
STAGE_KEYS = {"name", "purpose", "typical_sessions", "asks_of_client"}
MAX_SESSIONS = 500


class TemplateError(ValueError):
    """A template that cannot be used; the message names the place and the key."""


@dataclass(frozen=True)
class StageTemplate:
    name: str
    purpose: str
    typical_sessions: int
    asks_of_client: str


@dataclass(frozen=True)
class ProgramTemplate:
    """A program as a template; `key` is its file name without .toml."""

    key: str
    name: str
    summary: str
    typical_sessions: int
    stages: tuple[StageTemplate, ...]


# --- reading ------------------------------------------------------------------------


class _Locator:
    """Finds the line of a key in the TOML text, for messages a coach can act on."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.stage_headers = [
            i + 1 for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*stages\s*\]\]", line)
        ]

    def _span(self, stage: int | None) -> tuple[int, int]:
        if stage is None:
            end = self.stage_headers[0] - 1 if self.stage_headers else len(self.lines)
            return 1, end
        start = self.stage_headers[stage - 1]
        end = self.stage_headers[stage] - 1 if stage < len(self.stage_headers) else len(self.lines)
        return start, end

    def line_of(self, key: str, stage: int | None) -> int:
        start, end = self._span(stage)
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number in range(start, end + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return start


def parse_template(text: str, *, source: str = "template", key: str = "") -> ProgramTemplate:
    """Read and check one program template; every problem names its line and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}") from None
    where = _Locator(text)

    def fail(message: str, item: str, stage: int | None = None) -> TemplateError:
        line = where.line_of(item, stage)
        place = f"stage {stage}, " if stage else ""
        return TemplateError(f"{source}, line {line}: {place}{item} {message}")

    def text_of(table: dict, item: str, stage: int | None = None) -> str:
        value = table.get(item)
        if value is None:
            raise fail("is missing", item, stage)
        if not isinstance(value, str) or not value.strip():
            raise fail("must be some text", item, stage)
        return tidy(value)

    def count_of(table: dict, item: str, stage: int | None = None) -> int:
        value = table.get(item)
        if value is None:
            raise fail("is missing", item, stage)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SESSIONS:
            raise fail(f"must be a whole number from 1 to {MAX_SESSIONS}", item, stage)
        return value

    for unknown in sorted(set(data) - PROGRAM_KEYS):
        raise fail("is not a key a program has", unknown)
    stages_data = data.get("stages")
    if not isinstance(stages_data, list) or not stages_data:
        raise TemplateError(f"{source}: a program needs at least one [[stages]] table")
    stages = []
    for n, stage in enumerate(stages_data, start=1):
        for unknown in sorted(set(stage) - STAGE_KEYS):
            raise fail("is not a key a stage has", unknown, n)
        stages.append(
            StageTemplate(
                name=text_of(stage, "name", n),
                purpose=text_of(stage, "purpose", n),
                typical_sessions=count_of(stage, "typical_sessions", n),
                asks_of_client=text_of(stage, "asks_of_client", n),
            )
        )
    names = [s.name.casefold() for s in stages]
    for n, name in enumerate(names, start=1):
        if names.index(name) != n - 1:
            raise fail("repeats the name of an earlier stage", "name", n)
    return ProgramTemplate(
        key=key,
        name=text_of(data, "name"),
        summary=text_of(data, "summary"),
        typical_sessions=count_of(data, "typical_sessions"),
        stages=tuple(stages),
    )


def read_template_file(path: Path) -> ProgramTemplate:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"{path} is not UTF-8 text") from None
    return parse_template(text, source=path.name, key=path.stem)


def program_templates() -> tuple[ProgramTemplate, ...]:
    """The starter programs we ship, in file-name order so every reader sees the same order."""
    folder = assets_dir() / "programs"
    entries = sorted(
        (e for e in folder.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
    )
    templates = tuple(
        parse_template(
            e.read_text(encoding="utf-8"),
            source=f"programs/{e.name}",
            key=e.name.removesuffix(".toml"),
        )
        for e in entries
    )
    if not templates:
        raise TemplateError("no program templates were found in assets/programs")
    return templates


# --- writing ------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string that reads back as exactly `text`."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif needs_escape(ch):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def template_to_toml(template: ProgramTemplate) -> str:
    lines = [
        f"name = {toml_string(template.name)}",
        f"summary = {toml_string(template.summary)}",
        f"typical_sessions = {template.typical_sessions}",
    ]
    for stage in template.stages:
        lines += [
            "",
            "[[stages]]",
            f"name = {toml_string(stage.name)}",
            f"purpose = {toml_string(stage.purpose)}",
            f"typical_sessions = {stage.typical_sessions}",
            f"asks_of_client = {toml_string(stage.asks_of_client)}",
        ]
    return "\n".join(lines) + "\n"


# --- programs in the database ---------------------------------------------------------


def find_program(coach: Coach, name: str) -> Program | None:
    """A program by name, in any case (compared in Python: SQL LOWER() folds ASCII only)."""
    wanted = name.strip().casefold()
    for program in Program.select().where(Program.coach == coach):
        if program.name.casefold() == wanted:
            return program
    return None


def import_template(coach: Coach, template: ProgramTemplate) -> int:
    """Add a program and its stages in one transaction; a program of that name is refused."""
    if find_program(coach, template.name) is not None:
        raise TemplateError(f"a program called {template.name!r} already exists")
    with db.atomic():
        program = Program.create(
            coach=coach,
            name=template.name,
            summary=template.summary,
            typical_sessions=template.typical_sessions,
        )
        for position, stage in enumerate(template.stages, start=1):
            Stage.create(
                coach=coach,
                program=program,
                position=position,
                name=stage.name,
                purpose=stage.purpose,
                typical_sessions=stage.typical_sessions,
                asks_of_client=stage.asks_of_client,
            )
    return program.id


def template_of(program: Program) -> ProgramTemplate:
    stages = Stage.select().where(Stage.program == program).order_by(Stage.position)
    return ProgramTemplate(
        key="",
        name=program.name,
        summary=program.summary,
        typical_sessions=program.typical_sessions,
        stages=tuple(
            StageTemplate(s.name, s.purpose, s.typical_sessions, s.asks_of_client) for s in stages
        ),
    )


@dataclass(frozen=True)
class ProgramListing:
    name: str
    stages: int
    typical_sessions: int
    active_clients: int


def program_listing(coach: Coach) -> list[ProgramListing]:
    stage_count = Stage.select(fn.COUNT(Stage.id)).where(Stage.program == Program.id)
    active = Client.select(fn.COUNT(Client.id)).where(
        (Client.program == Program.id) & (Client.status == ClientStatus.ACTIVE)
    )
    query = (
        Program.select(Program.name, stage_count, Program.typical_sessions, active)
        .where(Program.coach == coach)
        .order_by(fn.LOWER(Program.name))
    )
    return [
        ProgramListing(n, int(s or 0), int(t or 0), int(a or 0)) for n, s, t, a in query.tuples()
    ]


# --- a page for a prospective client ----------------------------------------------------


def _md(text: str) -> str:
    """Text as Markdown shows it literally: emphasis, links, HTML and controls escaped."""
    escaped = re.sub(r"([\\`*_\[\]<>|])", r"\\\1", for_terminal(text))
    # A paragraph that starts like a heading, quote or list item is kept a paragraph.
    escaped = re.sub(r"(?m)^([#>+-])", r"\\\1", escaped)
    return re.sub(r"(?m)^(\d+)\.", r"\1\\.", escaped)


def journey_markdown(template: ProgramTemplate) -> str:
    """One page that explains the journey to someone deciding whether to begin it."""
    lines = [
        f"# {_md(template.name)}",
        "",
        _md(template.summary),
        "",
        f"The journey has {plural(len(template.stages), 'stage')} and usually takes about "
        f"{plural(template.typical_sessions, 'session')}. You will always know which stage "
        "we are in, what it is for, and what I will ask of you between sessions.",
    ]
    for number, stage in enumerate(template.stages, start=1):
        lines += [
            "",
            f"## {number}. {_md(stage.name)}",
            "",
            f"*About {plural(stage.typical_sessions, 'session')}.*",
            "",
            _md(stage.purpose),
            "",
            f"**What I will ask of you:** {_md(stage.asks_of_client)}",
        ]
    return "\n".join(lines) + "\n"


def journey_text(template: ProgramTemplate) -> str:
    lines = [template.name, "", template.summary, ""]
    for number, stage in enumerate(template.stages, start=1):
        lines.append(f"{number}. {stage.name} ({plural(stage.typical_sessions, 'session')})")
    return "\n".join(lines) + "\n"


# --- the results and the references behind a program --------------------------------------


@dataclass(frozen=True)
class ProgramResult:
    """An outcome a client reached on the program, and how long after starting: no name."""

    title: str
    days_taken: int


@dataclass(frozen=True)
class ProgramReference:
    """A client who agreed to be a reference, and how they agreed to be contacted."""

    name: str
    contact: str


@dataclass(frozen=True)
class ProgramStory:
    results: tuple[ProgramResult, ...]
    references: tuple[ProgramReference, ...]


THROUGH_ME = "an introduction through me"
MOST_RESULTS = 12  # a page, not a report: the most recent ones


def program_story(coach: Coach, program: Program) -> ProgramStory:
    """What clients on `program` reached (newest first) and who of them vouches for it.

    Prospects count for neither: they have not begun. A reference is named with the way
    they said they like to be reached, if the practice records one, else through the coach.
    """
    from trustdesk.store.models import Outcome

    begun = (
        (Client.coach == coach)
        & (Client.program == program)
        & (Client.status != ClientStatus.PROSPECT.value)
    )
    rows = (
        Outcome.select(Outcome.title, Outcome.achieved_on, Client.started_on)
        .join(Client)
        .where(begun & (Outcome.coach == coach))
        .order_by(Outcome.achieved_on.desc(), Outcome.id.desc())
        .limit(MOST_RESULTS)
        .tuples()
    )
    results = tuple(
        ProgramResult(title, max(0, (_day(achieved) - _day(started)).days))
        for title, achieved, started in rows
    )
    # How a client likes to be reached, where the practice's schema keeps it.
    preference = getattr(Client, "contact_preferences", None)
    columns = [Client.name] + ([preference] if preference is not None else [])
    consenting = (
        Client.select(*columns)
        .where(begun & (Client.reference_consent == True))  # noqa: E712 - SQL, not Python
        .order_by(Client.sort_name, Client.name, Client.id)
        .tuples()
    )
    references = tuple(
        ProgramReference(row[0], (row[1].strip() if len(row) > 1 and row[1] else "") or THROUGH_ME)
        for row in consenting
    )
    return ProgramStory(results, references)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def time_taken(days: int) -> str:
    """'in the first week', 'after 3 weeks', 'after 5 months': as a prospect would say it."""
    if days < 7:
        return "in the first week"
    if days < 9 * 7:
        return f"after {plural(days // 7, 'week')}"
    return f"after {plural(round(days / 30.44), 'month')}"


def story_markdown(story: ProgramStory) -> str:
    """The results and references, as Markdown to follow the journey; nothing if neither."""
    lines: list[str] = []
    if story.results:
        lines += ["", "## What clients reached", ""]
        lines += [f"- {_md(r.title)} ({time_taken(r.days_taken)})" for r in story.results]
    if story.references:
        lines += [
            "",
            "## Talk to a past client",
            "",
            "These clients agreed to tell you about their journey:",
            "",
        ]
        lines += [f"- {_md(r.name)}: {_md(r.contact)}" for r in story.references]
    return "\n".join(lines) + "\n" if lines else ""


def program_page_markdown(template: ProgramTemplate, story: ProgramStory | None = None) -> str:
    """The page for a prospective client: the journey, then (if given) results and references."""
    page = journey_markdown(template)
    return page + story_markdown(story) if story is not None else page


def program_page_html(template: ProgramTemplate, story: ProgramStory | None = None) -> str:
    """The same page as one HTML file; raw HTML typed in a program is shown, never run."""
    import html

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).render(program_page_markdown(template, story))
    title = html.escape(for_terminal(template.name))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
