"""Reading a file of contacts into rows of trustdesk's own columns.

Kept apart from the importer, which decides what the rows mean for the practice: this
module only reads bytes (a spreadsheet saved as CSV, for now trustdesk's own columns)
and says, for each contact, on which line of the file it starts and what it holds.
Problems name that line, so the coach can find it in an editor. Nothing here touches
the database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from trustdesk.literal import unguarded_cell

# trustdesk's own columns: what `trustdesk import` reads and `export --csv` writes.
COLUMNS = (
    "name",
    "email",
    "phone",
    "program",
    "ideal_gap_days",
    "max_gap_days",
    "status",
    "started_on",
    "last_contact_on",
    "next_session",
)
# Columns whose cells may hold several values; a row gives them as tuples, the first the
# one used.
LISTED = ("email", "phone")

_SHOWN_LENGTH = 40
# Undecodable bytes (kept as lone surrogates) and NUL, which databases cannot all store.
_UNREADABLE = re.compile("[\udc80-\udcff\x00]")


@dataclass(frozen=True)
class ImportProblem:
    """Something the coach must fix before the file can be imported."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ContactRow:
    """One contact of the file, in trustdesk's columns.

    `cells` holds the single-valued columns that the file gives (name, program, status,
    dates, gaps…), text exactly as written; `emails` and `phones` every address and
    number in the file's order, the first the one used.
    """

    line: int
    cells: dict[str, str]
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactFile:
    """What a file holds: its kind, its contacts, and what could not be read."""

    kind: str
    rows: tuple[ContactRow, ...]
    # The file's columns (or vCard properties) that no trustdesk column takes, as named there.
    ignored: tuple[str, ...] = ()
    problems: tuple[ImportProblem, ...] = field(default=())
    # The line of the header, or 0 for a file without one.
    header_line: int = 1


def read_contacts(
    data: bytes, *, encoding: str | None = None, mapping: str | None = None
) -> ContactFile:
    """Every contact in the file, or the problems that stop it being read.

    `encoding` names the file's text encoding when it is not UTF-8; `mapping` says which
    of the file's columns fill which of trustdesk's ("Given Name+Family Name=name,…").
    """
    if encoding is not None or mapping is not None:
        raise ValueError("only UTF-8 files in trustdesk's own columns can be read")
    text, problems = _decode(bytes(data))
    if problems:
        return ContactFile("CSV", (), problems=tuple(problems))
    records, problems = _read_records(text)
    if not records:
        problems = problems or [ImportProblem(1, "the file has no client rows")]
        return ContactFile("CSV", (), problems=tuple(problems))
    header, records = records[0], records[1:]
    columns, header_problems = _read_header(header)
    if header_problems:
        return ContactFile("CSV", (), problems=tuple(problems + header_problems))
    if not records and not problems:
        problems = [ImportProblem(header.line, "the file has no client rows")]
    rows: list[ContactRow] = []
    for record in records:
        if len(record.values) > len(columns):
            problems.append(
                ImportProblem(
                    record.line,
                    f"{len(record.values)} values but the header has"
                    f" {_plural_columns(len(columns))}"
                    " (put quotes around a value that contains a comma)",
                )
            )
            continue
        cells = {c: unguarded_cell(v) for c, v in zip(columns, record.values, strict=False)}
        listed = {c: (cells.pop(c),) if cells.get(c) else () for c in LISTED}
        rows.append(ContactRow(record.line, cells, listed["email"], listed["phone"]))
    return ContactFile(
        "trustdesk CSV", tuple(rows), problems=tuple(problems), header_line=header.line
    )


def shown(value: str) -> str:
    """A value quoted for a one-line reason: escaped so nothing reaches the terminal raw."""
    if len(value) > _SHOWN_LENGTH:
        value = value[:_SHOWN_LENGTH] + "…"
    return repr(value)


def _plural_columns(count: int) -> str:
    return f"{count} column" if count == 1 else f"{count} columns"


# --- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    values: list[str]


def _decode(data: bytes) -> tuple[str, list[ImportProblem]]:
    """UTF-8 only: a wrong guess at another encoding would store misspelled names silently."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    problems: list[ImportProblem] = []
    for number, line in enumerate(_physical_lines(text), start=1):
        found = _UNREADABLE.search(line)
        if found is None:
            continue
        column = found.start() + 1
        if found.group() == "\x00":
            reason = (
                f"text has a NUL character at column {column}; the file may be UTF-16:"
                " save the spreadsheet as CSV UTF-8"
            )
        else:
            byte = ord(found.group()) - 0xDC00
            reason = (
                f"text is not UTF-8 (byte 0x{byte:02x} at column {column});"
                " save the spreadsheet as CSV UTF-8"
            )
        problems.append(ImportProblem(number, reason))
    return text, problems


def _physical_lines(text: str) -> Iterator[str]:
    """Lines split exactly as the CSV reader counts them (CR, LF or CRLF)."""
    return iter(io.StringIO(text, newline=""))


def _read_records(text: str) -> tuple[list[_Record], list[ImportProblem]]:
    """Records with the line each starts on; blank lines and blank spreadsheet rows are skipped."""
    reader = csv.reader(_physical_lines(text), strict=True)
    records: list[_Record] = []
    problems: list[ImportProblem] = []
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(ImportProblem(start, _csv_reason(str(exc))))
            continue
        if any(values):
            records.append(_Record(start, values))
    return records, problems


def _csv_reason(message: str) -> str:
    if "unexpected end of data" in message:
        return "a quote opened on this line is never closed"
    if "expected after" in message:
        return (
            "a closing quote is followed by more text; inside a quoted value,"
            ' write a quote twice ("")'
        )
    if "field limit" in message:
        return f"a value is longer than {csv.field_size_limit()} characters"
    return f"this row cannot be read as CSV ({message})"


def _read_header(header: _Record) -> tuple[list[str], list[ImportProblem]]:
    columns = [value.strip().lower() for value in header.values]
    reasons: list[str] = []
    for position, column in enumerate(columns, start=1):
        if not column:
            reasons.append(f"column {position} has no name in the header; name it or delete it")
        elif column not in COLUMNS:
            reasons.append(
                f"unknown column {shown(header.values[position - 1].strip())}"
                f" (known columns: {', '.join(COLUMNS)})"
            )
        elif columns.index(column) != position - 1:
            reasons.append(f"column {column} appears more than once in the header")
    if "name" not in columns:
        reasons.append("the header has no name column")
    return columns, [ImportProblem(header.line, reason) for reason in reasons]
