"""Reading a file of contacts into rows of trustdesk's own columns, and writing vCards.

Kept apart from the importer, which decides what the rows mean for the practice: this
module only reads bytes (a CSV from a spreadsheet, Google Contacts or Outlook, or a vCard
file from Apple, Google, Nextcloud or Thunderbird) and says, for each contact, on which
line of the file it starts and what it holds. The format is told from the content, never
from the file's name. Problems name a line, so the coach can find it in an editor.
Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from trustdesk.literal import unguarded_cell, visible

# trustdesk's own columns: what `trustdesk import` reads and `export --csv` writes.
COLUMNS = (
    "name",
    "email",
    "phone",
    "program",
    "stage",
    "ideal_gap_days",
    "max_gap_days",
    "status",
    "started_on",
    "last_contact_on",
    "next_session",
    "contact_preferences",
)
# Columns whose cells may hold several values; a row gives them as tuples, the first the
# one used.
LISTED = ("email", "phone")
# How Google (and trustdesk's own CSV) put several values in one cell.
MULTI_VALUE_SEPARATOR = " ::: "

TRUSTDESK_CSV = "trustdesk CSV"
GOOGLE_CSV = "Google Contacts CSV"
OUTLOOK_CSV = "Outlook CSV"
GENERIC_CSV = "CSV"
VCARD = "vCard"

# Written in every vCard trustdesk exports, so reading one back knows CATEGORIES is the
# program and NOTE the contact preferences (in anyone else's card they mean other things).
VCARD_PRODID = "-//trustdesk//trustdesk contacts//EN"

FORMATS_HELP = """\
Formats, told from the file's content (not its name):
  trustdesk CSV        as `trustdesk export --csv` writes it (columns below)
  Google Contacts CSV  Google's "Google CSV" export, the older and 2024 layouts
  Outlook CSV          Outlook (classic), Outlook.com and the new Outlook
  vCard (.vcf)         3.0 and 4.0 (Apple, Google, Nextcloud, Thunderbird), 2.1
  CSV                  any other header: Name or First/Last name, Email, Phone
CSV separated by , ; or tab; UTF-8 with or without BOM, or UTF-16 with a BOM.
Several emails or phones in one cell, separated by " ::: ", are all kept; the
first is the one used. Columns nothing takes are ignored; those holding values
are named.
--map "Given Name+Family Name=name,E-mail 1 - Value=email"
  says which of the file's columns fill which of trustdesk's: columns joined
  with + give their values joined by a space; several may fill email or phone.
--encoding cp1252  reads a file saved in another encoding (latin-1, utf-16…).
"""

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
    text, problems = _decode(bytes(data), encoding)
    if problems:
        kind, header_line = (VCARD, 0) if _is_vcard(text) else (GENERIC_CSV, 1)
        return ContactFile(kind, (), problems=tuple(problems), header_line=header_line)
    if _is_vcard(text):
        return _read_vcards(text, mapping)
    return _read_csv(text, mapping)


def shown(value: str) -> str:
    """A value quoted for a one-line reason: escaped so nothing reaches the terminal raw."""
    if len(value) > _SHOWN_LENGTH:
        value = value[:_SHOWN_LENGTH] + "…"
    return repr(value)


def _plural_columns(count: int) -> str:
    return f"{count} column" if count == 1 else f"{count} columns"


def _listed_values(text: str, *, exact: bool = False) -> list[str]:
    """The values of an email or phone cell: Google's " ::: " separates several.

    Blank values are dropped; `exact` (trustdesk's own CSV) drops only empty ones, so
    whatever text a client's cell held comes back from an export as it was.
    """
    parts = text.split(MULTI_VALUE_SEPARATOR)
    return [part for part in parts if (part if exact else part.strip())]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# --- text ----------------------------------------------------------------------------


def _decode(data: bytes, encoding: str | None) -> tuple[str, list[ImportProblem]]:
    """UTF-8 unless told otherwise (or a UTF-16 BOM says so): a wrong guess at another
    encoding would store misspelled names silently, so the guess is only suggested."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            return "", [
                ImportProblem(
                    1,
                    f"unknown encoding {shown(encoding)}"
                    " (for example utf-8, cp1252, latin-1, utf-16)",
                )
            ]
        name = "utf-8-sig" if codec.name == "utf-8" else codec.name
        text = data.decode(name, errors="surrogateescape")
        described = codec.name
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and Outlook: the byte order mark says what the file is.
        text = data.decode("utf-16", errors="surrogateescape")
        described = "UTF-16"
    else:
        text = data.decode("utf-8-sig", errors="surrogateescape")
        described = "UTF-8"
    if text.startswith("\ufeff"):
        text = text[1:]
    problems: list[ImportProblem] = []
    hint = ""
    for number, line in enumerate(_physical_lines(text), start=1):
        found = _UNREADABLE.search(line)
        if found is None:
            continue
        column = found.start() + 1
        if not hint:
            save = (
                "save the file as UTF-8" if _is_vcard(text) else "save the spreadsheet as CSV UTF-8"
            )
            hint = (
                _encoding_hint(data, save)
                if encoding is None
                else f"try another --encoding, or {save}"
            )
        if found.group() == "\x00":
            reason = f"text has a NUL character at column {column}; {hint}"
        else:
            byte = ord(found.group()) - 0xDC00
            reason = f"text is not {described} (byte 0x{byte:02x} at column {column}); {hint}"
        problems.append(ImportProblem(number, reason))
    return text, problems


