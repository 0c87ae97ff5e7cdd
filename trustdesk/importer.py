"""Bringing clients in from a contacts file: a spreadsheet, an address book's export.

A coach moving from a spreadsheet should get every client in, or a list of exactly
what to fix and where: one bad row writes nothing, and each problem names the line
of the file where that client's record starts, so it can be found in an editor.

Reading the file (which format, which columns) is contact_files' work; this module
decides what each contact means for the practice: a new client, a client already
here (matched by any email, then by name without accents and case), a program and
stage to start in. Importing the same file again is refused with every match named,
unless the coach says to leave those clients (skip) or bring their changes (update).

History comes in with the clients, so that the first day does not open with every
client "quiet": a `last_contact_on` column logs one touch that counts on that day,
and a `next_session` column ("DATE HH:MM") schedules the next session.

Text is kept exactly as the coach typed it; screens make it safe to show. Values
quoted in problem reasons are escaped and shortened, so a reason is always one
plain line that is safe to print.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import peewee

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.contact_files import ContactFile, ContactRow, ImportProblem, read_contacts
from trustdesk.contact_files import shown as _shown
from trustdesk.store.database import StoreError, first_line
from trustdesk.store.models import (
    Client,
    Coach,
    Program,
    Session,
    Stage,
    StageChange,
    Touch,
    db,
    name_key,
    ways_to_reach,
)
from trustdesk.store.states import ClientStatus, SessionStatus
from trustdesk.trust.clients import MAX_CONTACT, MAX_CONTACTS, MAX_NAME, MAX_PREFERENCES
from trustdesk.trust.common import plural
from trustdesk.trust.dates import DateError, parse_moment

# The touch a `last_contact_on` cell logs: the file does not say how the coach was last in
# touch, so the summary says where the touch came from, and a call the coach made is the
# likeliest reading of "last contact" in a coach's own spreadsheet.
IMPORTED_TOUCH = {"channel": "call", "direction": "outbound", "summary": "imported: last contact"}
IMPORTED_SESSION_MINUTES = 60

# A gap longer than ten years is a typing slip, and it keeps values far from integer overflow.
LONGEST_GAP_DAYS = 3650

# What an import does with a row that is a client already.
REFUSE, SKIP, UPDATE = "refuse", "skip", "update"
# What a row comes to: a new client, changes to a client, or left as it is.
NEW, UPDATED, SKIPPED = "new", "update", "skip"

# Stay under SQLite's oldest limit of 999 bound values per statement.
_MAX_BOUND_VALUES = 900
# How many rows are checked between two steps of a progress bar.
_PROGRESS_STEP = 250

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PlannedRow:
    """One contact of the file and what the import does (or, in a dry run, would do) with it."""

    line: int
    name: str
    action: str  # NEW, UPDATED or SKIPPED
    email: str = ""
    phone: str = ""
    program: str = ""
    stage: str = ""
    status: str = ""
    # For a client already here: how the row was matched ("email", "name", "earlier
    # import") and that client's name as trustdesk has it.
    matched_by: str | None = None
    client_name: str | None = None


@dataclass(frozen=True)
class ImportResult:
    imported: int
    problems: tuple[ImportProblem, ...] = ()
    updated: int = 0
    skipped: int = 0
    kind: str = ""
    ignored: tuple[str, ...] = ()
    rows: tuple[PlannedRow, ...] = ()
    programs_added: tuple[str, ...] = ()
    dry_run: bool = False


class ImportCollided(StoreError):
    """Clients of the file were added while it was being imported, so nothing was written."""


class ClientChangedDuringImport(ImportCollided):
    """A client the import was to update was saved elsewhere after the import read it: the
    import is refused whole rather than written over what was saved (never tried again on
    its own, unlike a new client another import brought in first)."""


class ImportRejected(Exception):
    """The file had problems, so nothing was written; `problems` says what and where.

    `result` is what the import found (the rows it could read, what it would have done
    with them), for a caller that shows it all, such as `import --json`.
    """

    def __init__(self, problems: Iterable[ImportProblem], result: ImportResult | None = None):
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        self.result = result
        count = len(self.problems)
        super().__init__(f"nothing was imported: the file has {plural(count, 'problem')}")

    @property
    def already_clients(self) -> int:
        """How many problems are rows that are clients already (what --skip-existing or
        --update would take care of)."""
        return sum(1 for p in self.problems if ALREADY_A_CLIENT in p.reason)


# Said of every row that is a client already: what --skip-existing or --update would take.
ALREADY_A_CLIENT = "is already a client"


# --- the plan: what each row means for the practice --------------------------------------


@dataclass(frozen=True)
class _Place:
    """Where on a journey a row puts a client: ids of a program and stage in the practice,
    or (`new_program`, by casefolded name) a program this import adds, and a stage of it by
    name (None: its first)."""

    program_id: int | None
    stage_id: int | None
    new_program: str | None = None
    stage_name: str | None = None
    # The program and stage as the practice (or the file, or the template) spells them.
    program_label: str = ""
    stage_label: str = ""


@dataclass(frozen=True)
class _ProgramInfo:
    id: int
    name: str
    stages: tuple[tuple[int, str], ...]  # (id, name) in the journey's order

    @property
    def first_stage(self) -> int | None:
        return self.stages[0][0] if self.stages else None

    def stage(self, text: str) -> int | None:
        key = name_key(text)
        return next((sid for sid, name in self.stages if name_key(name) == key), None)

    def stages_said(self) -> str:
        if not self.stages:
            return f"{_shown(self.name)} has no stages yet"
        names = ", ".join(_shown(name) for _, name in self.stages[:8])
        more = f" and {len(self.stages) - 8} more" if len(self.stages) > 8 else ""
        return f"its stages: {names}{more}"


@dataclass
class _MissingProgram:
    """A program the file names that this practice does not have."""

    name: str  # as first met in the file
    lines: list[int] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)  # first met first
    stage_lines: list[tuple[int, str]] = field(default_factory=list)
    template: object = None  # the starter ProgramTemplate of that name, if one ships


@dataclass(frozen=True)
class _Known:
    """A client already in the practice, as far as matching and updating need."""

    id: int
    name: str
    status: str
    version: int
    import_key: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    program_id: int | None
    stage_id: int | None
    started_on: dt.date
    ideal_gap_days: int
    max_gap_days: int
    contact_preferences: str


@dataclass(frozen=True)
class _Match:
    clients: tuple[_Known, ...]
    by: str  # "email", "name" or "earlier import"
    email: str = ""

    def said(self, name: str) -> str:
        """How the row matched, for a problem: '(matched by email 'k@…' to 'Kwame T.')'."""
        first = self.clients[0]
        if self.by == "earlier import":
            how = f"imported before; now called {_shown(first.name)}"
        else:
            how = (
                f"matched by email {_shown(self.email)}"
                if self.by == "email"
                else "matched by name"
            )
            if len(self.clients) > 1:
                names = ", ".join(f"{_shown(c.name)} (id {c.id})" for c in self.clients[:4])
                how += f" to {len(self.clients)} clients: {names}"
            elif first.name != name.strip():
                how += f" to {_shown(first.name)} (id {first.id})"
        if any(c.status == ClientStatus.ARCHIVED for c in self.clients):
            how += "; archived"
        return f"({how})"


def _email_key(email: str) -> str:
    return email.strip().casefold()


def _phone_key(phone: str) -> str:
    """Two ways of writing one number ('+44 7700 900123', '+447700900123') are one phone."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits if digits else phone.strip()


