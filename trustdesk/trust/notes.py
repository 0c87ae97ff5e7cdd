"""Depth of conversation: private notes, sealed at rest and opened only through an unlocked vault.

Listing never needs the key and never returns a body; reading and searching do,
and decrypt in memory only.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from trustdesk import config
from trustdesk.store.models import NOTE_KINDS, Client, Coach, Note, db
from trustdesk.trust.common import ChangedElsewhere, refuse_if_changed, unchanged_since
from trustdesk.vault import Vault, plaintext_length
from trustdesk.vault.vault import NOTE_COLUMN, NOTE_TABLE, note_bound


class NoteError(Exception):
    """A note that cannot be written as asked; the message is one line."""


@dataclass(frozen=True)
class NoteSummary:
    """What a list may show about a note without the key: never its words."""

    id: uuid.UUID
    client_id: int
    client_name: str
    kind: str
    written_on: dt.date
    updated_at: dt.datetime
    length: int
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class NoteBody:
    id: uuid.UUID
    client_id: int
    kind: str
    written_on: dt.date
    body: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


def _check_kind(kind: str) -> None:
    if kind not in NOTE_KINDS:
        raise NoteError(f"unknown kind of note {kind!r}; use one of {', '.join(NOTE_KINDS)}")


def add_note(
    vault: Vault,
    client_id: int,
    kind: str,
    body: str,
    *,
    written_on: dt.date | None = None,
) -> uuid.UUID:
    """Seal and store a note; the row's id is chosen first because the seal is bound to it."""
    _check_kind(kind)
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == vault.coach))
    if client is None:
        raise NoteError("that client does not exist")
    note_id = uuid.uuid4()
    # Sealed and written under the coach's current key, checked in the same transaction.
    written_on = written_on or config.today()
    with vault.current_key():
        sealed = vault.seal_note(body, note_id, note_bound(client.uid, kind, written_on))
        Note.create(
            id=note_id,
            coach=vault.coach,
            client=client,
            kind=kind,
            written_on=written_on,
            updated_at=config.now(),
            body_sealed=sealed,
        )
    return note_id


def update_note(vault: Vault, note_id: uuid.UUID, body: str, *, version: int | None = None) -> None:
    """Re-seal a note's new words, unless it was saved elsewhere after `version` was read."""
    with vault.current_key():
        # Sealed for the client, kind and date the row holds now, read in this transaction;
        # the version check below refuses the write if the row changed after that.
        found = (
            Note.select(Client.uid, Note.kind, Note.written_on)
            .join(Client)
            .where((Note.id == note_id) & (Note.coach == vault.coach))
            .tuples()
            .first()
        )
        if found is None:
            raise NoteError("that note no longer exists")
        sealed = vault.seal_note(body, note_id, note_bound(*found))
        updated = (
            Note.update(body_sealed=sealed, updated_at=config.now())
            .where(
                (Note.id == note_id) & (Note.coach == vault.coach) & unchanged_since(Note, version)
            )
            .execute()
        )
    if not updated:
        refuse_if_changed(Note, note_id, vault.coach, version, "that note")
        raise NoteError("that note no longer exists")


def save_note_edit(
    vault: Vault,
    note_id: uuid.UUID,
    body: str,
    *,
    version: int | None,
    client_id: int | None = None,
    kind: str | None = None,
) -> uuid.UUID | None:
    """Save an edit made from the copy at `version`; never lose either side of a conflict.

    If the note was saved elsewhere after that copy was read, the edit is not written over
    it, and if it was deleted meanwhile it is not lost with it: either way the new words
    become a note of their own (for `client_id` and `kind`, as read) and its id is
    returned. None means the edit was saved in place.
    """
    try:
        update_note(vault, note_id, body, version=version)
    except (ChangedElsewhere, NoteError):
        original = Note.get_or_none((Note.id == note_id) & (Note.coach == vault.coach))
        if original is not None:
            client_id, kind = original.client_id, original.kind
        if client_id is None or kind is None:
            raise
        return add_note(vault, client_id, kind, body)
    return None


def list_notes(coach: Coach, *, client_id: int | None = None) -> list[NoteSummary]:
    """Kind, dates and length of each note, newest first; the key is not needed."""
    query = (
        Note.select(
            Note.id,
            Note.client,
            Client.name,
            Note.kind,
            Note.written_on,
            Note.updated_at,
            Note.body_sealed,
            Note.version,
        )
        .join(Client)
        .where(Note.coach == coach)
        .order_by(Note.written_on.desc(), Note.updated_at.desc())
    )
    if client_id is not None:
        query = query.where(Note.client == client_id)
    return [
        NoteSummary(nid, cid, name, kind, written, updated, plaintext_length(sealed), version)
        for nid, cid, name, kind, written, updated, sealed, version in query.tuples()
    ]


