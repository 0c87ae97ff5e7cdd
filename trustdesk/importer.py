"""Bringing clients in from a spreadsheet saved as CSV.

A coach moving from a spreadsheet should get every client in, or a list of exactly
what to fix and where: one bad row writes nothing, and each problem names the line
of the file where that client's record starts, so it can be found in an editor.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import peewee

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.contact_files import ImportProblem, read_contacts
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
)
from trustdesk.store.states import ClientStatus, SessionStatus
from trustdesk.trust.clients import MAX_NAME
from trustdesk.trust.common import plural
from trustdesk.trust.dates import DateError, parse_moment

# The touch a `last_contact_on` cell logs: the file does not say how the coach was last in
# touch, so the summary says where the touch came from, and a call the coach made is the
# likeliest reading of "last contact" in a coach's own spreadsheet.
IMPORTED_TOUCH = {"channel": "call", "direction": "outbound", "summary": "imported: last contact"}
IMPORTED_SESSION_MINUTES = 60

# A gap longer than ten years is a typing slip, and it keeps values far from integer overflow.
LONGEST_GAP_DAYS = 3650

# Stay under SQLite's oldest limit of 999 bound values per statement.
_MAX_BOUND_VALUES = 900

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class ImportResult:
    imported: int
    problems: tuple[ImportProblem, ...] = ()


class ImportCollided(StoreError):
    """Clients of the file were added while it was being imported, so nothing was written."""


class ImportRejected(Exception):
    """The file had problems, so nothing was written; `problems` says what and where."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        count = len(self.problems)
        super().__init__(f"nothing was imported: the file has {plural(count, 'problem')}")


@dataclass(frozen=True)
class _Journey:
    program_id: int
    first_stage_id: int | None


@dataclass(frozen=True)
class _History:
    """What a row says happened before the import and what comes next, by its name's key."""

    last_contact: dict[str, dt.date]
    next_session: dict[str, tuple[dt.datetime, int | None]]


def import_clients(
    data: bytes, *, coach: Coach, today: dt.date, settings: Settings
) -> ImportResult:
    """Import every client in a CSV file for `coach`, or raise ImportRejected and write nothing."""
    contacts = read_contacts(data)
    problems = list(contacts.problems)
    if not contacts.rows:
        raise ImportRejected(problems or [ImportProblem(1, "the file has no client rows")])
    journeys = _journeys_by_program(coach)
    existing = _taken(coach)
    seen_on_line: dict[str, int] = {}
    created_at = config.now()
    # "In the past" is measured on the import's own day, at the time of day it runs.
    now = dt.datetime.combine(today, created_at.time())
    clients: list[tuple] = []
    first_stages: dict[str, int] = {}
    history = _History({}, {})

    for record in contacts.rows:
        cells = dict(record.cells)
        row_problems: list[str] = []

        name = cells.get("name", "")
        key = _name_key(name)
        if not key:
            row_problems.append("name is missing")
        elif len(name.strip()) > MAX_NAME:
            row_problems.append(
                f"name {_shown(name)} is longer than {MAX_NAME} characters"
                f" (it has {len(name.strip())})"
            )
        elif key in existing:
            now_called = existing[key]
            if now_called is None:
                row_problems.append(f"{_shown(name)} is already a client")
            else:
                row_problems.append(
                    f"{_shown(name)} was imported before (the client is now {_shown(now_called)})"
                )
        elif key in seen_on_line:
            row_problems.append(f"{_shown(name)} is already on line {seen_on_line[key]}")
        else:
            seen_on_line[key] = record.line

        started_on = _date(cells.get("started_on", ""), "started_on", row_problems) or today
        ideal = _gap(cells.get("ideal_gap_days", ""), "ideal_gap_days", row_problems)
        most = _gap(cells.get("max_gap_days", ""), "max_gap_days", row_problems)
        _check_gaps(ideal, most, settings, row_problems)

        status = _status(cells.get("status", ""), row_problems)
        journey = _journey(cells.get("program", ""), journeys, row_problems)
        last_contact = _last_contact(cells.get("last_contact_on", ""), today, row_problems)
        next_session = _next_session(cells.get("next_session", ""), today, now, row_problems)

        if row_problems:
            problems.extend(ImportProblem(record.line, reason) for reason in row_problems)
            continue
        program_id = journey.program_id if journey else None
        stage_id = journey.first_stage_id if journey else None
        clients.append(
            (
                coach.id,
                name,
                name_key(name),
                record.emails[0] if record.emails else "",
                record.phones[0] if record.phones else "",
                status,
                program_id,
                stage_id,
                started_on,
                settings.default_ideal_gap_days if ideal is None else ideal,
                settings.default_max_gap_days if most is None else most,
                False,
                created_at,
                uuid.uuid4(),
                key,
            )
        )
        if stage_id is not None:
            first_stages[key] = stage_id
        if last_contact is not None:
            history.last_contact[key] = last_contact
        if next_session is not None:
            history.next_session[key] = (next_session, stage_id)

    if problems:
        raise ImportRejected(problems)
    try:
        _write(coach, clients, first_stages, seen_on_line, history)
    except peewee.IntegrityError as exc:
        # The database refused an imported row twice: another import of the same rows
        # committed first (PostgreSQL; SQLite's write lock makes the check in _write see
        # it). The transaction is rolled back; say how many are clients now.
        _refuse_if_taken(coach, seen_on_line)
        raise StoreError(f"nothing was imported: {first_line(exc)}") from None
    return ImportResult(imported=len(clients))


# --- checking values ------------------------------------------------------------------


class _Bad:
    """A value that was present but wrong (already reported), as opposed to absent."""


