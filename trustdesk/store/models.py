"""The coaching practice as Peewee models.

The models are bound to `db`, a proxy that `trustdesk.store.open_database` points
at a real database; importing this module opens nothing.

Every row names its coach, so that a shared PostgreSQL practice can restrict each
coach to their own rows in the database itself (row-level security).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
import uuid

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)

from trustdesk.store.states import ClientStatus, PromiseState, SessionStatus

db = DatabaseProxy()

# Choices are plain strings in the database so that reports and exports read well; the
# states of clients, promises and sessions are StrEnums of those strings (store.states).
COMMITMENT_OWNERS = ("coach", "client")
CANCELLED_BY = ("client", "coach")
TOUCH_CHANNELS = ("email", "call", "message", "journal_prompt", "reply", "session")
TOUCH_DIRECTIONS = ("outbound", "inbound")
NOTE_KINDS = ("goal", "regret", "struggle", "past_experience", "belief", "session")
TRUST_HABITS = ("clarity", "integrity", "contact", "depth")


def state_choices(states) -> tuple[tuple[str, str], ...]:
    """A field's choices as Peewee keeps them: (stored value, label) for each state."""
    return tuple((state.value, state.value) for state in states)


def name_key(name: str) -> str:
    """How a name is found and sorted: any case, accents aside, spaces folded.

    "Élodie  Kahananui" and "elodie kahananui" have the same key. Kept in the database
    (Client.sort_name) because SQL's LOWER() folds only ASCII in SQLite.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def days_after(day, days):
    """SQL for the date `days` days after `day` (both SQL expressions), on either backend:
    date arithmetic is the one thing SQLite and PostgreSQL spell differently."""
    import peewee

    if isinstance(db.obj, peewee.PostgresqlDatabase):
        return day + days
    return peewee.fn.DATE(day, peewee.fn.PRINTF("%+d days", days))


def _now() -> dt.datetime:
    # Imported lazily so the clock can be fixed by tests and --today.
    from trustdesk import config

    return config.now()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Versioned:
    """A record a coach edits in a form. Every UPDATE adds one to its `version`, so a save
    made from an older copy (`WHERE version = ...` matching nothing) can be refused instead
    of overwriting what another window or terminal saved in the meantime.

    Each versioned model declares `version` as its last field (the demo writes rows by
    column order and leaves `version` to the database's default of 1).
    """

    @classmethod
    def update(cls, __data=None, **update):
        query = super().update(__data, **update)  # type: ignore[misc]
        version = cls._meta.fields["version"]  # type: ignore[attr-defined]
        if version not in query._update:
            query._update[version] = version + 1
        return query


class Coach(BaseModel):
    name = TextField()
    email = TextField(default="")
    created_at = DateTimeField(default=_now)
    # The PostgreSQL role this coach logs in as; row-level security keys on it (not SQLite).
    db_role = TextField(null=True, unique=True)


class Program(Versioned, BaseModel):
    """An ordered journey of stages that a coach leads clients through."""

    coach = ForeignKeyField(Coach, backref="programs", on_delete="CASCADE")
    name = TextField()
    summary = TextField(default="")
    typical_sessions = IntegerField(default=0)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("coach", "name"), True),)


class Stage(Versioned, BaseModel):
    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    program = ForeignKeyField(Program, backref="stages", on_delete="CASCADE")
    position = IntegerField()
    name = TextField()
    purpose = TextField(default="")
    typical_sessions = IntegerField(default=1)
    asks_of_client = TextField(default="")
    version = IntegerField(default=1)

    class Meta:
        # With the coach: a uniqueness check must not reach into another coach's rows.
        indexes = ((("coach", "program", "position"), True),)


class Client(Versioned, BaseModel):
    """Someone the coach works with, and how often the coach means to be in touch."""

    coach = ForeignKeyField(Coach, backref="clients", on_delete="CASCADE")
    name = TextField()
    # name_key(name): written by save(); bulk inserts and updates must set it themselves.
    sort_name = TextField(default="")
    email = TextField(default="")
    phone = TextField(default="")
    status = CharField(
        max_length=16, default=ClientStatus.ACTIVE, choices=state_choices(ClientStatus)
    )
    program = ForeignKeyField(Program, null=True, on_delete="SET NULL")
    stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
    started_on = DateField()
    ideal_gap_days = IntegerField(default=7)
    max_gap_days = IntegerField(default=21)
    snoozed_until = DateField(null=True)
    reference_consent = BooleanField(default=False)
    created_at = DateTimeField(default=_now)
    # The client's identity that each of their notes' seals binds: unlike the numbered id,
    # it stays the same through `practice join` (schema 0008).
    uid = UUIDField(default=uuid.uuid4)
    # Set by `trustdesk import` only (the imported row's name, as the importer compares
    # names): one row imported twice, even by two imports at once, is refused by the
    # database. NULL for clients added by hand, so two of them may share a name.
    import_key = TextField(null=True)
    # The emails and phone numbers beyond the first, one a line; `email` and `phone` hold
    # the one used (schema 0012).
    more_emails = TextField(default="")
    more_phones = TextField(default="")
    # How and when the client likes to be reached, in the coach's words.
    contact_preferences = TextField(default="")
    version = IntegerField(default=1)

    class Meta:
        indexes = (
            # With the coach: a clash must not tell a coach another coach's client exists.
            (("coach", "uid"), True),
            (("coach", "status"), False),
            (("coach", "name"), False),
            (("coach", "sort_name"), False),
            (("coach", "import_key"), True),
        )

    def save(self, *args, **kwargs):
        self.sort_name = name_key(self.name)
        return super().save(*args, **kwargs)


def ways_to_reach(first: str, more: str) -> tuple[str, ...]:
    """A client's emails (or phones): the one used first, then the others, which are stored
    one a line in `more_emails` (`more_phones`); blanks left out."""
    return tuple(value for value in (first, *(more or "").split("\n")) if value)


class StageChange(BaseModel):
    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="stage_changes", on_delete="CASCADE")
    stage = ForeignKeyField(Stage, on_delete="CASCADE")
    changed_on = DateField()

    class Meta:
        indexes = ((("client", "changed_on"), False),)


class Session(Versioned, BaseModel):
    """A coaching session; `late_minutes` is kept when it is held so punctuality is an aggregate."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="sessions", on_delete="CASCADE")
    scheduled_start = DateTimeField()
    actual_start = DateTimeField(null=True)
    late_minutes = IntegerField(null=True)
    duration_minutes = IntegerField(default=60)
    status = CharField(
        max_length=16, default=SessionStatus.SCHEDULED, choices=state_choices(SessionStatus)
    )
    stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
    # Who called a cancelled or late-cancelled session off: "client" or "coach" (schema
    # 0010); NULL when not cancelled, or cancelled before it was recorded.
    cancelled_by = CharField(max_length=8, null=True)
    # The calendar event this session is (schema 0015), set by `trustdesk calendar sync`:
    # the event's UID, with the day of the occurrence for a recurring one. NULL for
    # sessions scheduled by hand. Unique per coach and client, so two syncs at once make
    # one session, and a group event makes one session for each of its clients.
    calendar_key = TextField(null=True)
    version = IntegerField(default=1)

    class Meta:
        indexes = (
            (("coach", "client", "calendar_key"), True),
            (("client", "status"), False),
            (("coach", "status", "scheduled_start", "late_minutes", "client"), False),
        )


def minutes_late(scheduled: dt.datetime, actual: dt.datetime) -> int:
    """Minutes after the scheduled start, a part minute counting as a whole (negative when early).

    Rounding up keeps "within a 5-minute grace" honest: 5 minutes 50 seconds is 6 minutes late.
    """
    return math.ceil((actual - scheduled).total_seconds() / 60)


class Commitment(Versioned, BaseModel):
    """A promise: the coach's to a client, or an action a client took on."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="commitments", on_delete="CASCADE")
    owner = CharField(max_length=8)
    title = TextField()
    promised_on = DateField()
    due_on = DateField()
    done_on = DateField(null=True)
    status = CharField(
        max_length=16, default=PromiseState.OPEN, choices=state_choices(PromiseState)
    )
    reason = TextField(default="")
    # Renegotiating closes this promise and opens a new one that points back here.
    renegotiated_from = ForeignKeyField("self", null=True, on_delete="SET NULL")
    # On a renegotiated promise: who asked to move it ("client" or "coach"; "" not known).
    asked_by = CharField(max_length=8, default="")
    version = IntegerField(default=1)

    class Meta:
        indexes = (
            (("coach", "status", "due_on"), False),
            (("coach", "due_on"), False),
            (("client", "status"), False),
            (("coach", "owner", "due_on", "status", "done_on", "client"), False),
        )


class Prompt(Versioned, BaseModel):
    """A between-session question the coach can send, from the library or their own."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    habit = CharField(max_length=16, default="depth")
    stage_hint = TextField(default="")
    title = TextField()
    body = TextField()
    version = IntegerField(default=1)


class Touch(Versioned, BaseModel):
    """Any contact between sessions; cadence counts only touches that say so."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="touches", on_delete="CASCADE")
    occurred_on = DateField()
    channel = CharField(max_length=16)
    direction = CharField(max_length=8)
    counts_for_cadence = BooleanField(default=True)
    summary = TextField(default="")
    prompt = ForeignKeyField(Prompt, null=True, on_delete="SET NULL")
    # The held session this touch is (schema 0010): written with the session's "held" and
    # taken back with it, at most one per session (unique with the coach, so two terminals
    # holding the same session at once cannot make two).
    session = ForeignKeyField(Session, null=True, on_delete="CASCADE")
    # Where the touch came from (schema 0014): "" typed by the coach, "mail" read by mail
    # sync, "sent" a prompt trustdesk sent by email; `message_id` is that message's id,
    # one touch per message per client.
    source = CharField(max_length=16, default="")
    message_id = TextField(null=True)
    version = IntegerField(default=1)

    class Meta:
        indexes = (
            (("coach", "session"), True),
            (("coach", "client", "message_id"), True),
            (("client", "counts_for_cadence", "occurred_on"), False),
            (("client", "direction", "occurred_on"), False),
            (("coach", "occurred_on"), False),
            (("coach", "channel", "occurred_on", "direction", "client", "prompt"), False),
        )


class Outcome(Versioned, BaseModel):
    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="outcomes", on_delete="CASCADE")
    achieved_on = DateField()
    title = TextField()
    detail = TextField(default="")
    version = IntegerField(default=1)


class Note(Versioned, BaseModel):
    """A private note; the body is only ever stored sealed, bound to this row's UUID."""

    id = UUIDField(primary_key=True, default=uuid.uuid4)
    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="notes", on_delete="CASCADE")
    kind = CharField(max_length=16)
    written_on = DateField()
    updated_at = DateTimeField(default=_now)
    body_sealed = BlobField()
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("client", "written_on"), False),)


