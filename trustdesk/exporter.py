"""Exporting a practice as JSON, streamed row by row so a large practice fits in little memory.

Note bodies are exported only with --decrypt, after the coach unlocks them; otherwise
only their kind, dates and size. Wrapped keys are always left out: they are useless
without the keyring or passphrase and belong with the database, not in a file.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import TextIO

from peewee import JOIN

from trustdesk import __version__, config
from trustdesk.literal import json_text
from trustdesk.store.models import (
    Client,
    Coach,
    Commitment,
    Note,
    Outcome,
    Program,
    Prompt,
    Session,
    Stage,
    StageChange,
    Touch,
    ways_to_reach,
)
from trustdesk.vault import Vault, plaintext_length
from trustdesk.vault.vault import note_bound

EXPORT_FORMAT = "trustdesk-export"
EXPORT_VERSION = 1

# Exported in an order where every row's references come before it.
EXPORTED = (Program, Stage, Client, StageChange, Session, Commitment, Prompt, Touch, Outcome)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _row(data: dict[str, object]) -> str:
    return json_text({k: _plain(v) for k, v in data.items()})


def _write_table(out: TextIO, name: str, rows) -> None:
    out.write(f'  "{name}": [')
    first = True
    for data in rows:
        out.write("\n    " if first else ",\n    ")
        out.write(_row(data))
        first = False
    out.write("\n  ]" if not first else "]")


def _note_rows(coach: Coach, vault: Vault | None):
    query = (
        Note.select(
            Note.id,
            Note.client,
            Note.kind,
            Note.written_on,
            Note.updated_at,
            Note.body_sealed,
            Client.uid,
        )
        .join(Client)
        .where(Note.coach == coach)
        .order_by(Note.written_on, Note.id)
    )
    for note in query.iterator():
        row = {
            "id": note.id,
            "client": note.client_id,
            "kind": note.kind,
            "written_on": note.written_on,
            "updated_at": note.updated_at,
            "length": plaintext_length(note.body_sealed),
        }
        if vault is not None:
            bound = note_bound(note.client.uid, note.kind, note.written_on)
            row["body"] = vault.open_note(note.body_sealed, note.id, bound)
        yield row


def check_every_note_opens(coach: Coach, vault: Vault) -> int:
    """Open (and forget) every note body; raises SealError on the first that will not open."""
    count = 0
    query = (
        Note.select(Note.id, Note.body_sealed, Client.uid, Note.kind, Note.written_on)
        .join(Client)
        .where(Note.coach == coach)
    )
    for note_id, sealed, uid, kind, written_on in query.tuples().iterator():
        vault.open_note(sealed, note_id, note_bound(uid, kind, written_on))
        count += 1
    return count


def write_json_export(out: TextIO, coach: Coach, *, vault: Vault | None = None) -> None:
    """Write every row of this coach's practice; note bodies only when given an unlocked vault.

    Wrapped keys are never written.
    """
    out.write("{\n")
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "trustdesk": __version__,
        "exported_on": config.today().isoformat(),
        "note_bodies": "decrypted" if vault is not None else "left out (sealed)",
        "coach": {"id": coach.id, "name": coach.name, "email": coach.email},
    }
    for key, value in header.items():
        out.write(f"  {json_text(key)}: {json_text(value)},\n")
    out.write('  "tables": {\n')
    for model in EXPORTED:
        query = model.select().where(model.coach == coach).order_by(model.id).dicts()
        _write_table(out, model._meta.table_name, query.iterator())
        out.write(",\n")
    _write_table(out, Note._meta.table_name, _note_rows(coach, vault))
    out.write("\n  }\n}\n")


# --- a spreadsheet of clients -----------------------------------------------------------

# Columns `trustdesk import` reads, so an export imports into a new practice with each
# client's program, stage and every email and phone (several joined with LISTED_SEPARATOR,
# the first the one used).
CSV_COLUMNS = (
    "name",
    "email",
    "phone",
    "program",
    "stage",
    "status",
    "started_on",
    "ideal_gap_days",
    "max_gap_days",
    "contact_preferences",
)
LISTED_SEPARATOR = " ::: "
# What Excel needs at the start of a CSV file to read it as UTF-8 (else accents come out
# as two odd characters each).
EXCEL_BOM = "\ufeff"


def spreadsheet_safe(value: object) -> str:
    """Text for a CSV cell that a spreadsheet shows rather than runs (formula injection).

    A cell that could run as a formula, or that already starts with an apostrophe, gets one
    more apostrophe in front; `trustdesk import` takes exactly that one off again, so every
    text comes back exactly as it was.
    """
    from trustdesk.literal import guarded_cell

    return guarded_cell("" if value is None else str(value))


def _listed(first: str, more: str) -> str:
    return LISTED_SEPARATOR.join(ways_to_reach(first, more))


def write_clients_csv(out: TextIO, coach: Coach, *, excel: bool = False) -> None:
    """The coach's clients as a spreadsheet, in the columns `trustdesk import` reads, by
    program and stage, then by name.

    `excel` starts the file with the byte order mark Excel needs to read UTF-8.
    """
    import csv

    if excel:
        out.write(EXCEL_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = (
        Client.select(
            Client.name,
            Client.email,
            Client.more_emails,
            Client.phone,
            Client.more_phones,
            Program.name,
            Stage.name,
            Client.status,
            Client.started_on,
            Client.ideal_gap_days,
            Client.max_gap_days,
            Client.contact_preferences,
        )
        .join(Program, JOIN.LEFT_OUTER, on=(Client.program == Program.id))
        .switch(Client)
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .where(Client.coach == coach)
        # Clients without a program first, then each program's clients in the order of
        # its journey: a program the file brings into a new practice gets its stages in
        # the order they are first met, so each comes back in its place.
        .order_by(
            Program.name.is_null(False),
            Program.name,
            Program.id,
            Stage.position,
            Client.sort_name,
            Client.id,
        )
        .tuples()
    )
    for name, email, more_emails, phone, more_phones, *rest in query.iterator():
        row = (name, _listed(email, more_emails), _listed(phone, more_phones), *rest)
        writer.writerow(
            spreadsheet_safe(_plain(value) if value is not None else "") for value in row
        )


# --- an address book of clients ----------------------------------------------------------


def write_clients_vcf(out: TextIO, coach: Coach) -> None:
    """The coach's clients as vCard 4.0, for Apple Contacts, Google Contacts or a phone.

    How to reach each client, their program and contact preferences; never a note.
    """
    from trustdesk.contact_files import ContactCard, write_vcards

    revised = config.now().astimezone()
    query = (
        Client.select(
            Client.uid,
            Client.name,
            Client.email,
            Client.more_emails,
            Client.phone,
            Client.more_phones,
            Program.name,
            Client.contact_preferences,
        )
        .join(Program, JOIN.LEFT_OUTER, on=(Client.program == Program.id))
        .where(Client.coach == coach)
        .order_by(Client.sort_name, Client.id)
        .tuples()
    )
    write_vcards(
        out,
        (
            ContactCard(
                uid=str(uid),
                name=name,
                emails=ways_to_reach(email, more_emails),
                phones=ways_to_reach(phone, more_phones),
                program=program or "",
                contact_preferences=preferences or "",
                revised=revised,
            )
            for uid, name, email, more_emails, phone, more_phones, program, preferences in (
                query.iterator()
            )
        ),
    )
