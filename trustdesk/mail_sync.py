"""Mail on the server feeds the contact cadence: `trustdesk mail sync`.

The coach's mail is already files on the server: a Maildir (cur/ and new/, as mutt,
neomutt, mbsync, offlineimap and fetchmail keep it) or an mbox file. Each message's
headers are read (never its body, which is neither stored nor logged) and matched
against every address of the coach's clients and the coach's own addresses:

- from a client: an inbound email touch for that client (clients in its To or Cc are
  not touched: the message is the sender's contact with the coach, not theirs);
- from the coach to clients (To or Cc): an outbound email touch per client;
- from a client, answering a prompt the coach sent (its In-Reply-To or References
  names the prompt's Message-ID, else its Subject is "Re: <the prompt's title>" on or
  after the day it was sent): a reply touch, so the prompt stops awaiting a reply.

Mailing lists, bulk mail and automatic replies are skipped, and so are messages dated
after now. Each touch carries the message's Message-ID (or a hash of its headers when it
has none), which the database keeps unique per coach and client, so a message is logged
once however often, and from however many terminals, sync runs.

A source is read incrementally: its mark (table mail_source) holds, for a Maildir, the
messages already seen, keyed by the part of the file name before ":" (a reader moving a
message from new/ to cur/ or flagging it keeps it) and, once they have settled, the
modification times of new/ and cur/, so an unchanged Maildir is not even listed; for an
mbox, its size, modification
time and how far it was read, so a grown file is read from there on and a shrunk or
rewritten one from the start. A Maildir source is the one folder named: a Maildir++
subfolder (~/Maildir/.Sent) is a source of its own, named beside it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import socket
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustdesk.config import Settings
from trustdesk.store.models import Client, Coach, MailSource, Prompt, Touch, db, ways_to_reach
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import ActionError

MAX_SUMMARY = 2000  # as trust.prompts: a touch's summary
HEAD_CHUNK = 16384  # bytes read at a time until a message's headers end
BATCH = 500  # rows per INSERT and per IN (...) lookup

TOUCH_FIELDS = [
    Touch.coach, Touch.client, Touch.occurred_on, Touch.channel, Touch.direction,
    Touch.counts_for_cadence, Touch.summary, Touch.prompt, Touch.source, Touch.message_id,
    Touch.version,
]  # fmt: skip

# Why a message was read but logs nothing, as the command names them.
SKIP_REASONS = {
    "list": "lists",
    "auto_reply": "auto-replies",
    "bulk": "bulk mail",
    "future": "dated in the future",
    "before_since": "before --since",
    "undated": "undated",
    "unreadable": "unreadable",
}
REPLY_PREFIX = re.compile(r"^\s*(?:re|aw)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
NOT_AUTOMATIC = {"", "no"}


class MailSyncError(ActionError):
    """A source that cannot be read; nothing was written."""


@dataclass(frozen=True)
class SyncedTouch:
    """A touch mail sync logged (or, in a dry run, would log)."""

    client_id: int
    client: str
    day: dt.date
    direction: str  # "inbound" or "outbound"
    channel: str  # "email", or "reply" for an answer to a prompt
    subject: str
    message_id: str
    prompt_id: int | None
    source: str


@dataclass(frozen=True)
class SourceCounts:
    source: str  # as named (in settings or on the command line)
    kind: str  # "maildir" or "mbox"
    read: int  # messages parsed this run (the new ones)
    logged: int  # touches written (or that would be)
    unmatched: int  # read, but from or to no client
    skipped: tuple[tuple[str, int], ...]  # (reason, count), reasons of SKIP_REASONS
    reread: bool = False  # an mbox that shrank or changed: read again from its start

    @property
    def skipped_total(self) -> int:
        return sum(n for _, n in self.skipped)


@dataclass(frozen=True)
class MailSyncResult:
    sources: tuple[SourceCounts, ...]
    touches: tuple[SyncedTouch, ...]
    dry_run: bool

    @property
    def read(self) -> int:
        return sum(s.read for s in self.sources)

    @property
    def logged(self) -> int:
        return len(self.touches)

    @property
    def clients(self) -> int:
        return len({t.client_id for t in self.touches})

    @property
    def replies(self) -> int:
        return sum(1 for t in self.touches if t.channel == "reply")

    @property
    def skipped(self) -> tuple[tuple[str, int], ...]:
        total: Counter[str] = Counter()
        for s in self.sources:
            total.update(dict(s.skipped))
        return tuple((r, total[r]) for r in SKIP_REASONS if total[r])


Progress = Callable[[str, int, int], None]  # (source, done, total)


# --- the coach's addresses ------------------------------------------------------------


def login_address() -> str:
    """The address mail from this login carries: user@ the system's mail name.

    Debian's mail servers (exim, postfix) put /etc/mailname after the @ of what a login
    sends, so a coach reading mail on the server with mutt sends as exactly that; without
    it, the host's fully qualified name, as sendmail would.
    """
    user = getpass.getuser()
    try:
        domain = Path("/etc/mailname").read_text().strip()
    except OSError:
        domain = ""
    return f"{user}@{domain or socket.getfqdn()}"


def coach_addresses(coach: Coach, settings: Settings, me: Sequence[str] = ()) -> frozenset[str]:
    """Every address that is the coach: --me, the setting and the coach's email; the
    login's address only when neither --me nor the setting names one."""
    named = [*me, *settings.my_addresses]
    found = {a.strip().casefold() for a in named if a.strip()}
    if coach.email.strip():
        found.add(coach.email.strip().casefold())
    if not named:
        found.add(login_address().casefold())
    return frozenset(found)


