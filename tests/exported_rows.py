"""Reading back what `export --csv` writes, as contact_files' reader hands rows over:
cells unguarded (the apostrophe export puts before a formula comes off), emails and
phones split on " ::: ". It lets the importer's side of the round trip be tested on its
own; the whole round trip through the real reader is tested in test_cli_import."""

from __future__ import annotations

import csv
import io

from trustdesk.contact_files import ContactFile, ContactRow
from trustdesk.exporter import LISTED_SEPARATOR
from trustdesk.literal import unguarded_cell


def read_export(text: str) -> ContactFile:
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    header, rows = table[0], table[1:]
    contacts = []
    for line, values in enumerate(rows, start=2):
        cells = {c: unguarded_cell(v) for c, v in zip(header, values, strict=True)}
        emails = tuple(e for e in cells.pop("email", "").split(LISTED_SEPARATOR) if e)
        phones = tuple(p for p in cells.pop("phone", "").split(LISTED_SEPARATOR) if p)
        contacts.append(ContactRow(line, cells, emails, phones))
    return ContactFile("trustdesk CSV", tuple(contacts))