class KeySlot(BaseModel):
    """One wrapped copy of the data key: by the keyring, a passphrase or a recovery code."""

    id = UUIDField(primary_key=True, default=uuid.uuid4)
    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    kind = CharField(max_length=16)
    key_id = CharField(max_length=32)
    wrapped_key = BlobField()
    params = TextField(default="{}")
    created_at = DateTimeField(default=_now)
    revoked_at = DateTimeField(null=True)


class CalendarSource(BaseModel):
    """A calendar `trustdesk calendar sync` reads (an .ics file or a vdir folder), and what
    it found there last time (schema 0015): each file's size and modification time, and
    the sessions each of its events gave. A file that has not changed is not read again,
    and an event missing from the source now is one that was deleted."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    path = TextField()
    mark = TextField(default="{}")
    synced_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("coach", "path"), True),)


class MailSource(BaseModel):
    """What `trustdesk mail sync` has read of one Maildir or mbox (schema 0016): a JSON
    mark, so a run with nothing new parses no message again."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    path = TextField()
    mark = TextField(default="{}")
    read_at = DateTimeField(default=_now)

    class Meta:
        indexes = ((("coach", "path"), True),)


class Practice(BaseModel):
    """The practice itself: one row (id 1), made by schema 0013, whose uid names this
    practice wherever what it writes goes (a calendar's event UIDs), so two practices
    never write the same UID. It belongs to no coach: on a shared practice every coach
    may read it and none may change it. A backup, and so a restore, keeps it; `practice
    join` brings a coach's rows, not their file's practice, into the shared one.
    Not in ALL_MODELS, which lists the tables of a coach's rows.
    """

    id = IntegerField(primary_key=True)
    uid = UUIDField()