def client_addresses(coach: Coach) -> dict[str, tuple[tuple[int, str], ...]]:
    """address -> the clients (id, name) it belongs to; archived clients are left out,
    as they are of every list: mail with them no longer feeds a cadence."""
    found: dict[str, list[tuple[int, str]]] = {}
    rows = (
        Client.select(Client.id, Client.name, Client.email, Client.more_emails)
        .where((Client.coach == coach) & (Client.status != ClientStatus.ARCHIVED))
        .tuples()
    )
    for client_id, name, email, more in rows:
        for address in set(ways_to_reach(email, more)):
            key = address.strip().casefold()
            if key:
                owners = found.setdefault(key, [])
                if (client_id, name) not in owners:
                    owners.append((client_id, name))
    return {k: tuple(v) for k, v in found.items()}


# --- reading sources ------------------------------------------------------------------


def _kind(path: Path, shown: str) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MailSyncError(f"mail source {shown}: no such folder or file") from None
    except OSError as exc:
        raise MailSyncError(f"mail source {shown}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise MailSyncError(
                f"mail source {shown}: a folder, but not a Maildir (it has no cur/ and new/)"
            )
        for sub in ("cur", "new"):
            if not os.access(path / sub, os.R_OK | os.X_OK):
                raise MailSyncError(f"mail source {shown}: cannot be read ({sub}/ is not ours)")
        return "maildir"
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            raise MailSyncError(f"mail source {shown}: cannot be read (permission denied)")
        return "mbox"
    raise MailSyncError(f"mail source {shown}: neither a Maildir folder nor an mbox file")


def _read_head(path: str) -> bytes | None:
    """A message file's header block (None when it has gone: moved since listed)."""
    try:
        with open(path, "rb") as fp:
            data = b""
            while True:
                chunk = fp.read(HEAD_CHUNK)
                data += chunk
                end = _head_end(data)
                if end is not None:
                    return data[:end]
                if not chunk:
                    return data
    except OSError:  # moved since listed, or not the coach's to read
        return None


def _head_end(data: bytes) -> int | None:
    found = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
    return min(found) + 1 if found else None


def _maildir_listing(path: Path) -> dict[str, str]:
    """unique name (before ":") -> the file's name under the folder ("cur/..." or
    "new/..."), over new/ and cur/; dot files are not mail. Plain strings: a Path for
    each of 50,000 names would cost more than listing them."""
    found: dict[str, str] = {}
    for sub in ("new", "cur"):
        for name in os.listdir(path / sub):
            if not name.startswith("."):
                found[name.split(":", 1)[0]] = f"{sub}/{name}"
    return found


# A folder changed this recently may change again within its file system's timestamp
# granularity (a second on some) and keep the same time: its stamp is not trusted yet.
SETTLED_NS = 2_000_000_000


def _maildir_stamp(path: Path) -> dict[str, int] | None:
    """new/ and cur/'s modification times, once both have settled: a message delivered,
    moved, flagged or removed changes them, so the same stamp means nothing to read."""
    stamp = {sub: os.stat(path / sub).st_mtime_ns for sub in ("new", "cur")}
    if time.time_ns() - max(stamp.values()) < SETTLED_NS:
        return None
    return stamp