_BAD = _Bad()


def _name_key(name: str) -> str:
    """How the importer tells names apart; also what Client.import_key holds."""
    return name.strip().casefold()


def _taken(coach: Coach) -> dict[str, str | None]:
    """Keys no row of a file may have: each client's name (mapped to None), and each
    earlier imported row's key (mapped to the name that client has now, if renamed)."""
    taken: dict[str, str | None] = {}
    rows = Client.select(Client.name, Client.import_key).where(Client.coach == coach).tuples()
    for name, import_key in rows:
        taken[_name_key(name)] = None
        if import_key is not None:
            taken.setdefault(import_key, name)
    return taken


def _refuse_if_taken(coach: Coach, lines: dict[str, int]) -> None:
    """Raise ImportCollided if rows of the file (keys, with their lines) are taken now."""
    taken = _taken(coach)
    clashes = sorted((line, key) for key, line in lines.items() if key in taken)
    if not clashes:
        return
    count = len(lines)
    if len(clashes) == count:
        raise ImportCollided(
            f"nothing was imported: all {count} clients of this file were added while this"
            " import ran (another import of it finished first), so it is already imported"
        )
    line, _ = clashes[0]
    raise ImportCollided(
        f"nothing was imported: {len(clashes)} of the {count} clients of this file were"
        f" added while this import ran (the first on line {line}); import it again to see which"
    )


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
    text = value.strip().lower()
    if not text:
        return "active"
    if text not in tuple(ClientStatus):
        reasons.append(f"status {_shown(value)} is not one of: {', '.join(ClientStatus)}")
    return text


def _journeys_by_program(coach: Coach) -> dict[str, list[tuple[str, _Journey]]]:
    """The coach's programs by casefolded name, each with the stage a new client starts in."""
    first_stage: dict[int, int] = {}
    stages = (
        Stage.select(Stage.program, Stage.id)
        .where(Stage.coach == coach)
        .order_by(Stage.program, Stage.position)
        .tuples()
    )
    for program_id, stage_id in stages:
        first_stage.setdefault(program_id, stage_id)
    journeys: dict[str, list[tuple[str, _Journey]]] = {}
    for program_id, name in (
        Program.select(Program.id, Program.name).where(Program.coach == coach).tuples()
    ):
        journey = _Journey(program_id, first_stage.get(program_id))
        journeys.setdefault(name.casefold(), []).append((name, journey))
    return journeys


def _journey(
    value: str, journeys: dict[str, list[tuple[str, _Journey]]], reasons: list[str]
) -> _Journey | None:
    text = value.strip()
    if not text:
        return None
    matches = journeys.get(text.casefold(), [])
    exact = [journey for name, journey in matches if name == text]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0][1]
    if matches:
        names = ", ".join(_shown(name) for name, _ in matches)
        reasons.append(f"program {_shown(value)} could be any of {names}; use the exact name")
        return None
    known = sorted({name for entries in journeys.values() for name, _ in entries})
    if not known:
        reasons.append(f"program {_shown(value)} is not one of your programs (you have none yet)")
    else:
        listed = ", ".join(_shown(name) for name in known[:5])
        more = f" and {len(known) - 5} more" if len(known) > 5 else ""
        reasons.append(f"program {_shown(value)} is not one of your programs ({listed}{more})")
    return None


# --- writing --------------------------------------------------------------------------


_CLIENT_FIELDS = (
    Client.coach,
    Client.name,
    Client.sort_name,
    Client.email,
    Client.phone,
    Client.status,
    Client.program,
    Client.stage,
    Client.started_on,
    Client.ideal_gap_days,
    Client.max_gap_days,
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


def _write(
    coach: Coach,
    clients: list[tuple],
    first_stages: dict[str, int],
    lines: dict[str, int],
    history: _History,
) -> None:
    """Insert all clients, their starting stages, last contacts and next sessions in one
    transaction.

    The names were checked before, outside it; they are checked again inside, where no
    other write can come between the check and the insert on SQLite (the transaction
    takes the write lock when it begins). On PostgreSQL another import may still insert
    the same rows meanwhile: the unique key on (coach, import_key) refuses the second.
    """
    with db.atomic():
        _refuse_if_taken(coach, lines)
        _insert(_CLIENT_FIELDS, clients)
        wanted = sorted(set(first_stages) | set(history.last_contact) | set(history.next_session))
        if not wanted:
            return
        ids = _ids_by_key(coach, wanted)
        started_on = {client[-1]: client[8] for client in clients}
        _insert(
            (StageChange.coach, StageChange.client, StageChange.stage, StageChange.changed_on),
            [(coach.id, ids[key], stage, started_on[key]) for key, stage in first_stages.items()],
        )
        touch = IMPORTED_TOUCH
        _insert(
            (
                Touch.coach,
                Touch.client,
                Touch.occurred_on,
                Touch.channel,
                Touch.direction,
                Touch.counts_for_cadence,
                Touch.summary,
            ),
            [
                (
                    coach.id,
                    ids[key],
                    day,
                    touch["channel"],
                    touch["direction"],
                    True,
                    touch["summary"],
                )
                for key, day in history.last_contact.items()
            ],  # fmt: skip
        )
        _insert(
            (
                Session.coach,
                Session.client,
                Session.scheduled_start,
                Session.duration_minutes,
                Session.status,
                Session.stage,
            ),
            [
                (
                    coach.id,
                    ids[key],
                    start,
                    IMPORTED_SESSION_MINUTES,
                    SessionStatus.SCHEDULED,
                    stage,
                )
                for key, (start, stage) in history.next_session.items()
            ],  # fmt: skip
        )
