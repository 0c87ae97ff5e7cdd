"""A synthetic coaching practice that is the same every time, for demos, tests and benchmarks.

The same seed, `today` and size always give the same rows: every choice comes from one
`random.Random(seed)` and every date is counted back from `today`, never from the wall
clock. The practice has a shape a coach would recognise: clients at every stage of three
programs, promises kept, kept late, renegotiated and dropped, sessions started late,
and a few clients who have gone quiet.

Rows are written through the store's bulk writer with ids assigned here, so children can
point at parents without reading anything back. That keeps 10,000 clients with a million
touches to seconds. The store builds the file privately and links it into place only when
it is complete, so a half-built demo never sits where trustdesk would open it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tomllib
import unicodedata
import uuid
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter
from pathlib import Path

import peewee

from trustdesk.store.bulk import BulkWriter, new_database_built, row_columns, stamp_schema_history
from trustdesk.store.database import StoreError
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
    minutes_late,
    name_key,
)
from trustdesk.trust.common import assets_dir
from trustdesk.trust.common import tidy as _tidy
from trustdesk.trust.contact import cadence_state
from trustdesk.trust.journey.templates import ProgramTemplate, program_templates

Progress = Callable[[str, int, int], None]

MIN_HISTORY_DAYS = 60
MAX_HISTORY_DAYS = 3650

# How a practice is usually spread across the client lifecycle; the rest are active.
STATUS_SHARES = (("prospect", 0.06), ("paused", 0.08), ("completed", 0.15))
# Among active clients: gone quiet (past the maximum gap) and due (past the ideal gap).
QUIET_SHARE = 0.09
DUE_SHARE = 0.18
SNOOZED_SHARE = 0.04
IDEAL_GAPS = (7, 7, 10, 14)
MAX_GAP_FACTORS = (2.0, 2.5, 3.0)
SESSION_INTERVALS = (7, 14, 14, 14, 21, 28)
SESSION_LENGTHS = (45, 60, 60, 60, 60, 90)
DUE_AFTER_DAYS = (2, 3, 5, 7, 7, 7, 10, 14, 14, 21)
COACH_OWNED_SHARE = 0.45
# Promises that came due: the share kept on time, then kept late, then still open (cumulative);
# the rest were dropped. The coach keeps more of theirs than clients do, as a good coach would.
PAST_DUE_FATES = {"coach": (0.84, 0.92, 0.97), "client": (0.66, 0.82, 0.94)}
STALE_AFTER_DAYS = 30
# Contact between sessions and how common each kind is. Paperwork never counts for cadence,
# nor do the reminders a quiet client left unanswered (NUDGE_KIND).
TOUCH_KINDS = (
    # channel, direction, counts for cadence, library list, weight
    ("email", "outbound", True, "email_outbound", 18),
    ("email", "inbound", True, "email_inbound", 12),
    ("call", "outbound", True, "call_outbound", 5),
    ("call", "inbound", True, "call_inbound", 3),
    ("message", "outbound", True, "message_outbound", 10),
    ("message", "inbound", True, "message_inbound", 12),
    ("journal_prompt", "outbound", True, "journal_prompt_outbound", 12),
    ("reply", "inbound", True, "reply_inbound", 12),
    ("email", "outbound", False, "admin_outbound", 5),
)
NUDGE_KIND = ("message", "outbound", False, "nudge_outbound")

# Progress is reported every this many clients; rows are written parents before children.
CLIENTS_PER_CHUNK = 200
WRITE_ORDER = (
    Coach, Program, Stage, Prompt, Client, StageChange, Session, Commitment, Touch, Outcome,
    Note,
)  # fmt: skip
# The demo's private notes open with this passphrase; `trustdesk demo` says so.
DEMO_PASSPHRASE = "demo"
# Demo clients' identities (bound in their notes' seals): derived from the client's id,
# so the demo stays the same build after build without drawing from its random stream.
DEMO_CLIENTS = uuid.UUID("5f1d2c0e-8b4a-4e36-9d1f-7a3c6b2e9d40")
NOTE_KINDS_BY_WEIGHT = (
    ("session", 6), ("goal", 2), ("struggle", 2), ("belief", 1), ("regret", 1),
    ("past_experience", 1),
)  # fmt: skip


# --- what callers see --------------------------------------------------------------


@dataclass(frozen=True)
class DemoSize:
    """How big a practice to make; None lets cadences and sessions decide the amount."""

    clients: int = 48
    touches: int | None = None
    commitments: int | None = None
    history_days: int = 365
    notes: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.clients, bool) or not isinstance(self.clients, int) or self.clients < 1:
            raise ValueError("a demo needs at least one client")
        for label, value in (
            ("touches", self.touches),
            ("commitments", self.commitments),
            ("notes", self.notes),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(f"demo {label} must be a whole number, zero or more")
        if not MIN_HISTORY_DAYS <= self.history_days <= MAX_HISTORY_DAYS:
            raise ValueError(
                f"demo history must be {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS} days long"
            )


@dataclass(frozen=True)
class DemoSummary:
    """What was built, in rows, for the one line `trustdesk demo` prints."""

    coach_name: str
    clients: int
    programs: int
    sessions: int
    commitments: int
    touches: int
    outcomes: int
    notes: int = 0


# --- the text library ----------------------------------------------------------------


def demo_library() -> dict:
    """Names, promises, touch summaries and outcomes the demo draws from (assets/demo.toml)."""
    return tomllib.loads((assets_dir() / "demo.toml").read_text(encoding="utf-8"))


# --- building ------------------------------------------------------------------------


def build_demo(
    database_path: Path,
    *,
    seed: int = 7,
    today: dt.date,
    size: DemoSize = DemoSize(),
    progress: Progress | None = None,
) -> DemoSummary:
    """Build a demo practice in a new SQLite file at `database_path`.

    Refuses a path that already exists. The models' proxy is left as it was found, so
    the caller opens the finished file with `open_database(database_path)`.
    """
    final = Path(database_path).expanduser()
    if os.path.lexists(final):
        raise StoreError(f"{final} already exists; the demo never overwrites a database")
    if isinstance(today, dt.datetime):
        today = today.date()
    with new_database_built(final) as database:
        # The practice's id from the seed, as every other row: the same demo, the same file.
        database.execute_sql(
            'UPDATE "practice" SET "uid" = ?', (uuid.uuid5(DEMO_CLIENTS, f"practice {seed}").hex,)
        )
        builder = _Practice(database, seed, today, size, progress)
        summary = builder.build()
        builder.report("finishing", 0, 1)
    builder.report("finishing", 1, 1)
    return summary


def share_out(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` into whole parts proportional to `weights`, summing exactly to `total`.

    Largest remainders win the leftover units, ties to the earlier index, all in integers
    so the split is the same on every machine.
    """
    if not weights:
        return []
    weights = [max(0, w) for w in weights]
    whole = sum(weights)
    if whole == 0:
        weights = [1] * len(weights)
        whole = len(weights)
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def _ascii_name(text: str) -> str:
    """A name folded to the letters an email address can carry."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == "-")).lower()


_FOLD = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d",
     "Đ": "D", "ı": "i", "œ": "oe", "Œ": "Oe"}
)  # fmt: skip


class _NoteSealer:
    """Seals many notes under the vault's key as `Vault.seal_note` does (the same format,
    associated data and binding), with one AES-GCM object and the fixed parts of the
    associated data built once."""

    def __init__(self, vault) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from trustdesk.vault.sealing import FORMAT_VERSION, NONCE_BYTES, associated_data
        from trustdesk.vault.vault import NOTE_COLUMN, NOTE_TABLE

        key_id, key = vault._require()  # the unlocked data key; the vault has no getter
        self._encrypt = AESGCM(key).encrypt
        self._nonce_bytes = NONCE_BYTES
        self._header = bytes([FORMAT_VERSION]) + bytes.fromhex(key_id)
        whole = associated_data(NOTE_TABLE, "\0", NOTE_COLUMN, key_id, FORMAT_VERSION)
        self._prefix, _, self._suffix = whole.partition(b"\0")

    def seal(self, text: str, hex_id: str, client_uid: str, kind: str, written_on: str) -> bytes:
        """`client_uid` dashed and `written_on` as YYYY-MM-DD, as note_bound gives them."""
        h = hex_id
        row_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        aad = (
            self._prefix
            + f"{row_id}".encode()
            + self._suffix
            + f"\x1f{client_uid}\x1f{kind}\x1f{written_on}".encode()
        )
        nonce = os.urandom(self._nonce_bytes)
        body = self._encrypt(nonce, text.encode("utf-8", "surrogatepass"), aad)
        return self._header + nonce + body


class _Plan:
    """One client's story before any row is written: status, rhythm and contact state."""

    __slots__ = (
        "id",
        "name",
        "email",
        "phone",
        "status",
        "program",
        "ideal",
        "max_gap",
        "start",
        "end",
        "interval",
        "weekday",
        "minute_of_day",
        "duration",
        "contact",
        "last_contact",
        "snoozed_until",
        "consent",
        "created_at",
    )