def _encoding_hint(data: bytes, save: str) -> str:
    """What the bytes most likely are, as the option that reads them."""
    if b"\x00" in data:
        odd_nuls = data[1::2].count(0)
        even_nuls = data[0::2].count(0)
        codec = "utf-16-le" if odd_nuls >= even_nuls else "utf-16-be"
        return f"the file may be UTF-16: import it with --encoding {codec}, or {save}"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return f"it looks like Latin-1: import it with --encoding latin-1, or {save}"
    return f"it looks like Windows-1252: import it with --encoding cp1252, or {save}"


def _physical_lines(text: str) -> Iterator[str]:
    """Lines split exactly as the CSV reader counts them (CR, LF or CRLF)."""
    return iter(io.StringIO(text, newline=""))


def _is_vcard(text: str) -> bool:
    start = text.lstrip(" \t\r\n")
    return start[:11].upper() == "BEGIN:VCARD"


# --- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    values: list[str]


# A source fills a trustdesk column with one or more of the file's columns (by position),
# their values joined with one space.
_Source = tuple[int, ...]


@dataclass
class _Plan:
    """Which of the file's columns fill which of trustdesk's."""

    kind: str
    # For each trustdesk column, its sources in order: a single-valued column takes the
    # first that holds a value; email and phone take every value of every source.
    sources: dict[str, list[_Source]]
    # Google marks the preferred email or phone with "* " in its label column.
    labels: dict[int, int] = field(default_factory=dict)

    def used(self) -> set[int]:
        taken = {i for sources in self.sources.values() for source in sources for i in source}
        return taken | set(self.labels.values())


def _read_csv(text: str, mapping: str | None) -> ContactFile:
    delimiter = _sniff_delimiter(text)
    records, problems = _read_records(text, delimiter)
    if not records:
        problems = problems or [ImportProblem(1, "the file has no client rows")]
        return ContactFile(GENERIC_CSV, (), problems=tuple(problems))
    header, records = records[0], records[1:]
    names = [_column_key(value) for value in header.values]
    plan = _detect(names)
    header_problems = _header_problems(plan, names, header)
    if mapping is not None:
        header_problems += _apply_mapping(plan, mapping, header)
    if not header_problems and not plan.sources.get("name"):
        header_problems.append(ImportProblem(header.line, _no_name_reason(plan, header)))
    if header_problems:
        return ContactFile(plan.kind, (), problems=tuple(problems + header_problems))
    if not records and not problems:
        problems = [ImportProblem(header.line, "the file has no client rows")]
    rows: list[ContactRow] = []
    for record in records:
        if plan.kind == TRUSTDESK_CSV and len(record.values) > len(names):
            problems.append(
                ImportProblem(
                    record.line,
                    f"{len(record.values)} values but the header has"
                    f" {_plural_columns(len(names))}"
                    f" (put quotes around a value that contains a {_SEPARATOR_NAMES[delimiter]})",
                )
            )
            continue
        rows.append(_row(plan, record))
    ignored = _ignored_columns(plan, header, records)
    return ContactFile(
        plan.kind, tuple(rows), ignored=ignored, problems=tuple(problems), header_line=header.line
    )