def _mbox_messages(fp, start: int) -> Iterator[tuple[bytes, int]]:
    """(headers, offset after the message) of each message of an mbox from `start`.

    A message begins with a "From " line at the start of the file or after a blank
    line; only its header lines are kept (the body is skipped, never held).
    """
    fp.seek(start)
    head: list[bytes] | None = None
    in_head = False
    previous_blank = True
    offset = start
    for line in fp:
        if line.startswith(b"From ") and previous_blank:
            if head is not None:
                yield b"".join(head), offset
            head, in_head = [], True
        elif in_head:
            if line in (b"\n", b"\r\n"):
                in_head = False
            else:
                head.append(line)  # type: ignore[union-attr]
        offset += len(line)
        previous_blank = line in (b"\n", b"\r\n")
    if head is not None:
        yield b"".join(head), offset


def _still_there(fp, start: int, size: int, mark: dict, head_hash: str) -> bool:
    """Whether the mbox only grew since it was read up to `start` (else it was rewritten:
    a reader saved flags or deleted messages) and the next message begins there."""
    if start > size or mark.get("head") != head_hash:
        return False
    if start == size:
        return True
    fp.seek(start)
    return fp.read(64).lstrip(b"\r\n").startswith(b"From ")


def _mbox_fingerprint(fp, upto: int) -> str:
    """A hash of the file's first bytes (at most 4 KiB, and none past `upto`): a file
    rewritten from the start no longer has it."""
    fp.seek(0)
    return hashlib.sha256(fp.read(min(4096, upto))).hexdigest()


# --- reading one message --------------------------------------------------------------


@dataclass
class _Message:
    day: dt.date | None
    moment: dt.datetime | None
    subject: str
    message_id: str
    senders: list[str]
    reply_to: list[str]
    recipients: list[str]
    references: list[str]
    skip: str | None = None


def _addresses(message, name: str) -> list[str]:
    from email.utils import getaddresses

    values = message.get_all(name)
    if not values:
        return []
    return [a.casefold() for _, a in getaddresses(values) if "@" in a]


def _decoded(value: str) -> str:
    """An unstructured header as people read it: encoded words (=?utf-8?q?...?=) decoded."""
    if "=?" not in value:
        return value
    from email.policy import default

    try:
        return str(default.header_factory("subject", value))
    except Exception:  # a malformed encoded word: shown as it came
        return value


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _message_ids(text: str) -> list[str]:
    return [m.strip("<>") for m in re.findall(r"<[^<>\s]+>|[^<>\s]+@[^<>\s]+", text)]