class _Existing:
    """The coach's clients, indexed the ways a row of a file can name one."""

    def __init__(self, coach: Coach) -> None:
        self.by_email: dict[str, list[_Known]] = {}
        self.by_name: dict[str, list[_Known]] = {}
        self.by_import_key: dict[str, _Known] = {}
        query = (
            Client.select(
                Client.id,
                Client.name,
                Client.status,
                Client.version,
                Client.import_key,
                Client.email,
                Client.more_emails,
                Client.phone,
                Client.more_phones,
                Client.program,
                Client.stage,
                Client.started_on,
                Client.ideal_gap_days,
                Client.max_gap_days,
                Client.contact_preferences,
            )
            .where(Client.coach == coach)
            .order_by(Client.id)
            .tuples()
        )
        for row in query.iterator():
            (cid, name, status, version, import_key, email, more_emails, phone, more_phones) = row[
                :9
            ]
            known = _Known(
                cid,
                name,
                status,
                version,
                import_key,
                ways_to_reach(email, more_emails),
                ways_to_reach(phone, more_phones),
                row[9],
                row[10],
                _as_date(row[11]),
                row[12],
                row[13],
                row[14] or "",
            )
            for address in known.emails:
                found = self.by_email.setdefault(_email_key(address), [])
                if known not in found:
                    found.append(known)
            self.by_name.setdefault(name_key(name), []).append(known)
            if import_key is not None:
                self.by_import_key.setdefault(import_key, known)

    def match(self, emails: tuple[str, ...], name: str) -> _Match | None:
        """The clients a row is: by any of its emails, then by name (accents and case
        aside), then as the row an earlier import brought in (the client renamed since)."""
        for address in emails:
            found = self.by_email.get(_email_key(address))
            if found:
                return _Match(tuple(found), "email", address.strip())
        found = self.by_name.get(name_key(name))
        if found:
            return _Match(tuple(found), "name")
        earlier = self.by_import_key.get(_name_key(name))
        if earlier is not None:
            return _Match((earlier,), "earlier import")
        return None


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


@dataclass(frozen=True)
class _NewClient:
    line: int
    name: str
    key: str  # Client.import_key
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    status: str
    place: _Place | None
    started_on: dt.date
    ideal_gap_days: int
    max_gap_days: int
    contact_preferences: str
    last_contact: dt.date | None
    next_session: dt.datetime | None


@dataclass(frozen=True)
class _Update:
    line: int
    client: _Known
    changes: dict
    place: _Place | None  # a new place on a journey, recorded as a stage move today
    last_contact: dt.date | None
    next_session: dt.datetime | None


@dataclass
class _Plan:
    contacts: ContactFile
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    new: list[_NewClient] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    missing: dict[str, _MissingProgram] = field(default_factory=dict)
    with_programs: bool = False

    def result(self, *, dry_run: bool) -> ImportResult:
        count = {NEW: 0, UPDATED: 0, SKIPPED: 0}
        for row in self.rows:
            count[row.action] += 1
        added = tuple(m.name for m in self.missing.values()) if self.with_programs else ()
        return ImportResult(
            imported=count[NEW],
            problems=tuple(sorted(self.problems, key=lambda p: p.line)),
            updated=count[UPDATED],
            skipped=count[SKIPPED],
            kind=self.contacts.kind,
            ignored=tuple(self.contacts.ignored),
            rows=tuple(self.rows),
            programs_added=added,
            dry_run=dry_run,
        )


