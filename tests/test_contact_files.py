"""Reading contact files in the formats coaches have, and writing clients as vCards.

No database: these read bytes and write text. Fixture files in tests/fixtures/contacts are
shaped as Google, Outlook, Excel, Apple and Nextcloud write them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.contact_files import (
    COLUMNS,
    FORMATS_HELP,
    VCARD_PRODID,
    ContactCard,
    ContactRow,
    read_contacts,
    split_name,
    write_vcards,
)
from trustdesk.literal import guarded_cell

FIXTURES = Path(__file__).parent / "fixtures" / "contacts"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def people(contacts) -> list[tuple]:
    """(line, name, emails, phones) of every row, as the importer will see them."""
    return [(r.line, r.cells.get("name", ""), r.emails, r.phones) for r in contacts.rows]


def problems(data: bytes | str, **options) -> list[str]:
    if isinstance(data, str):
        data = data.encode()
    found = read_contacts(data, **options)
    assert not found.rows
    return [str(problem) for problem in found.problems]


# --- each real format -------------------------------------------------------------------


def test_google_2024_export():
    contacts = read_contacts(fixture("google-2024.csv"))
    assert contacts.kind == "Google Contacts CSV" and not contacts.problems
    assert people(contacts) == [
        (
            2,
            "Kwame Tetteh",
            ("kwame@example.com", "kwame.t@gmail.com", "kwame.home@example.org"),
            ("+233 20 555 0101", "+233 24 555 0102"),
        ),
        # "* Work" marks the preferred address, though it is the second column.
        (
            6,
            "Ingrid Sofie Bergström",
            ("ingrid@firma.example", "ingrid.b@example.se"),
            ("+46 8 555 010 20", "+46 70 555 01 21"),
        ),
        # A company without a person's name: the importer says the name is missing.
        (7, "", (), ("+44 20 7946 0000",)),
        (8, "Luis García Márquez", ("luis@example.mx",), ()),
    ]
    # Labels ("* myContacts ::: Clients") are never taken for a program.
    assert all("program" not in row.cells for row in contacts.rows)
    assert contacts.ignored == (
        "Name Prefix",
        "Nickname",
        "Organization Name",
        "Organization Title",
        "Birthday",
        "Notes",
        "Labels",
        "Address 1 - Label",
        "Address 1 - Formatted",
        "Address 1 - Street",
        "Address 1 - City",
        "Address 1 - Country",
        "Website 1 - Label",
        "Website 1 - Value",
    )


def test_google_older_export_with_crlf_and_a_quoted_multiline_note():
    contacts = read_contacts(fixture("google-legacy.csv"))
    assert contacts.kind == "Google Contacts CSV" and not contacts.problems
    assert people(contacts) == [
        (
            2,
            "Amara Okafor",
            ("amara@example.ng", "a.okafor@work.example", "amara.o@work.example"),
            ("+234 803 555 0110",),
        ),
        # No Name: Given + Additional + Family.
        (
            4,
            "Tomás J. Novák",
            ("novak@firma.example.cz", "tomas@example.cz"),
            ("+420 555 010 111", "+420 777 010 112"),
        ),
    ]
    assert contacts.ignored == (
        "Notes",
        "Group Membership",
        "Organization 1 - Name",
        "Organization 1 - Title",
    )


def test_outlook_classic_export_in_windows_1252():
    data = fixture("outlook-classic.csv")
    refused = problems(data)
    assert refused[0] == (
        "line 4: text is not UTF-8 (byte 0xc9 at column 19); it looks like Windows-1252:"
        " import it with --encoding cp1252, or save the spreadsheet as CSV UTF-8"
    )
    contacts = read_contacts(data, encoding="cp1252")
    assert contacts.kind == "Outlook CSV" and not contacts.problems
    assert people(contacts) == [
        (
            2,
            "Priya Raman",
            ("priya@ramanco.example", "priya.raman@example.in"),
            ("+91 98450 00131", "+91 80 5550 0130"),
        ),
        # Primary Phone first, then Mobile, Home, Business.
        (
            4,
            "Jean-Luc Émile Moreau",
            ("jl.moreau@example.fr",),
            ("+33 6 55 50 01 41", "+33 1 55 50 01 40"),
        ),
    ]
    assert "Categories" in contacts.ignored and "E-mail Display Name" in contacts.ignored
    # Columns empty in every row lose nothing and are not named.
    assert "Pager" not in contacts.ignored


def test_outlook_com_export_with_a_bom():
    contacts = read_contacts(fixture("outlook-com.csv"))
    assert contacts.kind == "Outlook CSV" and not contacts.problems
    assert people(contacts) == [
        (2, "Mei Lin", ("mei.lin@example.com",), ("+1 415 555 0150", "+1 415 555 0151")),
        (3, "Oskar Nyberg", ("oskar@example.fi", "oskar.nyberg@example.org"), ("+358 9 555 0160",)),
    ]
    assert contacts.ignored == ("Company", "Birthday", "Notes")


def test_excel_csv_utf8_with_semicolons_bom_and_crlf_is_trustdesks_own():
    contacts = read_contacts(fixture("excel-utf8-semicolon.csv"))
    assert contacts.kind == "trustdesk CSV" and not contacts.problems
    assert people(contacts) == [
        (2, "Zoë Lambert", ("zoe@example.be",), ("+32 2 555 01 70",)),
        (3, "Bram de Vries", ("bram@example.nl", "b.devries@example.nl"), ()),
        (4, "Lee; Ann", ("ann@example.com",), ()),
    ]
    assert contacts.rows[0].cells == {
        "name": "Zoë Lambert",
        "program": "",
        "status": "active",
        "started_on": "2026-01-05",
    }


def test_excel_windows_1252_with_semicolons_and_other_headers_needs_a_map():
    data = fixture("excel-cp1252-semicolon.csv")
    assert problems(data)[0].endswith(
        "import it with --encoding cp1252, or save the spreadsheet as CSV UTF-8"
    )
    assert problems(data, encoding="cp1252") == [
        "line 1: the header has no name column; say which column holds the name,"
        ' e.g. --map "Nom=name"'
    ]
    contacts = read_contacts(data, encoding="cp1252", mapping="Prénom+Nom=name, Téléphone=phone")
    assert contacts.kind == "CSV" and not contacts.problems
    assert people(contacts) == [
        (2, "Hélène Dubois", ("helene@example.fr",), ("01 55 50 01 80",)),
        (3, "Jürgen Müller", ("jurgen@example.de",), ("030 5550181",)),
    ]
    assert contacts.ignored == ("Société",)


def test_generic_tab_separated_sheet_with_a_comma_in_a_name():
    contacts = read_contacts(fixture("generic.tsv"))
    assert contacts.kind == "CSV" and not contacts.problems
    assert people(contacts) == [
        (2, "Okonkwo, Chidi", ("chidi@example.com",), ("+234 802 555 0190",)),
        (3, "Rosa Ferreira", (), ("+351 91 555 0191",)),
    ]
    assert contacts.ignored == ("Company", "Notes")


def test_generic_sheet_with_first_and_last_name_and_quoted_commas():
    contacts = read_contacts(fixture("generic-commas.csv"))
    assert contacts.kind == "CSV"
    assert people(contacts) == [
        (2, "Ana Lima, PhD", ("ana@example.br",), ("+55 11 5550-0200",)),
        (3, "Ben", ("ben@example.com",), ()),
    ]


def test_apple_contacts_vcard_with_item_groups_and_a_folded_photo():
    contacts = read_contacts(fixture("apple-contacts.vcf"))
    assert contacts.kind == "vCard" and contacts.header_line == 0 and not contacts.problems
    assert people(contacts) == [
        # TYPE=pref comes first, though written second.
        (
            1,
            "Kwame Tetteh",
            ("kwame@example.com", "kwame.t@gmail.com"),
            ("+233 20 555 0101", "+233 24 555 0102"),
        ),
        (26, "Dr. Luis García Márquez", ("luis@example.mx",), ("+52 55 5550 0120",)),
    ]
    assert contacts.ignored.count("PHOTO") == 1
    assert contacts.ignored == (
        "NICKNAME",
        "ORG",
        "TITLE",
        "X-ABLABEL",
        "ADR",
        "X-ABADR",
        "NOTE",
        "BDAY",
        "PHOTO",
        "X-ABUID",
    )


def test_google_contacts_vcard():
    contacts = read_contacts(fixture("google-contacts.vcf"))
    assert contacts.kind == "vCard" and not contacts.problems
    assert people(contacts) == [
        (
            1,
            "Ingrid Sofie Bergström",
            ("ingrid.b@example.se", "ingrid@firma.example"),
            ("+46 8 555 010 20", "+46 70 555 01 21"),
        ),
        (13, "Amara Okafor", ("amara@example.ng", "a.okafor@work.example"), ("+234 803 555 0110",)),
    ]
    # Someone else's CATEGORIES and NOTE are not a program or contact preferences.
    assert all(set(row.cells) == {"name"} for row in contacts.rows)
    assert "CATEGORIES" in contacts.ignored and "NOTE" in contacts.ignored


def test_vcard_4_with_pref_and_tel_uris():
    contacts = read_contacts(fixture("nextcloud-4.vcf"))
    assert contacts.kind == "vCard" and not contacts.problems
    assert people(contacts) == [
        (
            1,
            "Mei Lin",
            ("mei.lin@example.com", "mei.work@example.com"),
            ("+1-415-555-0150", "+1-415-555-0151 ext. 204"),
        ),
        # No FN: the name from N.
        (14, "Oskar Nyberg", ("oskar@example.fi",), ("+358 9 555 0160",)),
    ]
    assert contacts.ignored == ("UID", "ORG", "REV")


def test_vcard_2_1_from_old_outlook_with_quoted_printable():
    contacts = read_contacts(fixture("outlook-2.1.vcf"))
    assert not contacts.problems
    assert people(contacts) == [
        (
            1,
            "Jean-Luc Émile Moreau",
            ("jl.moreau@example.fr",),
            ("+33 1 55 50 01 40", "+33 6 55 50 01 41"),
        ),
    ]


# --- telling the format and the text ----------------------------------------------------


def test_a_vcard_is_told_by_its_content_after_a_bom_and_blank_lines():
    contacts = read_contacts(b"\xef\xbb\xbf\r\n\r\nbegin:vcard\r\nFN:Ann Lee\r\nEND:VCARD\r\n")
    assert contacts.kind == "vCard"
    assert people(contacts) == [(3, "Ann Lee", (), ())]


def test_a_csv_named_like_a_card_is_still_read_as_csv():
    contacts = read_contacts(b"name,email\nBEGIN:VCARD,a@example.com\n")
    assert contacts.kind == "trustdesk CSV"
    assert people(contacts) == [(2, "BEGIN:VCARD", ("a@example.com",), ())]


@pytest.mark.parametrize(
    "text",
    [
        'name;email\n"Lee, Ann";ann@example.com\n',
        '"Name"\t"E-mail"\nLee, Ann\tann@example.com\n',
        'Name,"Email; work",Email\n"Lee, Ann",x,ann@example.com\n',
        'name\n"Lee, Ann"\n',
    ],
)
def test_the_separator_is_sniffed_from_the_header_outside_quotes(text):
    contacts = read_contacts(text.encode())
    assert not contacts.problems
    assert [r.cells["name"] for r in contacts.rows] == ["Lee, Ann"]
    assert contacts.rows[0].emails in {("ann@example.com",), ()}


def test_a_quoted_header_with_the_other_separators_inside():
    contacts = read_contacts(b'"Name";"E-mail, home";"Phone"\n"Lee, Ann";a@example.com;1\n')
    assert contacts.kind == "CSV"
    assert contacts.ignored == ("E-mail, home",)
    assert people(contacts) == [(2, "Lee, Ann", (), ("1",))]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(encoding):
    data = "name\temail\r\nRenée Roy\trenee@example.com\r\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    contacts = read_contacts(data)
    assert contacts.kind == "trustdesk CSV" and not contacts.problems
    assert people(contacts) == [(2, "Renée Roy", ("renee@example.com",), ())]


def test_utf16_without_a_bom_is_named_with_the_option_that_reads_it():
    data = "name\nAnn Lee\n".encode("utf-16-le")
    assert problems(data)[0] == (
        "line 1: text has a NUL character at column 2; the file may be UTF-16:"
        " import it with --encoding utf-16-le, or save the spreadsheet as CSV UTF-8"
    )
    assert people(read_contacts(data, encoding="utf-16-le")) == [(2, "Ann Lee", (), ())]


def test_bytes_no_windows_codepage_has_suggest_latin_1():
    assert problems(b"name\nAnn\x81\n") == [
        "line 2: text is not UTF-8 (byte 0x81 at column 4); it looks like Latin-1:"
        " import it with --encoding latin-1, or save the spreadsheet as CSV UTF-8"
    ]


def test_an_unknown_encoding_is_one_problem_naming_it():
    assert problems(b"name\nAnn\n", encoding="klingon") == [
        "line 1: unknown encoding 'klingon' (for example utf-8, cp1252, latin-1, utf-16)"
    ]


def test_bytes_the_given_encoding_cannot_read_are_named_by_line():
    assert problems("name\nZoë\n".encode(), encoding="ascii") == [
        "line 2: text is not ascii (byte 0xc3 at column 3); try another --encoding,"
        " or save the spreadsheet as CSV UTF-8"
    ]


def test_a_utf8_bom_is_read_with_or_without_encoding():
    data = b"\xef\xbb\xbfname\r\nAnn Lee\r\n"
    assert people(read_contacts(data)) == people(read_contacts(data, encoding="utf-8"))
    assert people(read_contacts(data)) == [(2, "Ann Lee", (), ())]


# --- columns --------------------------------------------------------------------------


def test_google_separator_gives_every_value_in_any_csv():
    contacts = read_contacts(
        b"name,email,phone\nKwame,kwame@example.com ::: kwame.t@gmail.com ::: ,+1 555 ::: +1 666\n"
    )
    assert contacts.rows[0].emails == ("kwame@example.com", "kwame.t@gmail.com")
    assert contacts.rows[0].phones == ("+1 555", "+1 666")


def test_trustdesks_own_columns_include_stage_and_contact_preferences():
    assert {"stage", "contact_preferences"} <= set(COLUMNS)
    contacts = read_contacts(
        b'name,stage,contact_preferences\nAnn,Discovery,"Mornings; never Fridays"\n'
    )
    assert contacts.kind == "trustdesk CSV"
    assert contacts.rows[0].cells == {
        "name": "Ann",
        "stage": "Discovery",
        "contact_preferences": "Mornings; never Fridays",
    }


def test_trustdesks_own_csv_keeps_its_strict_header_and_width():
    assert problems("name,email,,EMAIL\nAnn,a,,b\n") == [
        "line 1: column 3 has no name in the header; name it or delete it",
        "line 1: column email appears more than once in the header",
    ]
    contacts = read_contacts(b"name,email\nLee, Ann,a@example.com\nBo,b@example.com\n")
    assert [str(p) for p in contacts.problems] == [
        "line 2: 3 values but the header has 2 columns"
        " (put quotes around a value that contains a comma)"
    ]
    assert people(contacts) == [(3, "Bo", ("b@example.com",), ())]
    contacts = read_contacts(b"name;email\nLee; Ann;a@example.com\n")
    assert [str(p) for p in contacts.problems] == [
        "line 2: 3 values but the header has 2 columns"
        " (put quotes around a value that contains a semicolon)"
    ]


def test_a_header_of_unknown_columns_names_how_to_map_one():
    assert problems("Vorname,Nachname\nAnn,Lee\n") == [
        "line 1: the header has no name column; say which column holds the name,"
        ' e.g. --map "Vorname=name"'
    ]
    assert problems("email\nann@example.com\n") == ["line 1: the header has no name column"]


def test_a_name_column_twice_in_a_generic_csv_is_refused():
    # Two different name headers: the first that holds a value is the name.
    assert people(read_contacts(b"Name,Email,Full name\n,a,Ann Lee\n")) == [
        (2, "Ann Lee", ("a",), ())
    ]
    assert problems("Name,Company,NAME\nAnn,a,Ann Lee\n") == [
        "line 1: column 'Name' appears more than once in the header"
    ]


def test_emails_from_several_columns_come_in_the_files_order():
    contacts = read_contacts(b"name,e-mail,Email,EMAIL,\nAnn Lee,a,b,c,\n")
    assert contacts.kind == "CSV" and not contacts.problems
    assert people(contacts) == [(2, "Ann Lee", ("a", "b", "c"), ())]


def test_ignored_columns_are_those_holding_a_value_named_once():
    contacts = read_contacts(b"Name,Notes,Empty,Notes\nAnn,x,,\nBo,,,y\n")
    assert contacts.ignored == ("Notes",)


def test_rows_shorter_or_longer_than_a_generic_header_are_read():
    contacts = read_contacts(b"Name,Email,Company\nAnn\nBo,b@example.com,Acme,extra\n")
    assert people(contacts) == [(2, "Ann", (), ()), (3, "Bo", ("b@example.com",), ())]


def test_a_formula_guard_from_trustdesks_export_comes_off_in_any_csv():
    contacts = read_contacts(b"Name,Phone\n'=Ann,'+1 555\n")
    assert people(contacts) == [(2, "=Ann", (), ("+1 555",))]


# --- --map --------------------------------------------------------------------------


def test_a_map_joins_columns_and_wins_over_detection():
    data = fixture("google-legacy.csv")
    contacts = read_contacts(data, mapping="Family Name+Given Name=name,E-mail 1 - Value=email")
    assert contacts.kind == "Google Contacts CSV"
    assert people(contacts) == [
        (2, "Okafor Amara", ("amara@example.ng",), ("+234 803 555 0110",)),
        (4, "Novák Tomás", ("tomas@example.cz",), ("+420 555 010 111", "+420 777 010 112")),
    ]
    # The columns the map no longer takes are now named as ignored.
    assert "E-mail 2 - Value" in contacts.ignored and "Name" in contacts.ignored


def test_several_columns_may_map_to_email_and_any_column_to_anything():
    contacts = read_contacts(
        b"Who,Work mail,Home mail,Notes\nAnn Lee,ann@work.example,ann@home.example,Mornings\n",
        mapping=" Who = name , Home mail=email,Work mail=email,notes=contact_preferences",
    )
    assert contacts.kind == "CSV"
    assert people(contacts) == [(2, "Ann Lee", ("ann@home.example", "ann@work.example"), ())]
    assert contacts.rows[0].cells["contact_preferences"] == "Mornings"
    assert contacts.ignored == ()


def test_map_mistakes_are_named_with_what_is_known():
    assert problems(
        "Nom,Courriel\nAnn,a\n", mapping="Prenom+Nom=name,Courriel=mail,nothing here"
    ) == [
        "line 1: --map names column 'Prenom', which the file lacks"
        " (its columns: 'Nom', 'Courriel')",
        "line 1: --map names 'mail', which is not one of trustdesk's columns (known columns: "
        + ", ".join(COLUMNS)
        + ")",
        "line 1: --map 'nothing here' says no trustdesk column: write File Column=name,"
        ' e.g. --map "Full Name=name"',
    ]


def test_a_map_for_a_vcard_is_refused():
    assert problems(fixture("apple-contacts.vcf"), mapping="NICKNAME=name") == [
        "line 1: --map is for CSV files; a vCard gives its name (FN or N), EMAIL and TEL"
    ]


# --- vCard problems -----------------------------------------------------------------------


def test_a_broken_card_is_one_problem_and_the_others_are_read():
    contacts = read_contacts(
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Bo\nthis line has no colon\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nORG:Nimbus Ltd\nEND:VCARD\n"
        b"stray text\nmore stray text\n"
        b"BEGIN:VCARD\nVERSION:4.0\nN:Diaz;Cy;;;\nEND:VCARD\n"
        b"BEGIN:VCARD\nFN:Never ends\n"
    )
    assert people(contacts) == [(1, "Ann Lee", (), ()), (16, "Cy Diaz", (), ())]
    assert [str(p) for p in contacts.problems] == [
        "line 5: this card cannot be read as a vCard"
        " (Failed to parse line: this line has no colon)",
        "line 10: the card has no name (neither FN nor N)",
        "line 14: text outside a card (is a BEGIN:VCARD missing?)",
        "line 20: this card never ends (no END:VCARD)",
    ]


def test_a_vcard_in_windows_1252_is_named_as_a_vcard_and_read_with_encoding():
    data = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ren\xe9e Roy\r\nEND:VCARD\r\n".encode("cp1252")
    refused = read_contacts(data)
    assert refused.kind == "vCard" and not refused.rows
    assert [str(p) for p in refused.problems] == [
        "line 3: text is not UTF-8 (byte 0xe9 at column 7); it looks like Windows-1252:"
        " import it with --encoding cp1252, or save the file as UTF-8"
    ]
    assert people(read_contacts(data, encoding="cp1252")) == [(1, "Renée Roy", (), ())]


def test_an_empty_vcard_file_has_no_client_rows():
    assert problems(b"BEGIN:VCARD\nVERSION:3.0\nFN:\nEND:VCARD\n") == [
        "line 1: the card has no name (neither FN nor N)"
    ]


def test_help_names_the_formats_columns_map_and_encoding():
    for word in ("Google", "Outlook", "vCard", "--map", "--encoding", "Given Name+Family Name"):
        assert word in FORMATS_HELP
    assert len(FORMATS_HELP.splitlines()) <= 20
    assert max(len(line) for line in FORMATS_HELP.splitlines()) <= 80


# --- writing vCards -----------------------------------------------------------------------


ANN = ContactCard(
    uid="2f1c7c1e-9d1b-4d2e-8a7f-3b9c0e6d5a41",
    name="Ann Lee",
    emails=("ann@example.com", "ann.lee@work.example"),
    phones=("+44 20 7946 0018 (evenings)", "+44 7700 900123"),
    program="Career Pivot",
    contact_preferences="Mornings; never Fridays",
    revised=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
)


def vcf(*cards: ContactCard) -> str:
    out = io.StringIO(newline="")
    write_vcards(out, cards)
    return out.getvalue()


def test_a_card_as_vcard_4():
    text = vcf(ANN)
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    lines = text.split("\r\n")
    assert "EMAIL;PREF=1:ann@example.com" in lines
    assert "EMAIL:ann.lee@work.example" in lines
    assert "TEL;PREF=1;VALUE=text:+44 20 7946 0018 (evenings)" in lines
    assert "UID:urn:uuid:2f1c7c1e-9d1b-4d2e-8a7f-3b9c0e6d5a41" in lines
    assert "N:Lee;Ann;;;" in lines and "FN:Ann Lee" in lines
    assert "CATEGORIES:Career Pivot" in lines
    assert "NOTE:Mornings\\; never Fridays" in lines
    assert "REV:20261201T093000Z" in lines
    assert f"PRODID:{VCARD_PRODID}" in lines


def test_vobject_reads_the_cards_back():
    card = vobject.readOne(vcf(ANN))
    assert card.version.value == "4.0"
    assert card.fn.value == "Ann Lee"
    assert (card.n.value.given, card.n.value.family) == ("Ann", "Lee")
    assert [e.value for e in card.contents["email"]] == list(ANN.emails)
    assert card.contents["email"][0].params["PREF"] == ["1"]
    assert [t.value for t in card.contents["tel"]] == list(ANN.phones)
    assert card.uid.value == f"urn:uuid:{ANN.uid}"
    assert card.note.value == ANN.contact_preferences


def test_our_own_vcards_round_trip_with_program_and_preferences():
    bo = ContactCard(uid="0e1b9f7a-3c55-4f1e-9a0b-8d7c6b5a4f3e", name="Bo")
    contacts = read_contacts(vcf(ANN, bo).encode())
    assert contacts.kind == "vCard" and not contacts.problems
    assert people(contacts) == [
        (1, "Ann Lee", ANN.emails, ANN.phones),
        (15, "Bo", (), ()),
    ]
    assert contacts.rows[0].cells == {
        "name": "Ann Lee",
        "program": "Career Pivot",
        "contact_preferences": "Mornings; never Fridays",
    }
    assert contacts.ignored == ("UID", "REV")


def test_hostile_names_stay_one_card_per_client():
    names = ["Lee, Ann", "Bo;Chen", "Cy\nDiaz\nEND:VCARD\nBEGIN:VCARD", "Dee \\ Ellis:", "Ed\tFox"]
    cards = [
        ContactCard(uid=f"00000000-0000-4000-8000-00000000000{i}", name=n, emails=(f"{n}@x",))
        for i, n in enumerate(names)
    ]
    text = vcf(*cards)
    lines = text.split("\r\n")
    assert lines.count("BEGIN:VCARD") == 5 and lines.count("END:VCARD") == 5
    assert len(list(vobject.readComponents(text))) == 5
    contacts = read_contacts(text.encode())
    assert [r.cells["name"] for r in contacts.rows] == names
    assert [r.emails for r in contacts.rows] == [(f"{n}@x",) for n in names]


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ann Lee", ("Ann", "Lee")),
        ("Maria de la Cruz", ("Maria de la", "Cruz")),
        ("Lee, Ann", ("Ann", "Lee")),
        ("Prince", ("Prince", "")),
        ("  ", ("", "")),
        ("Ana Lima, PhD", ("Ana", "Lima")),
    ],
)
def test_split_name(name, parts):
    assert split_name(name) == parts


texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=25
).filter(lambda text: text.strip())


def unfolded(text: str) -> str:
    """vCard text has one line break: a carriage return comes back as a line feed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=120, deadline=None, database=None)