class _ProgramRows:
    """A program as written: ids of its stages and where each stage's sessions end."""

    def __init__(self, program_id: int, template: ProgramTemplate, first_stage_id: int):
        self.id = program_id
        self.template = template
        self.stage_ids = [first_stage_id + i for i in range(len(template.stages))]
        self.stage_names = [stage.name for stage in template.stages]
        bounds, total = [], 0
        for stage in template.stages:
            total += stage.typical_sessions
            bounds.append(total)
        self.bounds = bounds
        self.total_sessions = total


class _Practice:
    """The builder: one random stream, consumed in one fixed order, writing as it goes."""

    def __init__(
        self,
        database: peewee.Database,
        seed: int,
        today: dt.date,
        size: DemoSize,
        progress: Progress | None,
    ) -> None:
        self.database = database
        self.rng = random.Random(seed)
        self.today = today.toordinal()
        self.size = size
        self.progress = progress
        self.library = demo_library()
        self.templates = program_templates()
        # Every date the demo can name, as the text SQLite stores, indexed by ordinal - base.
        self.base = self.today - size.history_days - 60
        self.days = [dt.date.fromordinal(o).isoformat() for o in range(self.base, self.today + 120)]
        self.coach_id = 1
        self.next_id = {model: 1 for model in (Session, Commitment, Touch, Outcome, StageChange)}
        self.vault = None
        self.rows = BulkWriter(database, WRITE_ORDER)
        self._touch_table = self._touch_kinds()
        # Which prompt a journal prompt was: its own stream, so the rest of the demo is the
        # same with or without the prompt library.
        self.prompt_rng = random.Random(f"{seed}-prompts")
        self.prompt_ids: list[int] = []
        # What a coach opening the demo should always find, however small it is; each is
        # forced on the first chance if chance alone has not produced it yet.
        self.missing = {"overdue coach promise", "late promise", "dropped", "renegotiated"}
        self.missing |= {"late session", "no_show", "waiting outcome"}

    # --- plumbing --------------------------------------------------------------------

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def day(self, ordinal: int) -> str:
        return self.days[ordinal - self.base]

    def stamp(self, ordinal: int, minute_of_day: int) -> str:
        hour, minute = divmod(minute_of_day, 60)
        return f"{self.days[ordinal - self.base]} {hour:02d}:{minute:02d}:00"

    # --- the practice ----------------------------------------------------------------

    def build(self) -> DemoSummary:
        self._check_columns()
        coach_name = self._coach()
        self.report("programs", 0, 1)
        programs = self._programs()
        self.prompt_ids = self._prompts()
        self.report("programs", 1, 1)
        plans = self._plan_clients(programs)
        self.report("clients", len(plans), len(plans))
        touch_quota = self._quota(self.size.touches, [self._touch_weight(p) for p in plans])
        promise_quota = self._quota(self.size.commitments, [self._promise_weight(p) for p in plans])
        note_quota = self._quota(self.size.notes, [self._note_weight(p) for p in plans])
        self.vault = self._vault()
        self.sealer = _NoteSealer(self.vault)
        total = len(plans)
        self.report("history", 0, total)
        indexes = self._drop_indexes()
        for i, plan in enumerate(plans):
            self._client_history(plan, programs[plan.program], touch_quota[i], promise_quota[i])
            self._notes(plan, note_quota[i])
            if (i + 1) % CLIENTS_PER_CHUNK == 0 or i + 1 == total:
                self.report("history", i + 1, total)
        self.rows.flush()
        self.report("indexes", 0, len(indexes))
        self.database.execute_sql("PRAGMA threads = 2")  # sorting for an index may use two
        for done, (_name, sql) in enumerate(indexes, start=1):
            self.database.execute_sql(sql)
            self.report("indexes", done, len(indexes))
        # The statistics the planner needs for what runs next in the same build (the
        # rollups' rebuild): without them it may scan a coach's every touch per client.
        # Sampled, so it takes milliseconds; the full ANALYZE comes when the file is done.
        self.database.execute_sql("PRAGMA analysis_limit = 1000")
        self.database.execute_sql("ANALYZE")
        self.database.execute_sql("PRAGMA analysis_limit = 0")
        # Stamped with the build day, so the file depends on nothing else.
        stamp_schema_history(self.database, self.stamp(self.today, 8 * 60))
        return DemoSummary(
            coach_name=coach_name,
            clients=self.rows.counts[Client],
            programs=len(programs),
            sessions=self.rows.counts[Session],
            commitments=self.rows.counts[Commitment],
            touches=self.rows.counts[Touch],
            outcomes=self.rows.counts[Outcome],
            notes=self.rows.counts[Note],
        )

    def _drop_indexes(self) -> list[tuple[str, str]]:
        """Drop the history tables' indexes, to be made again from their own SQL at the end.

        Keeping nine indexes of the touch table current row by row is most of a large
        build once they outgrow the page cache; building each once from the finished
        table sorts instead. Unique indexes are checked when they are made again, so a
        build that broke one still fails, only later. Constraint indexes (a primary key
        that is not the rowid) have no SQL of their own and stay.
        """
        fixed = (Coach, Program, Stage, Prompt)
        tables = [m._meta.table_name for m in WRITE_ORDER if m not in fixed]
        marks = ", ".join(self.database.param for _ in tables)
        indexes = self.database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY rowid",
            tables,
        ).fetchall()
        for name, _sql in indexes:
            self.database.execute_sql(f'DROP INDEX "{name}"')
        return indexes

    def _check_columns(self) -> None:
        """The hot paths build tuples by hand; fail loudly if the models' columns move."""
        expected = {
            Session: ("id", "coach", "client", "scheduled_start", "actual_start",
                      "late_minutes", "duration_minutes", "status", "stage", "cancelled_by",
                      "calendar_key"),
            Commitment: ("id", "coach", "client", "owner", "title", "promised_on", "due_on",
                         "done_on", "status", "reason", "renegotiated_from", "asked_by"),
            Touch: ("id", "coach", "client", "occurred_on", "channel", "direction",
                    "counts_for_cadence", "summary", "prompt", "session", "source",
                    "message_id"),
            StageChange: ("id", "coach", "client", "stage", "changed_on"),
            Outcome: ("id", "coach", "client", "achieved_on", "title", "detail"),
            Note: ("id", "coach", "client", "kind", "written_on", "updated_at", "body_sealed"),
        }  # fmt: skip
        for model, names in expected.items():
            if row_columns(model) != names:
                raise RuntimeError(f"the demo does not know the new columns of {model.__name__}")

    def _coach(self) -> str:
        names = self.library["coach"]["names"]
        name = names[self.rng.randrange(len(names))]
        first, _, last = name.partition(" ")
        email = f"{_ascii_name(first)}@{_ascii_name(last)}.{self.library['coach']['email_domain']}"
        # Stamped with the build day: `trustdesk demo` reads it to tell a stale demo.
        self.rows.add(
            Coach,
            self.rows.row(
                Coach,
                id=self.coach_id,
                name=name,
                email=email,
                created_at=self.stamp(self.today, 8 * 60),
            ),
        )
        self.rows.flush(Coach)
        return name

    def _prompts(self) -> list[int]:
        """The prompt library, as the coach's own prompts (ids 1..n)."""
        from trustdesk.trust.prompts import library

        ids = []
        for prompt_id, template in enumerate(library(), start=1):
            self.rows.add(
                Prompt,
                self.rows.row(
                    Prompt,
                    id=prompt_id,
                    coach=self.coach_id,
                    habit=template.habit,
                    stage_hint=template.stage_hint,
                    title=template.title,
                    body=template.body,
                ),
            )
            ids.append(prompt_id)
        self.rows.flush(Prompt)
        return ids

    def _programs(self) -> list[_ProgramRows]:
        programs = []
        stage_id = 1
        for program_id, template in enumerate(self.templates, start=1):
            programs.append(_ProgramRows(program_id, template, stage_id))
            self.rows.add(
                Program,
                self.rows.row(
                    Program,
                    id=program_id,
                    coach=self.coach_id,
                    name=template.name,
                    summary=template.summary,
                    typical_sessions=template.typical_sessions,
                ),
            )
            for position, stage in enumerate(template.stages, start=1):
                self.rows.add(
                    Stage,
                    self.rows.row(
                        Stage,
                        id=stage_id,
                        coach=self.coach_id,
                        program=program_id,
                        position=position,
                        name=stage.name,
                        purpose=stage.purpose,
                        typical_sessions=stage.typical_sessions,
                        asks_of_client=stage.asks_of_client,
                    ),
                )
                stage_id += 1
        self.rows.flush(Program)
        self.rows.flush(Stage)
        return programs

    # --- clients ---------------------------------------------------------------------

    def _deck(self, n: int, shares: Sequence[tuple[str, float]], rest: str, least: int) -> list:
        """Exactly the intended mix, shuffled: at least one of each once n reaches `least`."""
        deck: list[str] = []
        for label, share in shares:
            count = round(n * share)
            if n >= least:
                count = max(1, count)
            deck.extend([label] * count)
        deck = deck[:n]
        deck.extend([rest] * (n - len(deck)))
        self.rng.shuffle(deck)
        return deck

    def _plan_clients(self, programs: list[_ProgramRows]) -> list[_Plan]:
        rng = self.rng
        n = self.size.clients
        statuses = self._deck(n, STATUS_SHARES, "active", least=8)
        active_count = statuses.count("active")
        contacts = iter(
            self._deck(active_count, (("quiet", QUIET_SHARE), ("due", DUE_SHARE)), "ok", least=3)
        )
        names = self._client_names(n)
        plans = []
        for i in range(n):
            plan = _Plan()
            plan.id = i + 1
            plan.name, plan.email = names[i]
            plan.phone = self._phone()
            plan.status = statuses[i]
            plan.program = rng.randrange(len(programs))
            plan.ideal = IDEAL_GAPS[rng.randrange(len(IDEAL_GAPS))]
            plan.max_gap = round(plan.ideal * MAX_GAP_FACTORS[rng.randrange(3)])
            plan.interval = SESSION_INTERVALS[rng.randrange(len(SESSION_INTERVALS))]
            plan.weekday = rng.randrange(5)
            plan.minute_of_day = rng.randrange(16, 36) * 30  # 08:00 to 17:30
            plan.duration = SESSION_LENGTHS[rng.randrange(len(SESSION_LENGTHS))]
            plan.contact = next(contacts) if plan.status == "active" else None
            plan.snoozed_until = None
            plan.consent = False
            self._plan_dates(plan, programs[plan.program])
            plans.append(plan)
        self._snooze_some(plans)
        for plan in plans:
            if plan.status == "completed":
                plan.consent = rng.random() < 0.5
            elif plan.status == "active":
                plan.consent = rng.random() < 0.06
        return plans

    def _plan_dates(self, plan: _Plan, program: _ProgramRows) -> None:
        """When the client started, and the last day anything counted as contact."""
        rng = self.rng
        today = self.today
        history = self.size.history_days
        total = program.total_sessions
        if plan.status == "prospect":
            age = rng.randint(1, 40)
        elif plan.status == "completed":
            # Long enough ago to have finished, with room for a few cancellations.
            age = min(history, plan.interval * (total + 2) + rng.randint(14, 60))
        elif plan.status == "paused":
            age = rng.randint(45, history)
        else:
            least = {"ok": 10, "due": plan.max_gap + 10, "quiet": plan.max_gap + 30}[plan.contact]
            least = min(least, history)
            most = max(least, min(history, plan.interval * (total - 1)))
            age = rng.randint(least, most)
        plan.start = today - age
        lead = 0 if plan.status == "prospect" else rng.randint(3, 21)
        plan.created_at = self.stamp(plan.start - lead, rng.randrange(16, 36) * 30)
        if plan.status == "paused":
            plan.end = plan.start + rng.randint(21, age - 14)
        elif plan.status == "completed":
            plan.end = today - 7  # narrowed to the last session once sessions are laid out
        else:
            plan.end = today
        plan.last_contact = None
        if plan.status == "active":
            # How long ago the last contact was, with a day or two of margin inside the
            # state the story wants; what state that is, the cadence rule itself says.
            if plan.contact == "quiet" and age - 3 >= plan.max_gap + 2:
                since = rng.randint(plan.max_gap + 2, min(age - 3, plan.max_gap + 45))
            elif plan.contact in ("quiet", "due") and age - 3 >= plan.ideal + 1:
                since = rng.randint(plan.ideal + 1, min(age - 3, plan.max_gap - 1))
            else:
                since = rng.randint(0, min(age, plan.ideal - 2))
            plan.last_contact = today - since
            plan.contact = cadence_state(
                today=dt.date.fromordinal(today),
                counted_from=dt.date.fromordinal(plan.last_contact),
                ideal_gap_days=plan.ideal,
                max_gap_days=plan.max_gap,
                snoozed_until=None,
            )
        elif plan.status == "prospect":
            plan.last_contact = plan.start + rng.randint(0, age)

    def _snooze_some(self, plans: list[_Plan]) -> None:
        """A few clients asked for space (travel, a new baby); a quiet one is never hidden."""
        candidates = [p for p in plans if p.status == "active" and p.contact != "quiet"]
        count = round(len(candidates) * SNOOZED_SHARE)
        if len(candidates) >= 4:
            count = max(1, count)
        for plan in self.rng.sample(candidates, count):
            plan.snoozed_until = self.today + self.rng.randint(3, 28)

    def _client_names(self, n: int) -> list[tuple[str, str]]:
        """Distinct names while the lists allow; a middle initial before accepting a repeat."""
        rng = self.rng
        lib = self.library["clients"]
        firsts, lasts, domains = lib["first_names"], lib["last_names"], lib["email_domains"]
        used_names: set[str] = set()
        used_emails: set[str] = set()
        result = []
        for _ in range(n):
            for _attempt in range(4):
                first = firsts[rng.randrange(len(firsts))]
                last = lasts[rng.randrange(len(lasts))]
                name = f"{first} {last}"
                if name not in used_names:
                    break
            else:
                for _attempt in range(6):
                    initial = chr(ord("A") + rng.randrange(26))
                    name = f"{first} {initial}. {last}"
                    if name not in used_names:
                        break
            used_names.add(name)
            local = f"{_ascii_name(first)}.{_ascii_name(last)}"
            domain = domains[rng.randrange(len(domains))]
            email = f"{local}@{domain}"
            number = 1
            while email in used_emails:
                number += 1
                email = f"{local}{number}@{domain}"
            used_emails.add(email)
            result.append((name, email))
        return result

    def _phone(self) -> str:
        """Numbers from the ranges kept for fiction, so no demo row can ring a real phone."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            return ""
        if roll < 0.65:
            area = (212, 312, 415, 503, 617, 646, 206, 512)[rng.randrange(8)]
            return f"+1 ({area}) 555-01{rng.randrange(100):02d}"
        return f"+44 7700 900{rng.randrange(1000):03d}"

    # --- how much history each client gets -------------------------------------------

    def _span(self, plan: _Plan) -> int:
        return max(1, plan.end - plan.start)

    def _touch_weight(self, plan: _Plan) -> int:
        if plan.status == "prospect":
            return 200
        span = self._span(plan)
        return 100 + span * 110 // plan.ideal + span * 100 // plan.interval

    def _promise_weight(self, plan: _Plan) -> int:
        if plan.status == "prospect":
            return 50
        return 100 + self._span(plan) * 100 // plan.interval

    def _quota(self, total: int | None, weights: list[int]) -> list[int | None]:
        if total is None:
            return [None] * len(weights)
        return share_out(total, weights)

    # --- one client's history --------------------------------------------------------

    def _client_history(
        self, plan: _Plan, program: _ProgramRows, touches: int | None, promises: int | None
    ) -> None:
        held, stage, changes = self._sessions(plan, program)
        stage_id = None if stage is None else program.stage_ids[stage]
        self.rows.add(
            Client,
            self.rows.row(
                Client,
                id=plan.id,
                coach=self.coach_id,
                name=plan.name,
                sort_name=name_key(plan.name),
                email=plan.email,
                phone=plan.phone,
                status=plan.status,
                program=program.id,
                stage=stage_id,
                started_on=self.day(plan.start),
                ideal_gap_days=plan.ideal,
                max_gap_days=plan.max_gap,
                snoozed_until=None if plan.snoozed_until is None else self.day(plan.snoozed_until),
                reference_consent=int(plan.consent),
                created_at=plan.created_at,
                uid=self._client_uid(plan).hex,
                more_emails="",
                more_phones="",
                contact_preferences="",
            ),
        )
        for position, on in changes:
            sid = self.next_id[StageChange]
            self.next_id[StageChange] = sid + 1
            self.rows.add(
                StageChange,
                (sid, self.coach_id, plan.id, program.stage_ids[position], self.day(on)),
            )
        self._touches(plan, program, held, touches)
        self._promises(plan, program, held, promises)
        self._outcomes(plan, program, held, stage)

    def _sessions(self, plan: _Plan, program: _ProgramRows):
        """Sessions on the client's weekday and rhythm; held ones move them through the stages.

        Returns the held sessions as (day, number, stage), the current stage, and the
        stage changes as (stage, day); the held sessions' ids are left in `held_ids`, in
        the same order, for the touch each of them is.
        """
        if plan.status == "prospect":
            self.held_ids = []
            return [], None, []
        rng = self.rng
        today = self.today
        last_stage = len(program.bounds) - 1
        stage = 0
        changes = [(0, plan.start)]
        held: list[tuple[int, int, int]] = []
        self.held_ids: list[int] = []
        on = plan.start + (plan.weekday - dt.date.fromordinal(plan.start).weekday()) % 7
        last_past = {"active": today - 1, "paused": plan.end, "completed": today - 7}[plan.status]
        cutoff = plan.last_contact if plan.contact in ("due", "quiet") else None
        lapsed = False
        while on <= last_past:
            if plan.status == "completed" and len(held) >= program.total_sessions:
                break
            if cutoff is not None and on > cutoff:
                # The session that fell through as contact lapsed.
                status = ("no_show", "late_cancel", "cancelled")[rng.randrange(3)]
                if plan.contact == "quiet":
                    status = ("no_show", "late_cancel")[rng.randrange(2)]
                self._session(plan, on, status, program.stage_ids[stage])
                lapsed = True
                break
            roll = rng.random()
            if "no_show" in self.missing and plan.status == "active" and held:
                roll = 0.99
            if (
                "waiting outcome" in self.missing
                and plan.status == "active"
                and plan.contact == "ok"
                and on > last_past - plan.interval
                and held
            ):
                # Its time is over and nobody has said how it went yet.
                self._session(plan, on, "scheduled", program.stage_ids[stage])
                self.missing.discard("waiting outcome")
            elif roll < 0.87:
                self.held_ids.append(self._session(plan, on, "held", program.stage_ids[stage]))
                held.append((on, len(held) + 1, stage))
                if stage < last_stage and len(held) >= program.bounds[stage]:
                    stage += 1
                    changes.append((stage, on))
            elif roll < 0.92:
                self._session(plan, on, "cancelled", program.stage_ids[stage])
            elif roll < 0.96:
                self._session(plan, on, "late_cancel", program.stage_ids[stage])
            else:
                self._session(plan, on, "no_show", program.stage_ids[stage])
                self.missing.discard("no_show")
            on += plan.interval
        if plan.status == "completed":
            plan.end = held[-1][0] if held else plan.start
            while stage < last_stage:
                stage += 1
                changes.append((stage, plan.end))
            plan.last_contact = plan.end
        elif plan.status == "paused":
            plan.last_contact = max(plan.start, plan.end - rng.randint(0, 6))
            if held:
                plan.last_contact = max(plan.last_contact, held[-1][0])
        elif plan.status == "active":
            if plan.contact == "ok" and held:
                plan.last_contact = max(plan.last_contact, held[-1][0])
            if plan.contact != "quiet":
                self._future_sessions(plan, on, program.stage_ids[stage], lapsed)
        return held, stage, changes

    def _future_sessions(self, plan: _Plan, on: int, stage_id: int, lapsed: bool) -> None:
        rng = self.rng
        if lapsed:
            on += plan.interval
        while on < self.today:
            on += plan.interval
        if plan.contact == "due" and rng.random() < 0.3:
            return  # not rebooked yet
        self._session(plan, on, "scheduled", stage_id)
        on += plan.interval
        if on <= self.today + 35 and rng.random() < 0.6:
            self._session(plan, on, "scheduled", stage_id)

    def _session(self, plan: _Plan, on: int, status: str, stage_id: int) -> int:
        rng = self.rng
        start_minute = plan.minute_of_day
        scheduled = self.stamp(on, start_minute)
        actual = late = None
        if status == "held":
            roll = rng.random()
            if "late session" in self.missing:
                roll = 0.85
            if roll < 0.80:
                offset = rng.randint(0, 4) * 60 + rng.randrange(60) if roll < 0.5 else 0
            elif roll < 0.91:
                offset = rng.randint(6, 20) * 60 + rng.randrange(60)
                self.missing.discard("late session")
            elif roll < 0.98:
                offset = -rng.randint(1, 5) * 60 + rng.randrange(60)
            else:
                offset = rng.randint(21, 35) * 60 + rng.randrange(60)
            planned = dt.datetime.fromordinal(on) + dt.timedelta(minutes=start_minute)
            began = planned + dt.timedelta(seconds=offset)
            actual = began.isoformat(" ")
            late = minutes_late(planned, began)
        sid = self.next_id[Session]
        self.next_id[Session] = sid + 1
        # Who called a cancelled session off: mostly the client; drawn from the id, not the
        # random stream, so the rest of the demo is the same as before it was recorded.
        by = None
        if status == "late_cancel":
            by = "client"
        elif status == "cancelled":
            by = ("client", "client", "coach")[sid % 3]
        row = (sid, self.coach_id, plan.id, scheduled, actual, late, plan.duration, status,
               stage_id, by, None)  # fmt: skip
        self.rows.add(Session, row)
        return sid

    # --- touches ---------------------------------------------------------------------

    def _touch_kinds(self) -> tuple[list[tuple], list[tuple]]:
        """Weighted lookup tables: any kind of touch, and only the kinds that count."""
        summaries = self.library["touches"]
        every, counting = [], []
        for channel, direction, counts, key, weight in TOUCH_KINDS:
            kind = (channel, direction, int(counts), tuple(summaries[key]))
            every.extend([kind] * weight)
            if counts:
                counting.extend([kind] * weight)
        return every, counting

    def _touches(
        self,
        plan: _Plan,
        program: _ProgramRows,
        held: list[tuple[int, int, int]],
        quota: int | None,
    ) -> None:
        """Contact between and at sessions; nothing that counts after the last contact day.

        Each held session is contact through its own touch, linked to it, as marking a
        session held writes one. With a quota, exactly that many touches: the last contact
        first, then the latest sessions' (a quota smaller than the held sessions leaves the
        earliest without one), then ordinary touches spread over the client's time.
        """
        rng = self.rng
        random_ = rng.random
        start, last = plan.start, plan.last_contact
        if plan.status in ("active", "prospect"):
            loose_end = self.today
        else:
            loose_end = min(self.today, plan.end + 14)
        if quota is None:
            span = last - start + 1
            fillers = round(span / plan.ideal * (1.0 + 1.2 * random_()))
            if plan.status == "prospect":
                fillers = rng.randint(0, 3)
            quota = 1 + len(held) + fillers
        if quota <= 0:
            return
        every, counting = self._touch_table
        items = []
        kind = counting[int(random_() * len(counting))]
        items.append((last, 1, kind[0], kind[1], 1, kind[3][int(random_() * len(kind[3]))], None))
        sessions = min(quota - 1, len(held))
        total_sessions = program.total_sessions
        names = program.stage_names
        first = len(held) - sessions
        for (on, number, stage), sid in zip(held[first:], self.held_ids[first:], strict=True):
            summary = f"Session {number} of {total_sessions} · {names[stage]}"
            items.append((on, 0, "session", "outbound", 1, summary, sid))
        fillers = quota - 1 - sessions
        if plan.contact == "quiet" and fillers and last < loose_end:
            nudges = min(fillers, rng.randint(1, 3))
            fillers -= nudges
            channel, direction, _, key = NUDGE_KIND
            texts = self.library["touches"][key]
            for _ in range(nudges):
                on = last + 1 + int(random_() * (loose_end - last))
                text = texts[int(random_() * len(texts))]
                items.append((on, 2, channel, direction, 0, text, None))
        counted_span = last - start + 1
        loose_span = loose_end - start + 1
        for _ in range(fillers):
            channel, direction, counts, texts = every[int(random_() * len(every))]
            if counts:
                on = start + int(random_() * counted_span)
            else:
                on = start + int(random_() * loose_span)
            text = texts[int(random_() * len(texts))]
            items.append((on, 2, channel, direction, counts, text, None))
        items.sort(key=itemgetter(0, 1))
        tid = self.next_id[Touch]
        coach, client, day = self.coach_id, plan.id, self.day
        rows = self.rows.waiting(Touch)
        prompts, pick = self.prompt_ids, self.prompt_rng.random
        unanswered = None  # the last prompt sent to this client that has no reply yet
        for on, _, channel, direction, counts, summary, session in items:
            prompt = None
            if channel == "journal_prompt" and prompts:
                prompt = unanswered = prompts[int(pick() * len(prompts))]
            elif channel == "reply" and unanswered is not None:
                prompt, unanswered = unanswered, None
            rows.append(
                (tid, coach, client, day(on), channel, direction, counts, summary, prompt, session,
                 "", None)
            )  # fmt: skip
            tid += 1
        self.next_id[Touch] = tid
        if len(rows) >= self.rows.batch_rows:
            self.rows.flush(Touch)

    # --- promises --------------------------------------------------------------------

    def _promises(
        self,
        plan: _Plan,
        program: _ProgramRows,
        held: list[tuple[int, int, int]],
        quota: int | None,
    ) -> None:
        """Promises both ways, mostly made in sessions; a renegotiation writes two rows."""
        rng = self.rng
        random_ = rng.random
        if quota is None:
            if plan.status == "prospect":
                quota = rng.randint(0, 1)
            else:
                quota = round(len(held) * (0.7 + 0.7 * random_()))
        lib = self.library
        own = lib["programs"].get(program.template.key, {})
        titles = {
            "coach": (own.get("coach_commitments", []), lib["commitments"]["coach"]),
            "client": (own.get("client_commitments", []), lib["commitments"]["client"]),
        }
        dropped_reasons = lib["reasons"]["dropped"]
        renegotiated_reasons = lib["reasons"]["renegotiated"]
        closed_client = plan.status == "completed"
        first = plan.start
        last = min(self.today, plan.last_contact)
        days = [on for on, _, _ in held]
        left = quota
        while left > 0:
            owner = "coach" if random_() < COACH_OWNED_SHARE else "client"
            special, general = titles[owner]
            pool = special if special and random_() < 0.65 else general
            title = pool[int(random_() * len(pool))]
            if days and random_() < 0.8:
                promised = days[int(random_() * len(days))]
            else:
                promised = first + int(random_() * (last - first + 1))
            due = promised + DUE_AFTER_DAYS[int(random_() * len(DUE_AFTER_DAYS))]
            renegotiate = random_() < 0.05 or "renegotiated" in self.missing
            if left >= 2 and renegotiate and promised < self.today:
                self.missing.discard("renegotiated")
                moved_on = promised + int(random_() * (min(due, self.today) - promised + 1))
                reason = renegotiated_reasons[int(random_() * len(renegotiated_reasons))]
                # Moved on the day it was renegotiated; who asked follows who owes it.
                original = self._promise(
                    plan,
                    owner,
                    title,
                    promised,
                    due,
                    moved_on,
                    "renegotiated",
                    reason,
                    None,
                    asked_by=owner,
                )
                new_due = moved_on + (7, 10, 14, 21)[int(random_() * 4)]
                status, done, reason = self._fate(owner, moved_on, new_due, closed_client, ())
                self._promise(plan, owner, title, moved_on, new_due, done, status, reason, original)
                left -= 2
            else:
                status, done, reason = self._fate(
                    owner, promised, due, closed_client, dropped_reasons
                )
                self._note_fate(owner, due, status, done)
                self._promise(plan, owner, title, promised, due, done, status, reason, None)
                left -= 1

    def _fate(self, owner: str, promised: int, due: int, closed_client: bool, dropped_reasons):
        """What became of a promise: kept, kept late, still open, or dropped with a reason."""
        random_ = self.rng.random
        today = self.today
        roll = random_()
        if due < today:
            on_time, late, still_open = PAST_DUE_FATES[owner]
            if not closed_client and dropped_reasons:
                roll = self._showcase_roll(owner, roll, on_time, late)
            if roll < on_time:
                return "done", promised + int(random_() * (due - promised + 1)), ""
            if roll < late or closed_client:
                return "done", min(today, due + 1 + int(random_() * 14)), ""
            if roll < still_open or not dropped_reasons:
                # Few promises stay open for months: most are kept late or let go by then.
                if today - due <= STALE_AFTER_DAYS or random_() < 0.3:
                    return "open", None, ""
                if not dropped_reasons or random_() < 0.5:
                    return "done", min(today, due + 1 + int(random_() * 30)), ""
        else:
            if roll < 0.78 and not closed_client:
                return "open", None, ""
            if roll < 0.98 or not dropped_reasons:
                return "done", promised + int(random_() * (today - promised + 1)), ""
        reason = dropped_reasons[int(random_() * len(dropped_reasons))]
        return "dropped", min(today, promised + int(random_() * (due - promised + 8))), reason

    def _showcase_roll(self, owner: str, roll: float, on_time: float, late: float) -> float:
        """Steer a past-due promise to a fate the demo has not shown yet."""
        missing = self.missing
        if owner == "coach" and "overdue coach promise" in missing:
            return late
        if "dropped" in missing:
            return 1.0
        if "late promise" in missing:
            return on_time
        return roll

    def _note_fate(self, owner: str, due: int, status: str, done: int | None) -> None:
        if status == "open" and owner == "coach" and due < self.today:
            self.missing.discard("overdue coach promise")
        elif status == "dropped":
            self.missing.discard("dropped")
        elif status == "done" and done > due:
            self.missing.discard("late promise")

    def _promise(
        self,
        plan: _Plan,
        owner: str,
        title: str,
        promised: int,
        due: int,
        done: int | None,
        status: str,
        reason: str,
        renegotiated_from: int | None,
        *,
        asked_by: str = "",
    ) -> int:
        cid = self.next_id[Commitment]
        self.next_id[Commitment] = cid + 1
        self.rows.add(
            Commitment,
            (
                cid,
                self.coach_id,
                plan.id,
                owner,
                title,
                self.day(promised),
                self.day(due),
                None if done is None else self.day(done),
                status,
                reason,
                renegotiated_from,
                asked_by,
            ),
        )
        return cid

    # --- outcomes --------------------------------------------------------------------

    def _outcomes(
        self, plan: _Plan, program: _ProgramRows, held: list[tuple[int, int, int]], stage
    ) -> None:
        """What clients reached: most who finished, some well into a program."""
        rng = self.rng
        pool = self.library["programs"].get(program.template.key, {}).get("outcomes", [])
        if not pool or not held:
            return
        if plan.status == "completed":
            count = rng.randint(1, 3)
        elif plan.status == "active" and stage is not None and stage >= 2:
            count = 1 if rng.random() < 0.45 else 0
        elif plan.status == "paused":
            count = 1 if rng.random() < 0.1 else 0
        else:
            count = 0
        if not count:
            return
        first = held[len(held) // 2][0]
        last = held[-1][0]
        for outcome in rng.sample(pool, min(count, len(pool))):
            oid = self.next_id[Outcome]
            self.next_id[Outcome] = oid + 1
            achieved = first + rng.randint(0, last - first)
            self.rows.add(
                Outcome,
                (
                    oid,
                    self.coach_id,
                    plan.id,
                    self.day(achieved),
                    _tidy(outcome["title"]),
                    _tidy(outcome.get("detail", "")),
                ),
            )

    # --- private notes ---------------------------------------------------------------

    def _vault(self):
        """The demo's notes key, behind the passphrase it announces; never the keyring."""
        from trustdesk.vault import Vault

        vault = Vault(Coach.get_by_id(self.coach_id))
        vault.create(passphrase=DEMO_PASSPHRASE, use_keyring=False, min_length=0)
        return vault

    @staticmethod
    def _client_uid(plan: _Plan) -> uuid.UUID:
        return uuid.uuid5(DEMO_CLIENTS, str(plan.id))

    def _note_weight(self, plan: _Plan) -> int:
        if plan.status == "prospect":
            return 10
        return 20 + self._span(plan) * 40 // plan.interval

    def _notes(self, plan: _Plan, quota: int | None) -> None:
        """Notes sealed under the demo key, bound to row ids drawn from the same seeded stream.

        Draws exactly what `rng.choices(kinds, weights)` and `uuid.UUID(int=..., version=4)`
        would, without their per-call work: one random() per kind, the same bits per id.
        """
        rng = self.rng
        random_, randrange, getrandbits = rng.random, rng.randrange, rng.getrandbits
        if quota is None:
            quota = rng.randint(0, 1) if plan.status == "prospect" else rng.randint(1, 2)
            quota += self._span(plan) // 45
        if quota <= 0:
            return
        kinds, cum_weights, total_weight, texts = self._note_draws()
        last_kind = len(kinds) - 1
        end = min(plan.end, self.today)
        client_uid = str(self._client_uid(plan))
        seal = self.sealer.seal
        rows = self.rows.waiting(Note)
        coach, client, day, stamp = self.coach_id, plan.id, self.day, self.stamp
        start, length = plan.start, max(end - plan.start, 0)
        for _ in range(quota):
            kind = kinds[bisect(cum_weights, random_() * total_weight, 0, last_kind)]
            pool = texts[kind]
            text = pool[randrange(len(pool))]
            on = start + rng.randint(0, length)
            bits = getrandbits(128)
            # As uuid.UUID(int=bits, version=4) sets the variant and version bits.
            bits = (bits & ~(0xC000 << 48) | (0x8000 << 48)) & ~(0xF000 << 64) | (4 << 76)
            hex_id = f"{bits:032x}"
            written = day(on)
            sealed = seal(text, hex_id, client_uid, kind, written)
            rows.append(
                (hex_id, coach, client, kind, written, stamp(on, 17 * 60 + randrange(120)), sealed)
            )
        if len(rows) >= self.rows.batch_rows:
            self.rows.flush(Note)

    def _note_draws(self):
        """The note kinds with their cumulative weights, and each kind's texts tidied once."""
        draws = getattr(self, "_note_draws_cache", None)
        if draws is None:
            kinds = [kind for kind, _ in NOTE_KINDS_BY_WEIGHT]
            cum_weights = list(accumulate(weight for _, weight in NOTE_KINDS_BY_WEIGHT))
            pool = self.library["notes"]
            texts = {kind: [_tidy(text) for text in pool[kind]] for kind in kinds}
            draws = self._note_draws_cache = (kinds, cum_weights, cum_weights[-1] + 0.0, texts)
        return draws