# --- importing ------------------------------------------------------------------------


def read_file(data: bytes, *, encoding: str | None = None, mapping: str | None = None):
    """The contacts in a file (any format contact_files reads), given only the options set."""
    options = {"encoding": encoding, "mapping": mapping}
    return read_contacts(data, **{k: v for k, v in options.items() if v is not None})


def import_clients(
    data: bytes,
    *,
    coach: Coach,
    today: dt.date,
    settings: Settings,
    encoding: str | None = None,
    mapping: str | None = None,
    existing: str = REFUSE,
    with_programs: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every client in a contacts file for `coach`, or raise ImportRejected and
    write nothing."""
    contacts = read_file(data, encoding=encoding, mapping=mapping)
    return import_contacts(
        contacts,
        coach=coach,
        today=today,
        settings=settings,
        existing=existing,
        with_programs=with_programs,
        dry_run=dry_run,
        progress=progress,
    )


def import_contacts(
    contacts: ContactFile,
    *,
    coach: Coach,
    today: dt.date,
    settings: Settings,
    existing: str = REFUSE,
    with_programs: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Bring the contacts of a read file in: every one, or none.

    `existing` says what becomes of a row that is a client already: REFUSE (the whole
    file, each match named), SKIP (left as it is) or UPDATE (the file's values for the
    columns it has; emails and phones added to the client's). With `with_programs`,
    programs the file names that the practice lacks are added, from the starter
    template of that name or with the stages the file names. A dry run returns what the
    import would do, problems included, and writes nothing; otherwise problems raise
    ImportRejected.

    Two imports of the same file at once bring each client in once: the loser is refused
    (ImportCollided), or, when told to skip or update clients already here, looks again
    and does that.
    """
    if existing not in (REFUSE, SKIP, UPDATE):
        raise ValueError(f"unknown way with existing clients: {existing!r}")
    tries = 1 if existing == REFUSE or dry_run else 2
    for attempt in range(1, tries + 1):
        plan = _plan(contacts, coach, today, settings, existing, with_programs, progress)
        result = plan.result(dry_run=dry_run)
        if dry_run:
            return result
        if plan.problems:
            raise ImportRejected(plan.problems, result)
        try:
            _write(coach, plan, today)
        except ClientChangedDuringImport:
            raise
        except ImportCollided:
            if attempt < tries:
                continue
            raise
        except peewee.IntegrityError as exc:
            # The database refused an imported row twice: another import of the same rows
            # committed first (PostgreSQL; SQLite's write lock makes the check in _write see
            # it). The transaction is rolled back; look again, or say how many are clients.
            if attempt < tries:
                continue
            _refuse_if_taken(coach, plan.new)
            raise StoreError(f"nothing was imported: {first_line(exc)}") from None
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _plan(
    contacts: ContactFile,
    coach: Coach,
    today: dt.date,
    settings: Settings,
    existing_rule: str,
    with_programs: bool,
    progress: Progress | None,
) -> _Plan:
    plan = _Plan(contacts, problems=list(contacts.problems), with_programs=with_programs)
    if not contacts.rows:
        if not plan.problems:
            plan.problems.append(ImportProblem(1, "the file has no client rows"))
        return plan
    programs = _programs(coach)
    by_id = {info.id: info for infos in programs.values() for info in infos}
    existing = _existing(coach)
    seen_on_line: dict[str, int] = {}
    # Each email of the file, by its key, with the line and name that gave it first: two
    # rows sharing an email are one person twice (or a slip), whatever their names say.
    email_on_line: dict[str, tuple[int, str]] = {}
    updated_on_line: dict[int, int] = {}  # a client one row updates, and that row's line
    created_at = config.now()
    # "In the past" is measured on the import's own day, at the time of day it runs.
    now = dt.datetime.combine(today, created_at.time())
    pending: list[tuple[ContactRow, object]] = []  # rows waiting on the programs' verdict
    total = len(contacts.rows)

    for done, record in enumerate(contacts.rows):
        if progress is not None and done % _PROGRESS_STEP == 0:
            progress("checking rows", done, total)
        cells = dict(record.cells)
        reasons: list[str] = []
        name = cells.get("name", "")
        key = _name_key(name)
        match = None
        if not key:
            reasons.append("name is missing")
        elif len(name.strip()) > MAX_NAME:
            reasons.append(
                f"name {_shown(name)} is longer than {MAX_NAME} characters"
                f" (it has {len(name.strip())})"
            )
        elif key in seen_on_line:
            reasons.append(f"{_shown(name)} is already on line {seen_on_line[key]}")
        else:
            seen_on_line[key] = record.line
            match = existing.match(record.emails, name)
        for address in record.emails if key else ():
            first = email_on_line.setdefault(_email_key(address), (record.line, name))
            if first[0] != record.line:
                reasons.append(
                    f"{_shown(name)} has the email {_shown(address.strip())} of"
                    f" {_shown(first[1])} on line {first[0]}; keep one of the rows"
                )
                break
        if match is not None and existing_rule == REFUSE:
            reasons.append(f"{_shown(name)} {ALREADY_A_CLIENT} {match.said(name)}")
        if match is not None and existing_rule == SKIP and not reasons:
            plan.rows.append(_planned(record, SKIPPED, match))
            continue

        emails = _contacts(record.emails, "email", reasons)
        phones = _contacts(record.phones, "phone", reasons)
        started_on = _date(cells.get("started_on", ""), "started_on", reasons)
        ideal = _gap(cells.get("ideal_gap_days", ""), "ideal_gap_days", reasons)
        most = _gap(cells.get("max_gap_days", ""), "max_gap_days", reasons)
        status = _status(cells.get("status", ""), reasons)
        preferences = _preferences(cells.get("contact_preferences", ""), reasons)
        last_contact = _last_contact(cells.get("last_contact_on", ""), today, reasons)
        next_session = _next_session(cells.get("next_session", ""), today, now, reasons)
        client = match.clients[0] if match is not None else None
        if match is not None and existing_rule == UPDATE and len(match.clients) > 1:
            reasons.append(
                f"{_shown(name)} could be any of the clients {match.said(name)}; give the row"
                " an email of one of them, or tell them apart by name first"
            )
        elif match is not None and existing_rule == UPDATE:
            if client.id in updated_on_line:
                reasons.append(
                    f"{_shown(name)} is the client {_shown(client.name)} of line"
                    f" {updated_on_line[client.id]} too {match.said(name)}; keep one of the rows"
                )
            else:
                updated_on_line[client.id] = record.line
        current_program = client.program_id if client is not None else None
        place = _place(
            cells.get("program", ""),
            cells.get("stage", ""),
            current_program,
            programs,
            by_id,
            plan.missing,
            record.line,
            reasons,
        )
        if client is None:
            _check_gaps(ideal, most, settings, reasons)
        elif not reasons:
            _check_gaps(
                client.ideal_gap_days if ideal is None else ideal,
                client.max_gap_days if most is None else most,
                settings,
                reasons,
            )
        if reasons:
            plan.problems.extend(ImportProblem(record.line, reason) for reason in reasons)
            continue

        if client is None:
            new = _NewClient(
                line=record.line,
                name=name,
                key=key,
                emails=emails,
                phones=phones,
                status=status or ClientStatus.ACTIVE,
                place=place,
                started_on=started_on or today,
                ideal_gap_days=settings.default_ideal_gap_days if ideal is None else ideal,
                max_gap_days=settings.default_max_gap_days if most is None else most,
                contact_preferences=preferences,
                last_contact=last_contact,
                next_session=next_session,
            )
            pending.append((record, new))
            continue
        update = _changes(
            record.line,
            client,
            emails=emails,
            phones=phones,
            status=status,
            place=place,
            started_on=started_on,
            ideal=ideal,
            most=most,
            preferences=preferences,
            last_contact=last_contact,
            next_session=next_session,
            program_given=bool(cells.get("program", "").strip()),
            stage_given=bool(cells.get("stage", "").strip()),
            reasons=reasons,
        )
        if reasons:
            plan.problems.extend(ImportProblem(record.line, reason) for reason in reasons)
            continue
        pending.append((record, (update, match)))
    if progress is not None:
        progress("checking rows", total, total)

    blocked = _judge_missing_programs(plan, with_programs)
    for record, planned in pending:
        if record.line in blocked:
            continue
        if isinstance(planned, _NewClient):
            plan.new.append(planned)
            plan.rows.append(_planned(record, NEW, None, planned.status, planned.place))
            continue
        update, match = planned
        if update is None:
            plan.rows.append(_planned(record, SKIPPED, match))
            continue
        plan.updates.append(update)
        status = update.changes.get("status", update.client.status)
        plan.rows.append(_planned(record, UPDATED, match, status, update.place))
    plan.rows.sort(key=lambda row: row.line)
    return plan


def _planned(
    record: ContactRow,
    action: str,
    match: _Match | None,
    status: str = "",
    place: _Place | None = None,
) -> PlannedRow:
    cells = record.cells
    program = cells.get("program", "").strip()
    stage = cells.get("stage", "").strip()
    if place is not None:
        program, stage = place.program_label, place.stage_label
    return PlannedRow(
        line=record.line,
        name=cells.get("name", ""),
        action=action,
        email=record.emails[0] if record.emails else "",
        phone=record.phones[0] if record.phones else "",
        program=program,
        stage=stage,
        status=str(status or cells.get("status", "").strip().lower()),
        matched_by=match.by if match is not None else None,
        client_name=match.clients[0].name if match is not None else None,
    )


# --- programs and stages ------------------------------------------------------------------


def _programs(coach: Coach) -> dict[str, list[_ProgramInfo]]:
    """The coach's programs by casefolded name, each with its stages in order."""
    stages: dict[int, list[tuple[int, str]]] = {}
    query = (
        Stage.select(Stage.program, Stage.id, Stage.name)
        .where(Stage.coach == coach)
        .order_by(Stage.program, Stage.position)
        .tuples()
    )
    for program_id, stage_id, name in query:
        stages.setdefault(program_id, []).append((stage_id, name))
    programs: dict[str, list[_ProgramInfo]] = {}
    for program_id, name in (
        Program.select(Program.id, Program.name).where(Program.coach == coach).tuples()
    ):
        info = _ProgramInfo(program_id, name, tuple(stages.get(program_id, ())))
        programs.setdefault(name.casefold(), []).append(info)
    return programs


def _starter(name: str):
    """The starter program template of that name, if trustdesk ships one (by its name only:
    the program made from it must answer to the name the file gives)."""
    from trustdesk.trust.journey.templates import program_templates

    wanted = name.strip().casefold()
    for template in program_templates():
        if wanted == template.name.casefold():
            return template
    return None


def _find_program(
    text: str, programs: dict[str, list[_ProgramInfo]], reasons: list[str]
) -> _ProgramInfo | _Bad | None:
    """The program a cell names (any case; the exact spelling first), None if the practice
    has none of that name."""
    matches = programs.get(text.casefold(), [])
    exact = [info for info in matches if info.name == text]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(_shown(info.name) for info in matches)
        reasons.append(f"program {_shown(text)} could be any of {names}; use the exact name")
        return _BAD
    return None


def _place(
    program_cell: str,
    stage_cell: str,
    current_program: int | None,
    programs: dict[str, list[_ProgramInfo]],
    by_id: dict[int, _ProgramInfo],
    missing: dict[str, _MissingProgram],
    line: int,
    reasons: list[str],
) -> _Place | None:
    """Where a row puts the client: a program of the practice and one of its stages (the
    first when none is named), or a program the file names that the practice lacks."""
    program_text, stage_text = program_cell.strip(), stage_cell.strip()
    if not program_text and not stage_text:
        return None
    if not program_text:
        info = by_id.get(current_program) if current_program is not None else None
        if info is None:
            reasons.append(f"stage {_shown(stage_text)} is given without a program")
            return None
    else:
        found = _find_program(program_text, programs, reasons)
        if isinstance(found, _Bad):
            return None
        info = found
    if info is not None:
        if not stage_text:
            first = info.stages[0][1] if info.stages else ""
            return _Place(info.id, info.first_stage, program_label=info.name, stage_label=first)
        stage_id = info.stage(stage_text)
        if stage_id is None:
            reasons.append(
                f"stage {_shown(stage_text)} is not a stage of {_shown(info.name)}"
                f" ({info.stages_said()})"
            )
            return None
        label = next(name for sid, name in info.stages if sid == stage_id)
        return _Place(info.id, stage_id, program_label=info.name, stage_label=label)
    key = program_text.casefold()
    wanted = missing.get(key)
    if wanted is None:
        wanted = missing[key] = _MissingProgram(program_text, template=_starter(program_text))
    wanted.lines.append(line)
    if stage_text:
        wanted.stage_lines.append((line, stage_text))
        if all(name_key(s) != name_key(stage_text) for s in wanted.stages):
            wanted.stages.append(stage_text)
    template = wanted.template
    if template is not None:
        names = [s.name for s in template.stages]  # type: ignore[attr-defined]
        label = template.name  # type: ignore[attr-defined]
    else:
        names, label = wanted.stages, wanted.name
    stage_label = next((s for s in names if name_key(s) == name_key(stage_text)), stage_text)
    if not stage_text:
        stage_label = names[0] if names else ""
    return _Place(
        None,
        None,
        new_program=key,
        stage_name=stage_text or None,
        program_label=label,
        stage_label=stage_label,
    )


def _judge_missing_programs(plan: _Plan, with_programs: bool) -> set[int]:
    """Problems for the programs the file names that the practice lacks; the lines of the
    rows that cannot come in because of them."""
    if not plan.missing:
        return set()
    if not with_programs:
        listed = ", ".join(
            f"{_shown(m.name)} ({plural(len(m.lines), 'row')}: {_line_list(m.lines)})"
            for m in plan.missing.values()
        )
        first = min(line for m in plan.missing.values() for line in m.lines)
        word, them = ("program", "it") if len(plan.missing) == 1 else ("programs", "them")
        plan.problems.append(
            ImportProblem(
                first,
                f"{word} not in this practice: {listed}; add {them},"
                " or import with --with-programs",
            )
        )
        return {line for m in plan.missing.values() for line in m.lines}
    from trustdesk.trust.journey.checks import JourneyError, checked_name

    blocked: set[int] = set()
    for wanted in plan.missing.values():
        try:
            checked_name(wanted.name, "the program's name")
            for _, stage in wanted.stage_lines:
                checked_name(stage, "the stage's name")
        except JourneyError as exc:
            plan.problems.append(
                ImportProblem(wanted.lines[0], f"program {_shown(wanted.name)}: {exc}")
            )
            blocked.update(wanted.lines)
            continue
        template = wanted.template
        if template is None:
            continue
        names = [s.name for s in template.stages]  # type: ignore[attr-defined]
        for line, stage in wanted.stage_lines:
            if all(name_key(n) != name_key(stage) for n in names):
                said = ", ".join(_shown(n) for n in names)
                plan.problems.append(
                    ImportProblem(
                        line,
                        f"stage {_shown(stage)} is not a stage of the starter program"
                        f" {_shown(template.name)} (its stages: {said})",  # type: ignore[attr-defined]
                    )
                )
                blocked.add(line)
    return blocked


def _line_list(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(str(n) for n in lines[:6])
    return f"lines {shown}{', …' if len(lines) > 6 else ''}"


# --- a client already here ----------------------------------------------------------------


def _changes(
    line: int,
    client: _Known,
    *,
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    status: str,
    place: _Place | None,
    started_on: dt.date | None,
    ideal: int | _Bad | None,
    most: int | _Bad | None,
    preferences: str,
    last_contact: dt.date | None,
    next_session: dt.datetime | None,
    program_given: bool,
    stage_given: bool,
    reasons: list[str],
) -> _Update | None:
    """What the row changes in a client already here; None when it changes nothing.

    The file's value for each column it has; a blank cell leaves the client's as it is.
    The name is never changed (the client may have been renamed here on purpose; the
    client form renames). Emails and phones are added after the client's own, none
    removed. A program the client is already on, without a stage, leaves the stage.
    """
    changes: dict[str, object] = {}
    merged = _merged(client.emails, emails, _email_key)
    if merged != client.emails:
        changes["email"], changes["more_emails"] = merged[0], "\n".join(merged[1:])
    merged_phones = _merged(client.phones, phones, _phone_key)
    if merged_phones != client.phones:
        changes["phone"], changes["more_phones"] = merged_phones[0], "\n".join(merged_phones[1:])
    for what, values in (("email", merged), ("phone", merged_phones)):
        if len(values) > MAX_CONTACTS:
            reasons.append(
                f"{client.name!r} would have {len(values)} {what}s; at most {MAX_CONTACTS} are kept"
            )
    if status and status != client.status:
        current = ClientStatus(client.status)
        if not current.can_become(ClientStatus(status)):
            reasons.append(
                f"status {status}: {_shown(client.name)} is {current} and cannot become {status}"
            )
        changes["status"] = status
    if started_on is not None and started_on != client.started_on:
        changes["started_on"] = started_on
    if isinstance(ideal, int) and ideal != client.ideal_gap_days:
        changes["ideal_gap_days"] = ideal
    if isinstance(most, int) and most != client.max_gap_days:
        changes["max_gap_days"] = most
    if preferences and preferences != client.contact_preferences:
        changes["contact_preferences"] = preferences
    moved = None
    if place is not None:
        same_program = place.new_program is None and place.program_id == client.program_id
        if same_program and program_given and not stage_given:
            moved = None  # on that program already: where on it stays as it is
        elif place.new_program is not None or (place.program_id, place.stage_id) != (
            client.program_id,
            client.stage_id,
        ):
            moved = place
    contact = last_contact if last_contact and not _touched_on(client, last_contact) else None
    session = next_session if next_session and not _session_at(client, next_session) else None
    if not changes and moved is None and contact is None and session is None:
        return None
    return _Update(line, client, changes, moved, contact, session)


def _merged(have: tuple[str, ...], more: tuple[str, ...], key) -> tuple[str, ...]:
    merged = list(have)
    keys = {key(value) for value in have}
    for value in more:
        if key(value) not in keys:
            merged.append(value)
            keys.add(key(value))
    return tuple(merged)


def _touched_on(client: _Known, day: dt.date) -> bool:
    return Touch.select().where((Touch.client == client.id) & (Touch.occurred_on == day)).exists()


def _session_at(client: _Known, start: dt.datetime) -> bool:
    return (
        Session.select()
        .where((Session.client == client.id) & (Session.scheduled_start == start))
        .exists()
    )


# --- checking values ------------------------------------------------------------------


class _Bad:
    """A value that was present but wrong (already reported), as opposed to absent."""


_BAD = _Bad()


def _name_key(name: str) -> str:
    """How the importer tells names apart; also what Client.import_key holds."""
    return name.strip().casefold()


def _existing(coach: Coach) -> _Existing:
    """The coach's clients as they are now (read again inside the write transaction)."""
    return _Existing(coach)


def _refuse_if_taken(coach: Coach, new: list[_NewClient]) -> None:
    """Raise ImportCollided if new clients of the file are clients now."""
    existing = _existing(coach)
    clashes = sorted(row.line for row in new if existing.match(row.emails, row.name))
    if not clashes:
        return
    count = len(new)
    if len(clashes) == count:
        raise ImportCollided(
            f"nothing was imported: all {count} clients of this file were added while this"
            " import ran (another import of it finished first), so it is already imported"
        )
    raise ImportCollided(
        f"nothing was imported: {len(clashes)} of the {count} clients of this file were"
        f" added while this import ran (the first on line {clashes[0]}); import it again"
        " to see which"
    )


def _contacts(values: tuple[str, ...], what: str, reasons: list[str]) -> tuple[str, ...]:
    """Emails or phone numbers, exactly as written (the first the one used), within what a
    client keeps; the same one twice is kept once."""
    kept: list[str] = []
    keys: set[str] = set()
    key = _email_key if what == "email" else _phone_key
    for value in values:
        if not value or key(value) in keys:
            continue
        if len(value) > MAX_CONTACT:
            reasons.append(f"{what} {_shown(value)} is longer than {MAX_CONTACT} characters")
            continue
        kept.append(value)
        keys.add(key(value))
    if len(kept) > MAX_CONTACTS:
        reasons.append(f"{len(kept)} {what}s; at most {MAX_CONTACTS} are kept per client")
    return tuple(kept)


def _preferences(value: str, reasons: list[str]) -> str:
    if len(value.strip()) > MAX_PREFERENCES:
        reasons.append(f"contact_preferences are longer than {MAX_PREFERENCES} characters")
    return value.strip()


def _date(value: str, column: str, reasons: list[str]) -> dt.date | None:
    text = value.strip()
    if not text:
        return None
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    reasons.append(f"{column} {_shown(value)} is not a date (use YYYY-MM-DD)")
    return None


def _last_contact(value: str, today: dt.date, reasons: list[str]) -> dt.date | None:
    """The day of the last contact: a touch that counts, so it cannot be after today."""
    day = _date(value, "last_contact_on", reasons)
    if day is not None and day > today:
        reasons.append(
            f"last_contact_on {day.isoformat()} is in the future (today is {today.isoformat()})"
        )
        return None
    return day


def _next_session(
    value: str, today: dt.date, now: dt.datetime, reasons: list[str]
) -> dt.datetime | None:
    """The next session's day and time, read as the app's forms read it; not in the past."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = parse_moment(text, today)
    except DateError as exc:
        reasons.append(f"next_session {_shown(value)}: {exc} (use YYYY-MM-DD HH:MM)")
        return None
    if moment < now:
        reasons.append(f"next_session {moment:%Y-%m-%d %H:%M} is in the past")
        return None
    return moment


def _gap(value: str, column: str, reasons: list[str]) -> int | _Bad | None:
    text = value.strip()
    if not text:
        return None
    if not _WHOLE_NUMBER.fullmatch(text):
        reasons.append(f"{column} {_shown(value)} is not a whole number of days")
        return _BAD
    days = int(text)
    if days < 0:
        reasons.append(f"{column} {_shown(value)} is negative")
        return _BAD
    if days > LONGEST_GAP_DAYS:
        reasons.append(f"{column} {_shown(value)} is more than {LONGEST_GAP_DAYS} days")
        return _BAD
    return days


def _check_gaps(
    ideal: int | _Bad | None, most: int | _Bad | None, settings: Settings, reasons: list[str]
) -> None:
    if isinstance(ideal, _Bad) or isinstance(most, _Bad):
        return
    if ideal is None and most is None:
        return
    ideal_days = settings.default_ideal_gap_days if ideal is None else ideal
    max_days = settings.default_max_gap_days if most is None else most
    if max_days < ideal_days:
        max_said = f"max_gap_days {max_days}" + (" (the default)" if most is None else "")
        ideal_said = f"ideal_gap_days {ideal_days}" + (" (the default)" if ideal is None else "")
        reasons.append(f"{max_said} is smaller than {ideal_said}")


def _status(value: str, reasons: list[str]) -> str:
    """The status a cell names, or "" when blank (a new client is then active)."""
    text = value.strip().lower()
    if not text:
        return ""
    if text not in tuple(ClientStatus):
        reasons.append(f"status {_shown(value)} is not one of: {', '.join(ClientStatus)}")
        return ""
    return text


# --- writing --------------------------------------------------------------------------


_CLIENT_FIELDS = (
    Client.coach,
    Client.name,
    Client.sort_name,
    Client.email,
    Client.more_emails,
    Client.phone,
    Client.more_phones,
    Client.status,
    Client.program,
    Client.stage,
    Client.started_on,
    Client.ideal_gap_days,
    Client.max_gap_days,
    Client.contact_preferences,
    Client.reference_consent,
    Client.created_at,
    Client.uid,
    Client.import_key,
)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_by_key(coach: Coach, keys: list[str]) -> dict[str, int]:
    """The ids the database gave the clients just inserted, by their import keys."""
    ids: dict[str, int] = {}
    for batch in _chunks(keys, _MAX_BOUND_VALUES - 1):
        query = Client.select(Client.import_key, Client.id).where(
            (Client.coach == coach) & Client.import_key.in_(batch)
        )
        ids.update(query.tuples())
    return ids


def _insert(fields: tuple, rows: list[tuple]) -> None:
    model = fields[0].model
    for batch in _chunks(rows, _MAX_BOUND_VALUES // len(fields)):
        model.insert_many(batch, fields=fields).execute()


@dataclass(frozen=True)
class _Added:
    """A program this import added: its id, its stages' ids by name key, its first stage."""

    id: int
    stages: dict[str, int]
    first_stage: int | None


def _add_programs(coach: Coach, plan: _Plan) -> dict[str, _Added]:
    """The programs the file names that the practice lacks: each from the starter template
    of its name, or with the stages the file names for it, in the order first met."""
    from trustdesk.trust.journey.programs import add_stage, create_program
    from trustdesk.trust.journey.templates import import_template

    added: dict[str, _Added] = {}
    for key, wanted in plan.missing.items():
        if wanted.template is not None:
            program_id = import_template(coach, wanted.template)  # type: ignore[arg-type]
        else:
            program_id = create_program(coach, wanted.name)
            for stage in wanted.stages:
                add_stage(coach, program_id, stage)
        stages = list(
            Stage.select(Stage.id, Stage.name)
            .where(Stage.program == program_id)
            .order_by(Stage.position)
            .tuples()
        )
        added[key] = _Added(
            program_id,
            {name_key(name): sid for sid, name in stages},
            stages[0][0] if stages else None,
        )
    return added


def _ids(place: _Place | None, added: dict[str, _Added]) -> tuple[int | None, int | None]:
    if place is None:
        return None, None
    if place.new_program is None:
        return place.program_id, place.stage_id
    program = added[place.new_program]
    if place.stage_name is None:
        return program.id, program.first_stage
    return program.id, program.stages[name_key(place.stage_name)]


def _write(coach: Coach, plan: _Plan, today: dt.date) -> None:
    """Add the programs, insert the new clients with their starting stages, last contacts
    and next sessions, and change the clients already here, in one transaction.

    The rows were checked before, outside it; the new ones are checked again inside,
    where no other write can come between the check and the insert on SQLite (the
    transaction takes the write lock when it begins). On PostgreSQL another import may
    still insert the same rows meanwhile: the unique key on (coach, import_key) refuses
    the second. A client changed elsewhere since it was read is never written over: its
    UPDATE matches no row at the version read, and the whole import is rolled back.
    """
    with db.atomic():
        _refuse_if_taken(coach, plan.new)
        added = _add_programs(coach, plan) if plan.with_programs else {}
        created_at = config.now()
        rows = []
        journeys: dict[str, tuple[int | None, int | None]] = {}
        for new in plan.new:
            program_id, stage_id = journeys[new.key] = _ids(new.place, added)
            rows.append(
                (
                    coach.id,
                    new.name,
                    name_key(new.name),
                    new.emails[0] if new.emails else "",
                    "\n".join(new.emails[1:]),
                    new.phones[0] if new.phones else "",
                    "\n".join(new.phones[1:]),
                    new.status,
                    program_id,
                    stage_id,
                    new.started_on,
                    new.ideal_gap_days,
                    new.max_gap_days,
                    new.contact_preferences,
                    False,
                    created_at,
                    uuid.uuid4(),
                    new.key,
                )
            )
        _insert(_CLIENT_FIELDS, rows)
        wanted = [
            n.key
            for n in plan.new
            if journeys[n.key][1] is not None or n.last_contact or n.next_session
        ]
        ids = _ids_by_key(coach, wanted) if wanted else {}
        stage_changes = []
        touches = []
        sessions = []
        for new in plan.new:
            if new.key not in ids:
                continue
            client_id, stage_id = ids[new.key], journeys[new.key][1]
            if stage_id is not None:
                stage_changes.append((coach.id, client_id, stage_id, new.started_on))
            if new.last_contact is not None:
                touches.append(_touch_row(coach, client_id, new.last_contact))
            if new.next_session is not None:
                sessions.append(_session_row(coach, client_id, new.next_session, stage_id))
        for update in plan.updates:
            _apply(coach, update, added, today, stage_changes, touches, sessions)
        _insert(
            (StageChange.coach, StageChange.client, StageChange.stage, StageChange.changed_on),
            stage_changes,
        )
        _insert(_TOUCH_FIELDS, touches)
        _insert(_SESSION_FIELDS, sessions)


_TOUCH_FIELDS = (
    Touch.coach,
    Touch.client,
    Touch.occurred_on,
    Touch.channel,
    Touch.direction,
    Touch.counts_for_cadence,
    Touch.summary,
)
_SESSION_FIELDS = (
    Session.coach,
    Session.client,
    Session.scheduled_start,
    Session.duration_minutes,
    Session.status,
    Session.stage,
)


def _touch_row(coach: Coach, client_id: int, day: dt.date) -> tuple:
    touch = IMPORTED_TOUCH
    return (coach.id, client_id, day, touch["channel"], touch["direction"], True, touch["summary"])


def _session_row(coach: Coach, client_id: int, start: dt.datetime, stage_id: int | None) -> tuple:
    return (
        coach.id,
        client_id,
        start,
        IMPORTED_SESSION_MINUTES,
        SessionStatus.SCHEDULED,
        stage_id,
    )


def _apply(
    coach: Coach,
    update: _Update,
    added: dict[str, _Added],
    today: dt.date,
    stage_changes: list,
    touches: list,
    sessions: list,
) -> None:
    """Change one client already here, unless it changed since it was read."""
    client = update.client
    changes = dict(update.changes)
    stage_id = client.stage_id
    if update.place is not None:
        program_id, stage_id = _ids(update.place, added)
        changes["program"], changes["stage"] = program_id, stage_id
    if changes:
        # Every UPDATE of a client adds one to its version (Versioned), so a form still
        # open on the client refuses its stale save afterwards.
        written = (
            Client.update(**changes)
            .where(
                (Client.id == client.id)
                & (Client.coach == coach)
                & (Client.version == client.version)
            )
            .execute()
        )
        if written != 1:
            raise ClientChangedDuringImport(
                f"nothing was imported: the client {client.name!r} (line {update.line}) was"
                " changed elsewhere while this import ran; import it again"
            )
    if update.place is not None and stage_id is not None and stage_id != client.stage_id:
        stage_changes.append((coach.id, client.id, stage_id, today))
        # Their sessions from today on count towards the new stage, as a move on the
        # journey tab does.
        Session.update(stage=stage_id).where(
            (Session.client == client.id)
            & (Session.scheduled_start >= dt.datetime.combine(today, dt.time.min))
        ).execute()
    if update.last_contact is not None:
        touches.append(_touch_row(coach, client.id, update.last_contact))
    if update.next_session is not None:
        sessions.append(_session_row(coach, client.id, update.next_session, stage_id))