@given(names=st.lists(texts, min_size=1, max_size=3), emails=st.lists(texts, max_size=3))
def test_any_name_email_and_phone_round_trips_through_a_vcard(names, emails):
    cards = [
        ContactCard(
            uid=f"00000000-0000-4000-8000-00000000000{i}",
            name=n,
            emails=tuple(emails),
            phones=tuple(reversed(emails)),
        )
        for i, n in enumerate(names)
    ]
    contacts = read_contacts(vcf(*cards).encode())
    assert not contacts.problems
    kept = [unfolded(e) for e in emails if e.strip()]
    assert [r.cells["name"] for r in contacts.rows] == [unfolded(n) for n in names]
    for row in contacts.rows:
        assert row.emails == tuple(dict.fromkeys(kept))
        assert row.phones == tuple(dict.fromkeys(reversed(kept)))


csv_texts = st.text(
    alphabet=st.sampled_from(list("abcÉ ,;\t\"'\n:=é")), min_size=1, max_size=12
).filter(lambda text: text.strip() and " ::: " not in text)


@settings(max_examples=120, deadline=None, database=None)
@given(
    rows=st.lists(st.tuples(csv_texts, csv_texts), min_size=1, max_size=4),
    separator=st.sampled_from([",", ";", "\t"]),
    header=st.sampled_from([("name", "email"), ("Full name", "E-mail"), ("Name", "Email address")]),
)
def test_names_with_separators_and_quotes_round_trip_through_a_sniffed_csv(rows, separator, header):
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    # As trustdesk writes a cell: a leading apostrophe or formula sign gets one more in front.
    writer.writerows([guarded_cell(cell) for cell in row] for row in rows)
    contacts = read_contacts(out.getvalue().encode("utf-8-sig"))
    assert not contacts.problems
    assert [(r.cells["name"], r.emails) for r in contacts.rows] == [
        (name, (email,) if email.strip() else ()) for name, email in rows
    ]