def _parse(head: bytes, zone, since: dt.date | None, now: dt.datetime) -> _Message:
    from email.parser import HeaderParser
    from email.policy import compat32
    from email.utils import parsedate_to_datetime

    # Headers only, as plain text: the default policy's parsing of every address header
    # costs a millisecond a message (a minute for a first sync of 50,000); addresses need
    # only getaddresses, and the subject alone is decoded (_decoded). Raw UTF-8 headers,
    # as most mailers now write them, are read as UTF-8.
    text = head.decode("utf-8", "replace")
    message = HeaderParser(policy=compat32).parsestr(text)
    subject = _one_line(_decoded(_one_line(message.get("Subject", "") or "")))
    mid = _one_line(message.get("Message-ID", "") or "")
    if not mid:
        raw = "\n".join(
            _one_line(message.get(h, "") or "") for h in ("From", "To", "Date", "Subject")
        )
        mid = "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()
    references = []
    for name in ("In-Reply-To", "References"):
        for value in message.get_all(name) or ():
            references += _message_ids(str(value))
    parsed = _Message(
        day=None,
        moment=None,
        subject=subject[:MAX_SUMMARY],
        message_id=mid,
        senders=_addresses(message, "From"),
        reply_to=_addresses(message, "Reply-To"),
        recipients=_addresses(message, "To") + _addresses(message, "Cc"),
        references=references,
    )
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        parsed.skip = "list"
        return parsed
    automatic = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if automatic.split(";")[0].strip() not in NOT_AUTOMATIC or any(
        message.get(h) is not None for h in ("X-Autoreply", "X-Autorespond")
    ):
        parsed.skip = "auto_reply"
        return parsed
    if str(message.get("Precedence", "") or "").strip().lower() in ("bulk", "list", "junk"):
        parsed.skip = "bulk"
        return parsed
    try:
        moment = parsedate_to_datetime(_one_line(message.get("Date", "") or ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        moment = None
    if moment is None:
        parsed.skip = "undated"
        return parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    local = moment.astimezone(zone).replace(tzinfo=None)
    parsed.moment, parsed.day = local, local.date()
    if local > now:
        parsed.skip = "future"
    elif since is not None and local.date() < since:
        parsed.skip = "before_since"
    return parsed


# --- matching -------------------------------------------------------------------------


def _subject_key(subject: str) -> str:
    return " ".join(subject.split()).casefold()


def _reply_subject(subject: str) -> str | None:
    """The subject without its Re:/Aw: prefixes, or None when it has none."""
    stripped, n = subject, 0
    while True:
        cut = REPLY_PREFIX.sub("", stripped, count=1)
        if cut == stripped:
            break
        stripped, n = cut, n + 1
    return _subject_key(stripped) if n else None


@dataclass(frozen=True)
class _Sent:
    client_id: int
    prompt_id: int
    day: dt.date
    title_key: str
    message_id: str | None


def _sent_prompts(coach: Coach) -> tuple[dict[tuple[int, str], _Sent], dict[int, list[_Sent]]]:
    """The prompts sent to clients: by (client, Message-ID) and per client, oldest first."""
    by_id: dict[tuple[int, str], _Sent] = {}
    by_client: dict[int, list[_Sent]] = {}
    rows = (
        Touch.select(Touch.client, Touch.prompt, Touch.occurred_on, Prompt.title, Touch.message_id)
        .join(Prompt, on=(Prompt.id == Touch.prompt))
        .where(
            (Touch.coach == coach)
            & (Touch.channel == "journal_prompt")
            & (Touch.direction == "outbound")
        )
        .order_by(Touch.occurred_on, Touch.id)
        .tuples()
    )
    for client_id, prompt_id, day, title, mid in rows:
        sent = _Sent(client_id, prompt_id, day, _subject_key(title), mid)
        if mid:
            by_id[(client_id, mid.strip().strip("<>"))] = sent
        by_client.setdefault(client_id, []).append(sent)
    return by_id, by_client


def _answered(
    client_id: int,
    parsed: _Message,
    by_id: dict[tuple[int, str], _Sent],
    by_client: dict[int, list[_Sent]],
) -> int | None:
    for ref in reversed(parsed.references):
        sent = by_id.get((client_id, ref))
        if sent is not None:
            return sent.prompt_id
    wanted = _reply_subject(parsed.subject)
    if wanted is None:
        return None
    for sent in reversed(by_client.get(client_id, ())):
        if sent.title_key == wanted and parsed.day is not None and sent.day <= parsed.day:
            return sent.prompt_id
    return None


def _touches_for(
    parsed: _Message,
    mine: frozenset[str],
    clients: dict[str, tuple[tuple[int, str], ...]],
    by_id,
    by_client,
    shown: str,
) -> list[SyncedTouch]:
    assert parsed.day is not None
    touches: list[SyncedTouch] = []
    if any(a in mine for a in parsed.senders):
        owners: dict[int, str] = {}
        for address in parsed.recipients:
            for client_id, name in clients.get(address, ()):
                owners.setdefault(client_id, name)
        for client_id, name in owners.items():
            touches.append(
                SyncedTouch(
                    client_id, name, parsed.day, "outbound", "email",
                    parsed.subject, parsed.message_id, None, shown,
                )
            )  # fmt: skip
        return touches
    owners = {}
    for address in parsed.senders:
        for client_id, name in clients.get(address, ()):
            owners.setdefault(client_id, name)
    if not owners:
        # A form or a service sending for the client: its Reply-To is the client.
        for address in parsed.reply_to:
            for client_id, name in clients.get(address, ()):
                owners.setdefault(client_id, name)
    for client_id, name in owners.items():
        prompt_id = _answered(client_id, parsed, by_id, by_client)
        touches.append(
            SyncedTouch(
                client_id, name, parsed.day, "inbound",
                "email" if prompt_id is None else "reply",
                parsed.subject, parsed.message_id, prompt_id, shown,
            )
        )  # fmt: skip
    return touches


# --- writing --------------------------------------------------------------------------


def _already_logged(coach: Coach, touches: list[SyncedTouch]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    ids = sorted({t.message_id for t in touches})
    for i in range(0, len(ids), BATCH):
        rows = (
            Touch.select(Touch.client, Touch.message_id)
            .where((Touch.coach == coach) & Touch.message_id.in_(ids[i : i + BATCH]))
            .tuples()
        )
        found.update(rows)
    return found


def _save_mark(coach: Coach, path: str, mark: dict, moment: dt.datetime) -> None:
    text = json.dumps(mark, separators=(",", ":"))
    MailSource.insert(
        coach=coach, path=path, mark=text, read_at=moment
    ).on_conflict_ignore().execute()
    MailSource.update(mark=text, read_at=moment).where(
        (MailSource.coach == coach) & (MailSource.path == path)
    ).execute()


def _returns_rows(database) -> bool:
    """Whether INSERT ... RETURNING works (PostgreSQL; SQLite from 3.35)."""
    import sqlite3

    import peewee

    if isinstance(database, peewee.PostgresqlDatabase):
        return True
    return sqlite3.sqlite_version_info >= (3, 35)


def _write(
    coach: Coach, path: str, mark: dict, touches: list[SyncedTouch], moment: dt.datetime
) -> list[SyncedTouch]:
    """Log the touches not logged yet and keep the source's mark, in one transaction.

    On SQLite the transaction takes the write lock as it begins (BEGIN IMMEDIATE), so
    another sync waits and then finds these touches logged. On PostgreSQL another sync
    may log the same touches meanwhile: the unique index (coach, client, message_id)
    refuses the second copy, ON CONFLICT DO NOTHING (SQLite: OR IGNORE) lets this one
    go on, and RETURNING says which rows were this run's.
    """
    database = db.obj
    written: list[SyncedTouch] = []
    with db.atomic():
        logged = _already_logged(coach, touches)
        todo = sorted(
            (t for t in touches if (t.client_id, t.message_id) not in logged),
            key=lambda t: (t.client_id, t.message_id),
        )
        by_key = {(t.client_id, t.message_id): t for t in todo}
        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            rows = [
                (coach.id, t.client_id, t.day, t.channel, t.direction, True, t.subject,
                 t.prompt_id, "mail", t.message_id, 1)
                for t in batch
            ]  # fmt: skip
            query = Touch.insert_many(rows, fields=TOUCH_FIELDS).on_conflict_ignore()
            if _returns_rows(database):
                query = query.returning(Touch.client, Touch.message_id)
                written += [by_key[(c, m)] for c, m in database.execute(query).fetchall()]
            else:  # an old SQLite: this transaction holds the write lock, every row is new
                database.execute(query)
                written += batch
        _save_mark(coach, path, mark, moment)
    return written


class _Idle:
    """A source with nothing to read: its counts are all nothing."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.read = self.unmatched = 0
        self.skipped: Counter[str] = Counter()
        self.touches: list[SyncedTouch] = []


class _Tally(_Idle):
    """One source's messages as they are read: what they log and why others log nothing."""

    def __init__(self, zone, since, now, mine, clients, by_id, by_client, shown) -> None:
        super().__init__(shown)
        self.zone, self.since, self.now = zone, since, now
        self.mine, self.clients = mine, clients
        self.by_id, self.by_client = by_id, by_client

    def take(self, head: bytes | None) -> None:
        self.read += 1
        if head is None:
            self.skipped["unreadable"] += 1
            return
        try:
            parsed = _parse(head, self.zone, self.since, self.now)
        except Exception:  # a header no parser makes sense of: that message only
            self.skipped["unreadable"] += 1
            return
        if parsed.skip:
            self.skipped[parsed.skip] += 1
            return
        found = _touches_for(
            parsed, self.mine, self.clients, self.by_id, self.by_client, self.shown
        )
        if not found:
            self.unmatched += 1
        self.touches.extend(found)


# --- the sync -------------------------------------------------------------------------


def _stored_mark(coach: Coach, path: str) -> dict:
    row = (
        MailSource.select(MailSource.mark)
        .where((MailSource.coach == coach) & (MailSource.path == path))
        .tuples()
        .first()
    )
    if row is None:
        return {}
    try:
        mark = json.loads(row[0])
    except ValueError:
        return {}
    return mark if isinstance(mark, dict) else {}


def sync_mail(
    coach: Coach,
    sources: Sequence[str],
    *,
    settings: Settings,
    today: dt.date,
    me: Sequence[str] = (),
    dry_run: bool = False,
    since: dt.date | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> MailSyncResult:
    """Read the new messages of each source and log a touch per message per client.

    Every source is checked before anything is read or written: a missing or unreadable
    one is a MailSyncError naming it. A dry run writes nothing, not even the marks.
    """
    import zoneinfo

    from trustdesk import config

    if not sources:
        raise MailSyncError(
            "no mail source: name a Maildir folder or an mbox file "
            "(trustdesk mail sync ~/Maildir), or list them as mail_sources in settings.toml"
        )
    checked = []
    for shown in sources:
        path = Path(shown).expanduser()
        checked.append((shown, path, _kind(path, shown)))
    try:
        zone = zoneinfo.ZoneInfo(config.time_zone_name(settings))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    if now is None:
        now = config.now() if today == config.today() else dt.datetime.combine(today, dt.time.max)
    moment = config.now()
    lookups: list = []

    def tally_for(shown: str) -> _Tally:
        # The coach's and clients' addresses and the prompts sent are read once, and only
        # when a source has something to read.
        if not lookups:
            lookups.extend((coach_addresses(coach, settings, me), client_addresses(coach)))
            lookups.extend(_sent_prompts(coach))
        return _Tally(zone, since, now, *lookups, shown)

    results: list[SourceCounts] = []
    logged: list[SyncedTouch] = []
    taken: set[tuple[int, str]] = set()
    for shown, path, kind in checked:
        key = str(path.resolve())
        mark = _stored_mark(coach, key)
        tally = _Idle(shown)
        reread = False

        if kind == "maildir":
            # Stamped before listing: a change made while listing leaves a newer stamp.
            stamp = _maildir_stamp(path)
            if stamp is not None and "seen" in mark and mark.get("folders") == stamp:
                new_mark = None  # neither folder changed since the last read
            else:
                tally = tally_for(shown)
                listing = _maildir_listing(path)
                seen = set(mark.get("seen", ()))
                fresh = sorted(k for k in listing if k not in seen)
                for n, name in enumerate(fresh, 1):
                    head = _read_head(os.path.join(path, listing[name]))
                    tally.take(head)
                    if progress is not None and (n % 200 == 0 or n == len(fresh)):
                        progress(shown, n, len(fresh))
                # Seen: what is still there (gone messages need not be remembered), less
                # any that vanished between listing and reading (moved: read next time).
                gone = {n for n in fresh if not os.path.exists(os.path.join(path, listing[n]))}
                new_mark = {"seen": sorted(k for k in listing if k not in gone), "folders": stamp}
                if not fresh and mark.get("folders") == stamp:
                    new_mark = None  # nothing new and nothing to remember: nothing to write
        else:
            info = path.stat()
            if mark.get("size") == info.st_size and mark.get("mtime_ns") == info.st_mtime_ns:
                new_mark = None
            else:
                tally = tally_for(shown)
                take = tally.take
                with open(path, "rb") as fp:
                    start = int(mark.get("offset", 0) or 0)
                    if start and not _still_there(
                        fp, start, info.st_size, mark, _mbox_fingerprint(fp, start)
                    ):
                        start, reread = 0, True
                    end = start
                    total = max(info.st_size - start, 1)
                    for n, (head, end) in enumerate(_mbox_messages(fp, start), 1):
                        take(head)
                        if progress is not None and n % 200 == 0:
                            progress(shown, end - start, total)
                    if progress is not None:
                        progress(shown, total, total)
                    head_hash = _mbox_fingerprint(fp, end)
                new_mark = {
                    "size": info.st_size,
                    "mtime_ns": info.st_mtime_ns,
                    "offset": end,
                    "head": head_hash,
                }
        touches = []
        for touch in tally.touches:  # a message twice (copies in two folders): once
            if (touch.client_id, touch.message_id) not in taken:
                taken.add((touch.client_id, touch.message_id))
                touches.append(touch)
        if dry_run:
            already = _already_logged(coach, touches)
            written = [t for t in touches if (t.client_id, t.message_id) not in already]
        elif new_mark is not None:
            written = _write(coach, key, new_mark, touches, moment)
        else:
            written = []
        logged += written
        results.append(
            SourceCounts(
                source=shown,
                kind=kind,
                read=tally.read,
                logged=len(written),
                unmatched=tally.unmatched,
                skipped=tuple((r, tally.skipped[r]) for r in SKIP_REASONS if tally.skipped[r]),
                reread=reread,
            )
        )
    return MailSyncResult(sources=tuple(results), touches=tuple(logged), dry_run=dry_run)