def read_note(vault: Vault, note_id: uuid.UUID) -> NoteBody:
    note = (
        Note.select(Note, Client.uid)
        .join(Client)
        .where((Note.id == note_id) & (Note.coach == vault.coach))
        .objects()
        .first()
    )
    if note is None:
        raise NoteError("that note no longer exists")
    bound = note_bound(note.uid, note.kind, note.written_on)
    body = vault.open_note(note.body_sealed, note.id, bound)
    return NoteBody(note.id, note.client_id, note.kind, note.written_on, body, note.version)


@dataclass(frozen=True)
class NoteHit:
    id: uuid.UUID
    client_id: int
    client_name: str
    kind: str
    written_on: dt.date
    excerpt: str
    line: str = ""  # the line the words were found on, cut to about LINE_CHARS around them
    at: int = -1  # where the words start in `line` (-1: not found as typed, e.g. ß and ss)
    length: int = 0  # how many characters of `line` they take


def _excerpt(body: str, start: int, length: int, context: int = 40) -> str:
    lo = max(start - context, 0)
    hi = min(start + length + context, len(body))
    return ("…" if lo else "") + body[lo:hi] + ("…" if hi < len(body) else "")


def search_notes(vault: Vault, query: str, *, client_id: int | None = None) -> list[NoteHit]:
    """Find notes whose words contain `query` (any case), decrypting in memory as it goes.

    One pass over the coach's notes with no join and no sort in SQL, and no row objects:
    only the notes that match become NoteHits, with their client's name, newest first.
    """
    needle = query.casefold()
    if not needle:
        return []
    scan = _NoteScan(vault, client_id)
    open_, uids, uid_of = scan.opener.open_uuid, scan.uids, scan.uid
    found = []
    # Ids and dates come back as the database stores them: text in SQLite, a uuid and a
    # date in PostgreSQL; their text is what the seal binds.
    for raw_id, sealed, cid, kind, written in scan.rows():
        words = open_(str(raw_id), sealed, (uids.get(cid) or uid_of(cid), kind, str(written)))
        at = words.casefold().find(needle)
        if at >= 0:
            found.append((raw_id, cid, kind, written, _excerpt(words, at, len(needle))))
    if not found:
        return []
    as_id, as_day = Note.id.python_value, Note.written_on.python_value
    hits = [
        NoteHit(as_id(h), cid, scan.name(cid), kind, as_day(written), excerpt)
        for h, cid, kind, written, excerpt in found
    ]
    hits.sort(key=lambda h: h.id.hex)  # ties on the day: by id, as the database orders them
    hits.sort(key=lambda h: h.written_on, reverse=True)
    return hits


class _NoteScan:
    """The coach's notes (or one client's) read in one pass and opened one by one.

    What a search costs beyond reading the rows and decrypting them is Python work per
    note, so the loops over `rows()` do as little as they can; a client's identity and
    name are read when its first note is opened (one by one at first, then all at once),
    so the first hit does not wait for every client to be read.
    """

    def __init__(self, vault: Vault, client_id: int | None) -> None:
        self.opener = vault.opener(table=NOTE_TABLE, column=NOTE_COLUMN)
        self._clients: dict[int, tuple[object, str]] = {}
        self.uids: dict[int, str] = {}  # dashed, as seals bind them
        self._lookups = 0
        self._all_read = False
        self.client_id = client_id
        self.coach = vault.coach

    def _client(self, cid: int) -> tuple[object, str]:
        """(uid as stored, name): the first few clients one by one, so the first notes open
        before every client is read; then every client of the scan in one query."""
        found = self._clients.get(cid)
        if found is not None or self._all_read:
            return found or (None, "")
        meta = Client._meta
        columns = (meta.primary_key, meta.fields["uid"], meta.fields["name"])
        select = ", ".join(f'"{field.column_name}"' for field in columns)
        where = f'"{meta.fields["coach"].column_name}" = {db.param}'
        params: list = [self.coach.id]
        self._lookups += 1
        one = self.client_id if self.client_id is not None else cid
        if self._lookups <= EARLY_CLIENT_LOOKUPS or self.client_id is not None:
            where += f' AND "{meta.primary_key.column_name}" = {db.param}'
            params.append(one)
        else:
            self._all_read = True
        rows = db.execute_sql(f'SELECT {select} FROM "{meta.table_name}" WHERE {where}', params)
        for row_cid, uid, name in rows:
            self._clients[row_cid] = (uid, name)
        if self.client_id is not None:
            self._all_read = True
        return self._clients.get(cid) or (None, "")

    def name(self, cid: int) -> str:
        return self._client(cid)[1]

    def uid(self, cid: int) -> str:
        """The client's identity as a note's seal binds it (dashed), "" if it has none."""
        uid = self.uids.get(cid)
        if uid is None:
            raw = self._client(cid)[0]
            uid = self.uids[cid] = "" if raw is None else str(uuid.UUID(str(raw)))
        return uid

    def rows(self):
        """The notes to open, as the database stores them: (id, sealed, client, kind, day)."""
        scan = Note.select(Note.id, Note.body_sealed, Note.client, Note.kind, Note.written_on)
        scan = scan.where(Note.coach == self.coach)
        if self.client_id is not None:
            scan = scan.where(Note.client == self.client_id)
        sql, params = scan.sql()
        return db.execute_sql(sql, params)