_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _sniff_delimiter(text: str) -> str:
    """, ; or tab, whichever the header line holds most of outside quotes (a comma if none)."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    started = False
    for ch in text:
        if ch in "\r\n" and not quoted:
            if started:
                break
            continue
        started = True
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_records(text: str, delimiter: str) -> tuple[list[_Record], list[ImportProblem]]:
    """Records with the line each starts on; blank lines and blank spreadsheet rows are skipped."""
    reader = csv.reader(_physical_lines(text), delimiter=delimiter, strict=True)
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


def _column_key(name: str) -> str:
    """A header name as compared: case and surrounding (or doubled) spaces aside."""
    return " ".join(name.split()).casefold()


# The generic CSV's headers (compared as _column_key gives them), besides trustdesk's own.
GENERIC_HEADERS = {
    "name": ("name", "full name", "display name", "contact name", "client", "client name"),
    "first name": ("first name", "given name", "firstname", "forename"),
    "middle name": ("middle name",),
    "last name": ("last name", "family name", "surname", "lastname"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail"),
    "phone": ("phone", "mobile", "telephone", "phone number", "mobile phone", "cell", "tel"),
}

_OUTLOOK_PHONES = (
    "primary phone",
    "mobile phone",
    "home phone",
    "home phone 2",
    "business phone",
    "business phone 2",
    "other phone",
)
_GOOGLE_NUMBERED = re.compile(r"^(e-mail|phone) (\d+) - (value|type|label)$")


def _detect(names: list[str]) -> _Plan:
    """The format a header belongs to, and which of its columns give what."""
    present = set(names)
    position = {name: i for i, name in reversed(list(enumerate(names)))}

    def source(*columns: str) -> list[_Source]:
        found = tuple(position[c] for c in columns if c in present)
        return [found] if found else []

    if present and all(name in COLUMNS for name in present - {""}):
        plan = _Plan(TRUSTDESK_CSV, {})
        for i, name in enumerate(names):
            if name:
                plan.sources.setdefault(name, []).append((i,))
        return plan
    google_old = {"given name", "additional name", "family name"} <= present
    google_new = {"first name", "last name"} <= present and (
        "labels" in present or "file as" in present or any(_GOOGLE_NUMBERED.match(n) for n in names)
    )
    if google_old or google_new:
        plan = _Plan(GOOGLE_CSV, {})
        plan.sources["name"] = source("name") + (
            source("given name", "additional name", "family name")
            if google_old
            else source("first name", "middle name", "last name")
        )
        numbered: dict[str, list[tuple[int, int]]] = {"e-mail": [], "phone": []}
        for i, name in enumerate(names):
            found = _GOOGLE_NUMBERED.match(name)
            if found and found.group(3) == "value":
                numbered[found.group(1)].append((int(found.group(2)), i))
        for target, kind in (("email", "e-mail"), ("phone", "phone")):
            plan.sources[target] = [(i,) for _, i in sorted(numbered[kind])]
            for number, i in numbered[kind]:
                for label in (f"{kind} {number} - label", f"{kind} {number} - type"):
                    if label in present:
                        plan.labels[i] = position[label]
        return plan
    if {"first name", "last name", "e-mail address"} <= present:
        plan = _Plan(OUTLOOK_CSV, {})
        plan.sources["name"] = source("first name", "middle name", "last name")
        plan.sources["email"] = [
            (position[c],)
            for c in ("e-mail address", "e-mail 2 address", "e-mail 3 address")
            if c in present
        ]
        plan.sources["phone"] = [(position[c],) for c in _OUTLOOK_PHONES if c in present]
        return plan
    plan = _Plan(GENERIC_CSV, {})
    aliases = {alias: key for key, names_ in GENERIC_HEADERS.items() for alias in names_}
    parts: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name in aliases and aliases[name] not in LISTED:
            parts.setdefault(aliases[name], []).append(i)
        elif name in COLUMNS or name in aliases:
            # Emails and phones in the file's column order, whatever each column is called.
            plan.sources.setdefault(aliases.get(name, name), []).append((i,))
    whole = [(i,) for i in parts.get("name", [])]
    split = tuple(
        parts[key][0] for key in ("first name", "middle name", "last name") if key in parts
    )
    plan.sources["name"] = whole + ([split] if split else [])
    return plan


def _header_problems(plan: _Plan, names: list[str], header: _Record) -> list[ImportProblem]:
    reasons: list[str] = []
    if plan.kind == TRUSTDESK_CSV:
        for position, column in enumerate(names, start=1):
            if not column:
                reasons.append(f"column {position} has no name in the header; name it or delete it")
            elif names.index(column) != position - 1:
                reasons.append(f"column {column} appears more than once in the header")
    else:
        for target, sources in plan.sources.items():
            if target in LISTED:
                continue
            singles = [names[s[0]] for s in sources if len(s) == 1]
            for column in dict.fromkeys(c for c in singles if singles.count(c) > 1):
                reasons.append(
                    f"column {shown(header.values[names.index(column)].strip())}"
                    " appears more than once in the header"
                )
    return [ImportProblem(header.line, reason) for reason in reasons]


def _no_name_reason(plan: _Plan, header: _Record) -> str:
    if plan.kind == TRUSTDESK_CSV:
        return "the header has no name column"
    first = next((v.strip() for v in header.values if v.strip()), "Full Name")
    return (
        "the header has no name column; say which column holds the name,"
        f' e.g. --map "{visible(first[:_SHOWN_LENGTH])}=name"'
    )


def _apply_mapping(plan: _Plan, mapping: str, header: _Record) -> list[ImportProblem]:
    """The coach's --map, which wins over what the format gives for the columns it names."""
    names = [_column_key(value) for value in header.values]
    reasons: list[str] = []
    mapped: list[tuple[str, _Source]] = []
    for part in mapping.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            reasons.append(
                f"--map {shown(part.strip())} says no trustdesk column:"
                ' write File Column=name, e.g. --map "Full Name=name"'
            )
            continue
        columns, target = part.rsplit("=", 1)
        target = target.strip().lower()
        if target not in COLUMNS:
            reasons.append(
                f"--map names {shown(target)}, which is not one of trustdesk's columns"
                f" (known columns: {', '.join(COLUMNS)})"
            )
            continue
        source: list[int] = []
        for column in columns.split("+"):
            key = _column_key(column)
            if key in names:
                source.append(names.index(key))
            else:
                known = ", ".join(shown(v.strip()) for v in header.values if v.strip())
                reasons.append(
                    f"--map names column {shown(column.strip())}, which the file lacks"
                    f" (its columns: {known})"
                )
        if source:
            mapped.append((target, tuple(source)))
    if reasons:
        return [ImportProblem(header.line, reason) for reason in reasons]
    taken = {i for _, source in mapped for i in source}
    for target in list(plan.sources):
        plan.sources[target] = [s for s in plan.sources[target] if not set(s) & taken]
    plan.labels = {v: label for v, label in plan.labels.items() if label not in taken}
    for target in dict.fromkeys(target for target, _ in mapped):
        plan.sources[target] = [source for t, source in mapped if t == target]
    return []