def test_a_row_is_what_the_importer_reads():
    row = read_contacts(b"name\nAnn\n").rows[0]
    assert isinstance(row, ContactRow) and row.cells == {"name": "Ann"}


def test_reading_a_csv_or_starting_the_command_line_never_loads_vobject():
    """vobject costs about 40 ms to import: only a vCard file or --vcf pays for it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from trustdesk.contact_files import read_contacts\n"
        "read_contacts(b'name\\nAnn\\n')\n"
        "print('vobject' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


@settings(max_examples=150, deadline=None, database=None)
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "BEGIN:VCARD",
                "END:VCARD",
                "VERSION:2.1",
                "VERSION:4.0",
                "FN:Ann",
                "N:;;;;",
                "N:a",
                "EMAIL;PREF=x:a",
                "TEL;VALUE=uri:tel:",
                "TEL:tel:%zz;ext=",
                " folded",
                "PHOTO;ENCODING=b:!!!",
                "FN;ENCODING=QUOTED-PRINTABLE:=C3=",
                "\x1b[2J",
            ]
        ),
        max_size=15,
    )
)
def test_any_broken_vcard_is_problems_never_a_crash(lines):
    contacts = read_contacts(("BEGIN:VCARD\n" + "\n".join(lines)).encode())
    assert contacts.kind == "vCard"
    assert contacts.rows or contacts.problems
    assert not any("\x1b" in problem.reason for problem in contacts.problems)
