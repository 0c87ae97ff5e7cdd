"""`trustdesk note`: private notes from the command line, sealed exactly as the app seals them.

A note's words never come from the command line itself (other users of the server can
read it in `ps`): they come from stdin when it is a pipe or a file, else from $EDITOR on
a private temporary file that is removed afterwards, whatever happens.
"""

from __future__ import annotations

import argparse
import sys

from trustdesk.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    UsageError,
    _open,
    _out,
    _out_data,
    _say,
    edit_in_editor,
)

KINDS = ("goal", "regret", "struggle", "past_experience", "belief", "session")
SHORT_ID = 8  # characters of a note's id shown in lists; `note show` takes any unique start


HELP = "private notes, sealed at rest"


def register(sub, common) -> dict:
    from trustdesk.cli import _unlock_options

    note = sub.add_parser("note", parents=[common], help=HELP)
    actions = note.add_subparsers(dest="note_command", metavar="ACTION", parser_class=Parser)
    actions.required = True

    add = actions.add_parser(
        "add",
        parents=[common],
        help="write a note: the words from stdin, or $EDITOR (never from the command line)",
    )
    add.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    add.add_argument("--kind", required=True, choices=KINDS, help="what the note is about")
    _unlock_options(add)

    listing = actions.add_parser(
        "list", parents=[common], help="a client's notes (first lines once unlocked)"
    )
    listing.add_argument("client", metavar="CLIENT", help="any unambiguous part of the name, or id")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    _unlock_options(listing)

    show = actions.add_parser("show", parents=[common], help="one note's words")
    show.add_argument("id", metavar="ID", help="the note's id, or its first characters")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    _unlock_options(show)

    search = actions.add_parser("search", parents=[common], help="find words in your notes")
    search.add_argument("text", metavar="TEXT", help="the words to find (any case)")
    search.add_argument("--client", metavar="CLIENT", help="only this client's notes")
    search.add_argument("--json", action="store_true", help="machine-readable output")
    _unlock_options(search)
    return {"note": cmd_note}