def _value(record: _Record, source: _Source) -> str:
    """One source's text: a column's value exactly, or several joined by one space."""
    values = [unguarded_cell(record.values[i]) if i < len(record.values) else "" for i in source]
    if len(values) == 1:
        return values[0]
    return " ".join(value for value in values if value.strip())


def _row(plan: _Plan, record: _Record) -> ContactRow:
    cells: dict[str, str] = {}
    listed: dict[str, list[str]] = {target: [] for target in LISTED}
    for target, sources in plan.sources.items():
        if target in LISTED:
            preferred = sorted(sources, key=lambda s: not _starred(plan, record, s))
            for source in preferred:
                listed[target].extend(
                    _listed_values(_value(record, source), exact=plan.kind == TRUSTDESK_CSV)
                )
            continue
        values = [_value(record, source) for source in sources]
        if plan.kind == TRUSTDESK_CSV:
            if values:
                cells[target] = values[0]
            continue
        chosen = next((value for value in values if value.strip()), "")
        if chosen:
            cells[target] = chosen
    return ContactRow(record.line, cells, _unique(listed["email"]), _unique(listed["phone"]))


def _starred(plan: _Plan, record: _Record, source: _Source) -> bool:
    label = plan.labels.get(source[0])
    return label is not None and label < len(record.values) and record.values[label].startswith("*")