# Clients looked up one by one before a scan reads them all at once (see _NoteScan).
EARLY_CLIENT_LOOKUPS = 16

LINE_CHARS = 120  # a note's line as a list shows it: enough for a wide terminal


def first_line(body: str, limit: int = LINE_CHARS) -> str:
    """The first line with words on it, cut to `limit` characters with an ellipsis."""
    for line in body.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def _opening(vault: Vault, client_id: int | None):
    """The rows to open, as the database gives them, and how to open each one."""
    opener = vault.opener(table=NOTE_TABLE, column=NOTE_COLUMN)
    clients = Client.select(Client.id, Client.uid).where(Client.coach == vault.coach)
    if client_id is not None:
        clients = clients.where(Client.id == client_id)
    uids = {cid: str(uuid.UUID(str(uid))) for cid, uid in clients.tuples()}
    scan = Note.select(Note.id, Note.body_sealed, Note.client, Note.kind, Note.written_on).where(
        Note.coach == vault.coach
    )
    if client_id is not None:
        scan = scan.where(Note.client == client_id)
    open_ = opener.open_uuid

    def body(raw_id, sealed, cid, kind, written) -> str:
        # Ids and dates as the database stores them: text in SQLite, typed in PostgreSQL.
        return open_(str(raw_id), sealed, (uids.get(cid, ""), kind, str(written)))

    return scan, body


def note_first_lines(vault: Vault, *, client_id: int) -> dict[uuid.UUID, str]:
    """Each of a client's notes' first line, for a list shown while the notes are open."""
    scan, body = _opening(vault, client_id)
    sql, params = scan.sql()
    as_id = Note.id.python_value
    return {
        as_id(raw_id): first_line(body(raw_id, sealed, cid, kind, written))
        for raw_id, sealed, cid, kind, written in db.execute_sql(sql, params)
    }


@dataclass(frozen=True)
class SearchStep:
    """How far a search has gone: notes opened of all there are, and the hits found since
    the last step (each hit is handed on once)."""

    opened: int
    total: int
    hits: tuple[NoteHit, ...] = ()


def _found_line(body: str, needle: str, pattern: re.Pattern[str]) -> tuple[str, int, int]:
    """The line holding the words, cut around them, and where they are in it."""
    for line in body.splitlines():
        if needle not in line.casefold():
            continue
        line = line.strip()
        match = pattern.search(line)
        if match is None:  # found only once case-folded (ß and ss): the line, unmarked
            return first_line(line), -1, 0
        start, end = match.span()
        lo = max(0, start - 30) if len(line) > LINE_CHARS else 0
        hi = min(len(line), max(end, lo + LINE_CHARS))
        shown = ("…" if lo else "") + line[lo:hi] + ("…" if hi < len(line) else "")
        return shown, start - lo + (1 if lo else 0), end - start
    return "", -1, 0


def search_notes_stream(
    vault: Vault,
    query: str,
    *,
    client_id: int | None = None,
    every: int = 200,
    count_first: bool = True,
) -> Iterator[SearchStep]:
    """Search as `search_notes` does, handing on each hit the moment its note is opened.

    A step comes with every hit, and at least every `every` notes so a progress line can
    move; the last step has opened == total. Nothing is sorted: hits arrive as the notes
    are read. Stopping early (closing the generator) ends the scan.

    Counting the notes first costs a pass over an index (tens of milliseconds at 200,000
    notes) before anything is opened; with `count_first=False` the steps carry total 0
    until the first hit is handed on or `every` notes are read, and are counted then.
    """
    needle = query.casefold()

    def counted() -> int:
        total = Note.select().where(Note.coach == vault.coach)
        if client_id is not None:
            total = total.where(Note.client == client_id)
        return total.count()

    count = counted() if count_first or not needle.strip() else 0
    if not needle.strip():
        yield SearchStep(count, count)
        return
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    scan = _NoteScan(vault, client_id)
    open_, uids, uid_of = scan.opener.open_uuid, scan.uids, scan.uid
    as_id, as_day = Note.id.python_value, Note.written_on.python_value
    opened = 0
    uncounted = not count_first
    yield SearchStep(0, count)
    for raw_id, sealed, cid, kind, written in scan.rows():
        words = open_(str(raw_id), sealed, (uids.get(cid) or uid_of(cid), kind, str(written)))
        opened += 1
        at = words.casefold().find(needle)
        if at >= 0:
            line, start, length = _found_line(words, needle, pattern)
            hit = NoteHit(
                as_id(raw_id),
                cid,
                scan.name(cid),
                kind,
                as_day(written),
                _excerpt(words, at, len(needle)),
                line,
                start,
                length,
            )
            yield SearchStep(opened, max(count, opened), (hit,))
        elif opened % every == 0:
            if uncounted:
                count, uncounted = counted(), False
            yield SearchStep(opened, max(count, opened))
            continue
        else:
            continue
        if uncounted:
            count, uncounted = counted(), False
    yield SearchStep(opened, max(count, opened))