def cmd_note(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.trust.common import ActionError
    from trustdesk.trust.notes import NoteError

    database = _open(args)
    try:
        coach = current_coach()
        try:
            return NOTE_COMMANDS[args.note_command](args, coach)
        except NoteError as exc:
            raise ActionError(str(exc)) from None
    finally:
        database.close()


def _client(coach, text: str):
    from trustdesk.trust.clients import find_client

    return find_client(coach, text)


def _vault(args: argparse.Namespace, coach):
    from trustdesk.cli import _unlocked_vault

    return _unlocked_vault(args, coach)


# --- note add ----------------------------------------------------------------------------


def note_add(args: argparse.Namespace, coach) -> int:
    from trustdesk.trust.notes import add_note

    client = _client(coach, args.client)
    vault = _vault(args, coach)  # before the words are asked for: a locked key writes nothing
    body = _read_body(client.name)
    if not body.strip():
        _say("trustdesk: the note is empty; nothing was written")
        return EXIT_ERROR
    note_id = add_note(vault, client.id, args.kind, body)
    _say(f"Note {str(note_id)[:SHORT_ID]} sealed and saved for {client.name}.")
    return EXIT_OK


def _read_body(client_name: str) -> str:
    if not sys.stdin.isatty():
        try:
            return sys.stdin.read()
        except UnicodeDecodeError:
            raise UsageError("the note on stdin is not UTF-8 text; nothing was written") from None
    return _from_editor(client_name)


def _from_editor(client_name: str) -> str:
    """The words typed in $VISUAL or $EDITOR, on a 0600 file removed afterwards."""
    return edit_in_editor(
        "",
        prefix="trustdesk-note-",
        what="the note",
        outcome="nothing was written",
        instead="pipe the note on stdin",
    )


# --- note list ---------------------------------------------------------------------------


def _maybe_unlocked(args: argparse.Namespace, coach):
    """The vault if the notes can be opened without a surprise, else None.

    A passphrase or recovery file, or the keyring, opens them; at a terminal the
    passphrase is asked for, as the key commands do; a script without either gets the
    list without first lines.
    """
    from trustdesk import config
    from trustdesk.asking import _tty_available
    from trustdesk.vault import Vault

    if getattr(args, "passphrase_file", None) or getattr(args, "recovery_file", None):
        return _vault(args, coach)
    vault = Vault(coach, config.load_settings())
    if not vault.slots():
        return None
    if vault.unlock().unlocked:
        return vault
    if _tty_available() and sys.stdin.isatty():
        return _vault(args, coach)
    return None


def note_list(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.notes import list_notes, note_first_lines

    client = _client(coach, args.client)
    notes = list_notes(coach, client_id=client.id)
    vault = _maybe_unlocked(args, coach) if notes else None
    lines = note_first_lines(vault, client_id=client.id) if vault is not None else None
    if args.json:
        rows = [
            {
                "id": str(n.id),
                "kind": n.kind,
                "written_on": n.written_on.isoformat(),
                "length": n.length,
                "first_line": None if lines is None else lines.get(n.id, ""),
            }
            for n in notes
        ]
        shown = {"client": client.name, "client_id": client.id, "unlocked": lines is not None}
        _out_data(json_text({**shown, "notes": rows}, indent=2) + "\n")
        return EXIT_OK
    if not notes:
        _out(f"No notes about {client.name} yet. Write one with: trustdesk note add ...\n")
        return EXIT_OK
    out = []
    for n in notes:
        what = f"{n.length} chars" if lines is None else lines.get(n.id, "")
        out.append(f"{str(n.id)[:SHORT_ID]}  {n.written_on.isoformat()}  {n.kind:<15}  {what}")
    _out("\n".join(out) + "\n")
    if lines is None:
        _say("trustdesk: notes locked; first lines need the key (--passphrase-file PATH)")
    return EXIT_OK


# --- note show ---------------------------------------------------------------------------


def _note_id(coach, text: str):
    """A note's id from its whole form or a unique start of it."""
    import uuid

    from trustdesk.store.models import Note

    wanted = text.strip().lower().replace("-", "")
    if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
        raise UsageError(f"{text!r} is not a note id (see: trustdesk note list CLIENT)")
    if len(wanted) == 32:
        return uuid.UUID(wanted)
    found = [
        nid for (nid,) in Note.select(Note.id).where(Note.coach == coach).tuples()
        if nid.hex.startswith(wanted)
    ]  # fmt: skip
    if not found:
        raise UsageError(f"no note with the id {text}")
    if len(found) > 1:
        raise UsageError(f"{len(found)} notes have ids starting {text}; give more of it")
    return found[0]


def note_show(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.store.models import Client
    from trustdesk.trust.notes import read_note

    note_id = _note_id(coach, args.id)
    vault = _vault(args, coach)
    note = read_note(vault, note_id)
    name = Client.get_by_id(note.client_id).name
    if args.json:
        shown = {
            "id": str(note.id),
            "client": name,
            "client_id": note.client_id,
            "kind": note.kind,
            "written_on": note.written_on.isoformat(),
            "body": note.body,
        }
        _out_data(json_text(shown, indent=2) + "\n")
        return EXIT_OK
    _out(f"{name} · {note.kind} · {note.written_on.isoformat()} · {note.id}\n\n")
    _out(note.body if note.body.endswith("\n") else note.body + "\n")
    return EXIT_OK


# --- note search -------------------------------------------------------------------------


def note_search(args: argparse.Namespace, coach) -> int:
    from trustdesk.literal import json_text
    from trustdesk.trust.notes import search_notes_stream

    if not args.text.strip():
        raise UsageError("give the words to find")
    client_id = _client(coach, args.client).id if args.client else None
    vault = _vault(args, coach)
    hits = [h for step in search_notes_stream(vault, args.text, client_id=client_id)
            for h in step.hits]  # fmt: skip
    hits.sort(key=lambda h: h.id.hex)
    hits.sort(key=lambda h: h.written_on, reverse=True)
    if args.json:
        rows = [
            {
                "id": str(h.id),
                "client": h.client_name,
                "client_id": h.client_id,
                "kind": h.kind,
                "written_on": h.written_on.isoformat(),
                "line": h.line,
            }
            for h in hits
        ]
        _out_data(json_text(rows, indent=2) + "\n")
        return EXIT_OK
    if not hits:
        _say("No note holds those words.")
        return EXIT_OK
    _out(
        "\n".join(
            f"{str(h.id)[:SHORT_ID]}  {h.written_on.isoformat()}  {h.client_name}  "
            f"{h.kind}: {h.line}"
            for h in hits
        )
        + "\n"
    )
    return EXIT_OK


NOTE_COMMANDS = {"add": note_add, "list": note_list, "show": note_show, "search": note_search}
