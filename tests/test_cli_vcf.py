"""`trustdesk export --vcf`: the clients as vCard 4.0, read back by vobject and trustdesk."""

from __future__ import annotations

import stat

import pytest
import vobject

from trustdesk import cli
from trustdesk.contact_files import read_contacts


@pytest.fixture
def practice(database, coach, isolated_home, store_backend, request, today):
    """Two clients, one with everything a card carries; the --db that opens them."""
    from trustdesk.store.models import Client, Program

    program = Program.create(coach=coach, name="Career Pivot")
    ann = Client.create(
        coach=coach,
        name="Lee, Ann",
        email="ann@example.com",
        more_emails="ann.lee@work.example\nann@home.example",
        phone="+44 20 7946 0018 (evenings)",
        more_phones="+44 7700 900123",
        program=program,
        contact_preferences="Mornings; never Fridays",
        started_on=today,
    )
    bo = Client.create(coach=coach, name="Bo\nChen; END:VCARD", started_on=today)
    if store_backend == "postgresql":
        target = request.getfixturevalue("pg_practice").ann
    else:
        target = str(isolated_home / "test.sqlite3")
    return {"db": target, "ann": ann, "bo": bo}


def export(practice, *args: str) -> int:
    return cli.main(["--db", practice["db"], "export", "--vcf", *args])


def test_every_client_as_a_vcard_on_stdout(practice, capsys):
    assert export(practice) == 0
    out = capsys.readouterr().out
    cards = list(vobject.readComponents(out))
    assert [card.fn.value for card in cards] == ["Bo\nChen; END:VCARD", "Lee, Ann"]
    bo, ann = cards
    assert ann.version.value == "4.0"
    assert ann.uid.value == f"urn:uuid:{practice['ann'].uid}"
    assert (ann.n.value.given, ann.n.value.family) == ("Ann", "Lee")
    assert [e.value for e in ann.contents["email"]] == [
        "ann@example.com",
        "ann.lee@work.example",
        "ann@home.example",
    ]
    assert ann.contents["email"][0].params["PREF"] == ["1"]
    assert [t.value for t in ann.contents["tel"]] == [
        "+44 20 7946 0018 (evenings)",
        "+44 7700 900123",
    ]
    assert ann.categories.value == ["Career Pivot"]
    assert ann.note.value == "Mornings; never Fridays"
    assert ann.rev.value.endswith("Z")
    assert "email" not in bo.contents and "categories" not in bo.contents
    # What trustdesk reads back: the same names, addresses and numbers, in order.
    contacts = read_contacts(out.encode())
    assert [(r.cells["name"], r.emails, r.phones) for r in contacts.rows] == [
        ("Bo\nChen; END:VCARD", (), ()),
        (
            "Lee, Ann",
            ("ann@example.com", "ann.lee@work.example", "ann@home.example"),
            ("+44 20 7946 0018 (evenings)", "+44 7700 900123"),
        ),
    ]


def test_to_a_private_file(practice, tmp_path, capsys):
    path = tmp_path / "clients.vcf"
    assert export(practice, "-o", str(path)) == 0
    assert capsys.readouterr().err.strip() == f"Wrote your clients to {path} (vCard)"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n") and b"\r\r\n" not in data
    assert len(read_contacts(data).rows) == 2


def test_with_decrypt_is_refused_in_one_line_and_writes_nothing(practice, tmp_path, capsys):
    path = tmp_path / "clients.vcf"
    assert export(practice, "--decrypt", "-o", str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "trustdesk: --decrypt goes with the JSON export, not with --vcf"
    )
    assert not path.exists()


def test_one_kind_of_export_at_a_time(practice, capsys):
    assert export(practice, "--csv") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "trustdesk: argument --csv: not allowed with argument --vcf"
        " (see: trustdesk export --help)\n"
    )


def test_export_help_lists_vcf(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    assert "--vcf" in capsys.readouterr().out