def _ignored_columns(plan: _Plan, header: _Record, records: list[_Record]) -> tuple[str, ...]:
    """The columns nothing takes that hold a value somewhere: what the import leaves behind."""
    used = plan.used()
    ignored = []
    for i, name in enumerate(header.values):
        if i in used or not name.strip():
            continue
        if any(i < len(r.values) and r.values[i].strip() for r in records):
            ignored.append(name.strip())
    return _unique(ignored)


# --- vCard ----------------------------------------------------------------------------

# Properties that say nothing about the contact.
_VCARD_FRAME = {"VERSION", "PRODID"}


def _read_vcards(text: str, mapping: str | None) -> ContactFile:
    if mapping is not None:
        reason = "--map is for CSV files; a vCard gives its name (FN or N), EMAIL and TEL"
        return ContactFile(VCARD, (), problems=(ImportProblem(1, reason),), header_line=0)
    import vobject

    cards, problems = _split_cards(text)
    rows: list[ContactRow] = []
    ignored: list[str] = []
    for line, card_text in cards:
        try:
            card = vobject.readOne(card_text)
        except Exception as exc:  # vobject raises several kinds for broken text
            # vobject counts lines its own way: the problem's line is the card's first.
            message = re.sub(r"^At line \d+:\s*", "", " ".join(str(exc).split()))
            detail = visible(message)[:80] or type(exc).__name__
            problems.append(ImportProblem(line, f"this card cannot be read as a vCard ({detail})"))
            continue
        row, card_ignored = _card_row(line, card)
        ignored.extend(card_ignored)
        if row is None:
            problems.append(ImportProblem(line, "the card has no name (neither FN nor N)"))
        else:
            rows.append(row)
    if not rows and not problems:
        problems.append(ImportProblem(1, "the file has no client rows"))
    problems.sort(key=lambda problem: problem.line)
    return ContactFile(
        VCARD, tuple(rows), ignored=_unique(ignored), problems=tuple(problems), header_line=0
    )


def _split_cards(text: str) -> tuple[list[tuple[int, str]], list[ImportProblem]]:
    """Each card's text with the line of its BEGIN:VCARD, so one broken card stops only itself."""
    cards: list[tuple[int, str]] = []
    problems: list[ImportProblem] = []
    current: list[str] | None = None
    start = 0
    outside = False
    for number, line in enumerate(_physical_lines(text), start=1):
        key = line.strip().upper()
        if key == "BEGIN:VCARD":
            if current is not None:
                problems.append(ImportProblem(start, "this card never ends (no END:VCARD)"))
            current, start, outside = [line], number, False
        elif current is None:
            if key and not outside:
                problems.append(
                    ImportProblem(number, "text outside a card (is a BEGIN:VCARD missing?)")
                )
            outside = bool(key)
        else:
            current.append(line)
            if key == "END:VCARD":
                cards.append((start, "".join(current)))
                current = None
    if current is not None:
        problems.append(ImportProblem(start, "this card never ends (no END:VCARD)"))
    return cards, problems


def _card_row(line: int, card) -> tuple[ContactRow | None, list[str]]:
    ours = any(
        p.name == "PRODID" and str(p.value).strip() == VCARD_PRODID for p in card.getChildren()
    )
    taken = {"FN", "N", "EMAIL", "TEL"} | ({"CATEGORIES", "NOTE"} if ours else set())
    name = ""
    emails: list[tuple[int, int, str]] = []
    phones: list[tuple[int, int, str]] = []
    cells: dict[str, str] = {}
    ignored: list[str] = []
    for order, prop in enumerate(card.getChildren()):
        if prop.name in _VCARD_FRAME:
            continue
        if prop.name not in taken:
            ignored.append(prop.name)
            continue
        if prop.name == "FN" and str(prop.value).strip() and not name:
            name = str(prop.value)
        elif prop.name == "EMAIL" and str(prop.value).strip():
            emails.append((_preference(prop), order, str(prop.value)))
        elif prop.name == "TEL" and str(prop.value).strip():
            phones.append((_preference(prop), order, _phone_text(str(prop.value))))
        elif prop.name == "CATEGORIES":
            value = prop.value if isinstance(prop.value, list) else [prop.value]
            if value and str(value[0]).strip():
                cells["program"] = str(value[0])
        elif prop.name == "NOTE" and str(prop.value).strip():
            cells["contact_preferences"] = str(prop.value)
    if not name:
        name = _name_from_n(card)
    if not name:
        return None, ignored
    cells["name"] = name
    row = ContactRow(
        line,
        cells,
        _unique(value for *_, value in sorted(emails)),
        _unique(value for *_, value in sorted(phones)),
    )
    return row, ignored