class ClientRollup(BaseModel):
    """What the dashboard shows of one client's history, kept current by triggers in the
    same transaction as each write (schema 0017, store.rollups). Derived, never written
    by trustdesk's code: not in ALL_MODELS, not copied by a join or a backup's reader,
    rebuilt by `trustdesk doctor --repair`.

    Day-free values: the latest counting touch of any date, the earliest session still
    scheduled at any time; the queries fall back to the rows when today makes one of
    them inexact (trust.contact, trust.dashboard)."""

    coach = ForeignKeyField(Coach, on_delete="CASCADE")
    client = ForeignKeyField(Client, on_delete="CASCADE")
    last_touch_on = DateField(null=True)
    last_inbound_on = DateField(null=True)
    open_promises = IntegerField(default=0)
    first_open_due_on = DateField(null=True)
    first_client_due_on = DateField(null=True)
    sessions_held = IntegerField(default=0)
    next_session_at = DateTimeField(null=True)
    last_missed_at = DateTimeField(null=True)

    class Meta:
        primary_key = CompositeKey("coach", "client")


def practice_uid() -> uuid.UUID:
    """The uid of the practice the models are bound to."""
    from trustdesk.store.errors import StoreError

    found = Practice.get_or_none(Practice.id == 1)
    if found is None:
        raise StoreError(
            "this practice has lost its id (the practice table is empty); restore it from a backup"
        )
    return found.uid


ALL_MODELS = (
    Coach,
    Program,
    Stage,
    Client,
    StageChange,
    Session,
    Commitment,
    Prompt,
    Touch,
    Outcome,
    Note,
    KeySlot,
    CalendarSource,
    MailSource,
)