def _preference(prop) -> int:
    """1 (most preferred) to 100, as vCard 4.0 PREF says; TYPE=pref (3.0, 2.1) counts as 1."""
    for value in prop.params.get("PREF", []):
        try:
            return min(max(int(value), 1), 100)
        except ValueError:
            pass
    types = [t.lower() for v in prop.params.get("TYPE", []) for t in str(v).split(",")]
    singles = [str(s).lower() for s in getattr(prop, "singletonparams", [])]
    return 1 if "pref" in types or "pref" in singles else 101


def _phone_text(value: str) -> str:
    """A number as text: a tel: URI loses its scheme and parameters, but not its extension."""
    if not value[:4].lower() == "tel:":
        return value
    from urllib.parse import unquote

    number, *params = value[4:].split(";")
    number = unquote(number)
    for param in params:
        key, _, extension = param.partition("=")
        if key.lower() == "ext" and extension:
            number += f" ext. {unquote(extension)}"
    return number


def _name_from_n(card) -> str:
    n = getattr(card, "n", None)
    if n is None or not hasattr(n.value, "given"):
        return ""
    parts = []
    for component in (n.value.prefix, n.value.given, n.value.additional, n.value.family):
        text = " ".join(component) if isinstance(component, list) else str(component)
        if text.strip():
            parts.append(text.strip())
    suffix = n.value.suffix
    suffix = " ".join(suffix) if isinstance(suffix, list) else str(suffix)
    name = " ".join(parts)
    return f"{name}, {suffix.strip()}" if name and suffix.strip() else name


# --- writing vCards -------------------------------------------------------------------


@dataclass(frozen=True)
class ContactCard:
    """A client as a vCard holds it: how to reach them, never anything from their notes."""

    uid: str
    name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    program: str = ""
    contact_preferences: str = ""
    revised: dt.datetime | None = None


def write_vcards(out: TextIO, cards: Iterable[ContactCard]) -> None:
    """Every card as vCard 4.0, one card per client whatever the name holds.

    Phone numbers are written as text (TEL;VALUE=text), exactly as typed: a tel: URI
    cannot hold "+44 20 7946 0018 (evenings)", and Apple and Google read text numbers.
    """
    import vobject

    for card in cards:
        vcard = vobject.vCard()
        vcard.add("version").value = "4.0"
        vcard.add("prodid").value = VCARD_PRODID
        vcard.add("uid").value = f"urn:uuid:{card.uid}"
        vcard.add("fn").value = card.name
        given, family = split_name(card.name)
        vcard.add("n").value = vobject.vcard.Name(family=family, given=given)
        for position, email in enumerate(e for e in card.emails if e.strip()):
            prop = vcard.add("email")
            prop.value = email
            if position == 0:
                prop.params["PREF"] = ["1"]
        for position, phone in enumerate(p for p in card.phones if p.strip()):
            prop = vcard.add("tel")
            prop.value = phone
            prop.params["VALUE"] = ["text"]
            if position == 0:
                prop.params["PREF"] = ["1"]
        if card.program.strip():
            vcard.add("categories").value = [card.program]
        if card.contact_preferences.strip():
            vcard.add("note").value = card.contact_preferences
        if card.revised is not None:
            moment = card.revised
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
                vcard.add("rev").value = f"{moment:%Y%m%dT%H%M%S}Z"
            else:
                vcard.add("rev").value = f"{moment:%Y%m%dT%H%M%S}"
        out.write(vcard.serialize())


def split_name(name: str) -> tuple[str, str]:
    """(given, family) for a vCard's N: "Lee, Ann" as written, else the last word (before
    a comma) is the family name. Apple Contacts shows N, so it must not be empty; FN keeps
    the name whole."""
    words = name.split()
    if not words:
        return "", ""
    if name.count(",") == 1:
        before, after = (" ".join(part.split()) for part in name.split(","))
        if len(before.split()) == 1 and after:
            return after, before  # "Lee, Ann"
        words = before.split() or words  # "Ana Lima, PhD": the suffix stays in FN only
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[:-1]), words[-1]
