"""Between-session prompts: the library, the coach's own list, sending one and logging the reply.

The library is `assets/prompts.toml`, written by us. The first time a coach opens the
picker it is copied into their own Prompt rows, which they can then edit or add to;
the file itself is never changed. Sending a prompt composes a ready-to-send message and
logs an outbound journal-prompt touch linked to the prompt; the client's reply is an
inbound touch linked to the same prompt, so trustdesk can tell which prompts are still
awaiting an answer.

What the coach typed is used as typed: placeholders are filled by plain replacement
(never `str.format`, never markup), and only `{first_name}` and `{stage}` are touched.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass

from peewee import JOIN, Case, fn

from trustdesk.store.models import (
    TRUST_HABITS,
    Client,
    Coach,
    Prompt,
    Stage,
    Touch,
    db,
    name_key,
)
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import (
    ActionError,
    as_date,
    assets_dir,
    change_unless_changed,
    no_nul,
    tidy,
)

LIBRARY_FILE = "prompts.toml"
MAX_TITLE = 200
MAX_BODY = 4000
MAX_HINT = 100
MAX_SUMMARY = 2000
NO_STAGE = "this stage"
_ENTRY_KEYS = {"habit", "title", "body", "stage_hint"}


class PromptError(ActionError):
    """A prompt could not be read, saved, sent or answered; the message says why in one line."""


@dataclass(frozen=True)
class PromptTemplate:
    """One question from the library file."""

    habit: str
    title: str
    body: str
    stage_hint: str = ""


@dataclass(frozen=True)
class PromptItem:
    """One of the coach's own prompts."""

    prompt_id: int
    habit: str
    title: str
    body: str
    stage_hint: str
    version: int = 1  # as read; a save from this copy is refused once it has changed


@dataclass(frozen=True)
class ComposedMessage:
    """A message ready to paste into an email: nothing in it is markup."""

    subject: str
    body: str
    to_email: str

    @property
    def text(self) -> str:
        """Subject and body, as they go on the clipboard."""
        return f"{self.subject}\n\n{self.body}"


@dataclass(frozen=True)
class AwaitingReply:
    """A prompt sent to a client who has not yet replied to it."""

    client_id: int
    client_name: str
    prompt_id: int
    prompt_title: str
    sent_on: dt.date
    days_waiting: int


# --- the library file ------------------------------------------------------------------


def _entry_text(entry: dict, key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise PromptError(f"{where}: {key} must be text in quotes")
    value = tidy(value)
    if required and not value:
        raise PromptError(f"{where}: {key} is missing or empty")
    return value


def parse_library(source: str, name: str = LIBRARY_FILE) -> tuple[PromptTemplate, ...]:
    """Read a prompt library; a malformed one is refused naming the entry and the key."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{name} is not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"prompts"})
    if extra:
        raise PromptError(f"{name}: unknown key {extra[0]!r}; prompts go in [[prompts]] tables")
    entries = data.get("prompts")
    if not isinstance(entries, list) or not entries:
        raise PromptError(f"{name}: no [[prompts]] tables found")
    templates: list[PromptTemplate] = []
    seen: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        where = f"{name} prompt {n}"
        if not isinstance(entry, dict):
            raise PromptError(f"{where}: must be a [[prompts]] table")
        title = entry.get("title")
        if isinstance(title, str) and title.strip():
            where = f"{where} ({title.strip()!r})"
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise PromptError(
                f"{where}: unknown key {unknown[0]!r} (use habit, title, body, stage_hint)"
            )
        habit = entry.get("habit")
        if habit not in TRUST_HABITS:
            raise PromptError(f"{where}: habit must be one of {', '.join(TRUST_HABITS)}")
        template = PromptTemplate(
            habit=habit,
            title=_entry_text(entry, "title", where),
            body=_entry_text(entry, "body", where),
            stage_hint=_entry_text(entry, "stage_hint", where, required=False),
        )
        key = template.title.casefold()
        if key in seen:
            raise PromptError(f"{where}: title is the same as prompt {seen[key]}'s")
        seen[key] = n
        templates.append(template)
    return tuple(templates)


@functools.cache
def library() -> tuple[PromptTemplate, ...]:
    """Our own between-session questions, from assets/prompts.toml, in file order."""
    entry = assets_dir() / LIBRARY_FILE
    try:
        source = entry.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read the prompt library {LIBRARY_FILE}: {exc}") from None
    return parse_library(source)


def _same(text: str) -> str:
    return " ".join(text.split()).casefold()


def ensure_library(coach: Coach) -> int:
    """Copy the library into the coach's own prompts; returns how many were added.

    Safe to call every time: a library prompt is skipped when the coach already has a
    prompt with the same title, or with the same question under a title they changed.
    """
    templates = library()
    with db.atomic():
        have_titles: set[str] = set()
        have_bodies: set[str] = set()
        for title, body in (
            Prompt.select(Prompt.title, Prompt.body).where(Prompt.coach == coach).tuples()
        ):
            have_titles.add(_same(title))
            have_bodies.add(_same(body))
        missing = [
            t
            for t in templates
            if _same(t.title) not in have_titles and _same(t.body) not in have_bodies
        ]
        if missing:
            Prompt.insert_many(
                [
                    {
                        "coach": coach.id,
                        "habit": t.habit,
                        "stage_hint": t.stage_hint,
                        "title": t.title,
                        "body": t.body,
                    }
                    for t in missing
                ]
            ).execute()
    return len(missing)


# --- the coach's own prompts -------------------------------------------------------------


def _habit(habit: str) -> str:
    if habit not in TRUST_HABITS:
        raise PromptError(f"unknown habit {habit!r}: choose one of {', '.join(TRUST_HABITS)}")
    return habit


def _checked(value: str, what: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise PromptError(f"{what} must be text")
    no_nul(value, what, PromptError)
    if required and not value.strip():
        raise PromptError(f"{what} is empty")
    if len(value) > limit:
        raise PromptError(f"{what} is longer than {limit} characters")
    return value


def _prompt(coach: Coach, prompt_id: int) -> Prompt:
    prompt = Prompt.get_or_none((Prompt.id == prompt_id) & (Prompt.coach == coach))
    if prompt is None:
        # The same words for another coach's prompt: whose it is is none of this coach's business.
        raise PromptError("that prompt is not in your library")
    return prompt


def _client(coach: Coach, client_id: int) -> Client:
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise PromptError("that client no longer exists")
    return client


def _item(prompt: Prompt) -> PromptItem:
    return PromptItem(
        prompt.id, prompt.habit, prompt.title, prompt.body, prompt.stage_hint, prompt.version
    )


def saved_prompt(coach: Coach, prompt_id: int) -> PromptItem | None:
    """A prompt as it is saved now, or None once it is gone."""
    prompt = Prompt.get_or_none((Prompt.id == prompt_id) & (Prompt.coach == coach))
    return None if prompt is None else _item(prompt)


def list_prompts(coach: Coach, habit: str | None = None) -> list[PromptItem]:
    """The coach's prompts by habit (clarity, integrity, contact, depth), oldest first.

    Within a habit the library's own order comes first (it follows a journey from start to
    ending), then the prompts the coach added, in the order they were added.
    """
    habit_order = Case(
        Prompt.habit, [(h, i) for i, h in enumerate(TRUST_HABITS)], len(TRUST_HABITS)
    )
    query = Prompt.select().where(Prompt.coach == coach)
    if habit is not None:
        query = query.where(Prompt.habit == _habit(habit))
    return [_item(p) for p in query.order_by(habit_order, Prompt.id)]


def add_prompt(coach: Coach, habit: str, title: str, body: str, stage_hint: str = "") -> int:
    _habit(habit)
    _checked(title, "the title", MAX_TITLE)
    _checked(body, "the question", MAX_BODY)
    _checked(stage_hint, "the stage hint", MAX_HINT, required=False)
    with db.atomic():
        return Prompt.create(
            coach=coach,
            habit=habit,
            title=title.strip(),
            body=body.strip(),
            stage_hint=stage_hint.strip(),
        ).id


def edit_prompt(
    coach: Coach,
    prompt_id: int,
    *,
    habit: str | None = None,
    title: str | None = None,
    body: str | None = None,
    stage_hint: str | None = None,
    version: int | None = None,
) -> None:
    """Change what is given; what is left as None stays as it was."""
    prompt = _prompt(coach, prompt_id)
    changes: dict[str, str] = {}
    if habit is not None:
        changes["habit"] = _habit(habit)
    if title is not None:
        changes["title"] = _checked(title, "the title", MAX_TITLE).strip()
    if body is not None:
        changes["body"] = _checked(body, "the question", MAX_BODY).strip()
    if stage_hint is not None:
        changes["stage_hint"] = _checked(
            stage_hint, "the stage hint", MAX_HINT, required=False
        ).strip()
    if not changes:
        return
    with db.atomic():
        change_unless_changed(
            Prompt,
            prompt.id,
            coach,
            version,
            "that prompt",
            PromptError("that prompt was deleted elsewhere"),
            **changes,
        )


# --- composing and sending ------------------------------------------------------------------


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else name


def fill(body: str, *, first: str, stage: str) -> str:
    """Put the client's first name and stage into a question; nothing else is interpreted."""
    return body.replace("{first_name}", first).replace("{stage}", stage)


def compose(coach: Coach, prompt_id: int, client_id: int) -> ComposedMessage:
    """A message the coach can paste into an email as it is."""
    prompt = _prompt(coach, prompt_id)
    row = (
        Client.select(Client.name, Client.email, Stage.name.alias("stage_name"))
        .join(Stage, JOIN.LEFT_OUTER, on=(Client.stage == Stage.id))
        .where((Client.id == client_id) & (Client.coach == coach))
        .dicts()
        .first()
    )
    if row is None:
        raise PromptError("that client no longer exists")
    first = first_name(row["name"])
    stage = row["stage_name"] or NO_STAGE
    sign_off = coach.name.strip() or "Your coach"
    body = (
        f"Hi {first},\n\n"
        f"{fill(prompt.body, first=first, stage=stage)}\n\n"
        "There is no need for a polished answer: a few honest lines are plenty, "
        "whenever suits you. I will read them before we next meet.\n\n"
        f"Warm regards,\n{sign_off}"
    )
    # The prompt's title is the subject, copied or sent by trustdesk alike: mail sync
    # knows a reply by its "Re: <title>".
    return ComposedMessage(subject=prompt.title, body=body, to_email=row["email"])


def send_prompt(
    coach: Coach,
    prompt_id: int,
    client_id: int,
    today: dt.date,
    *,
    source: str = "",
    message_id: str | None = None,
) -> int:
    """Log that the prompt went to the client today: an outbound journal-prompt touch.

    `source` "sent" and the message's `message_id` when trustdesk sent it by email itself,
    so mail sync can match the reply to it; left out when the coach logs it by hand.
    """
    prompt = _prompt(coach, prompt_id)
    client = _client(coach, client_id)
    with db.atomic():
        return Touch.create(
            coach=coach,
            client=client,
            occurred_on=today,
            channel="journal_prompt",
            direction="outbound",
            counts_for_cadence=True,
            summary=prompt.title[:MAX_SUMMARY],
            prompt=prompt,
            source=source,
            message_id=message_id,
        ).id


def find_prompt(coach: Coach, text: str) -> PromptItem:
    """The one prompt `text` names: its id, its whole title, or a part of exactly one title.

    Like clients by name: case and accents aside, a whole title beats a part, and an
    ambiguous part is refused with the matches listed.
    """
    wanted = text.strip()
    if wanted.isdigit():
        found = saved_prompt(coach, int(wanted))
        if found is not None:
            return found
    key = name_key(wanted)
    if not key:
        raise PromptError("no prompt named: give its id or a part of its title")
    candidates = [p for p in list_prompts(coach) if key in name_key(p.title)]
    for pool in ([p for p in candidates if name_key(p.title) == key], candidates):
        if len(pool) == 1:
            return pool[0]
        if len(pool) > 1:
            shown = ", ".join(f"{p.title} (id {p.prompt_id})" for p in pool[:5])
            more = f" and {len(pool) - 5} more" if len(pool) > 5 else ""
            raise PromptError(
                f"{wanted!r} names {len(pool)} prompts: {shown}{more};"
                " give more of the title or the id"
            )
    raise PromptError(f"no prompt called {wanted!r}; see: trustdesk prompt list")


def log_reply(
    coach: Coach, client_id: int, prompt_id: int, today: dt.date, summary: str = ""
) -> int:
    """Log the client's answer to a prompt they were sent: an inbound reply touch."""
    prompt = _prompt(coach, prompt_id)
    client = _client(coach, client_id)
    _checked(summary, "the summary", MAX_SUMMARY, required=False)
    sent = (
        Touch.select(Touch.id)
        .where(
            (Touch.coach == coach)
            & (Touch.client == client)
            & (Touch.prompt == prompt)
            & (Touch.channel == "journal_prompt")
            & (Touch.direction == "outbound")
            & (Touch.occurred_on <= today)
        )
        .exists()
    )
    if not sent:
        raise PromptError("that prompt was never sent to this client")
    with db.atomic():
        return Touch.create(
            coach=coach,
            client=client,
            occurred_on=today,
            channel="reply",
            direction="inbound",
            counts_for_cadence=True,
            summary=summary.strip() or f"Reply to: {prompt.title}"[:MAX_SUMMARY],
            prompt=prompt,
        ).id


# After this many days an unanswered prompt has lapsed: the coach follows up another way.
REPLY_WINDOW_DAYS = 30


def awaiting_query(coach: Coach, today: dt.date, *, client_id: int | None = None):
    """The prompts an active client has not answered yet, as a query, the longest wait first.

    A reply counts when it is an inbound reply touch linked to the same prompt, from the
    same client, on or after the day the prompt was (last) sent. A prompt sent more than
    REPLY_WINDOW_DAYS ago has lapsed rather than awaiting: it is no longer listed, and a
    client who is no longer active is not waited on. One query, however many clients:
    the latest send and the latest reply per client and prompt are aggregated in SQL.
    """
    window_start = today - dt.timedelta(days=REPLY_WINDOW_DAYS)
    # One grouped pass over the window's prompt touches: per client and prompt, the
    # latest send and the latest reply. (Two aggregates joined to each other let
    # PostgreSQL misjudge a practice of many coaches into a nested loop over millions
    # of pairs.) Only replies inside the window can answer a send inside it; older ones
    # never do, and leaving them out keeps this an index range, not every reply.
    T = Touch
    sent_on = fn.MAX(T.occurred_on).filter(
        (T.channel == "journal_prompt") & (T.direction == "outbound") & (T.occurred_on <= today)
    )
    replied_on = fn.MAX(T.occurred_on).filter((T.channel == "reply") & (T.direction == "inbound"))
    where = (
        (T.coach == coach)
        & (T.channel << ("journal_prompt", "reply"))
        & (T.occurred_on > window_start)
        & T.prompt.is_null(False)
    )
    if client_id is not None:
        where &= T.client == client_id
    latest = (
        T.select(
            T.client.alias("client_id"),
            T.prompt.alias("prompt_id"),
            sent_on.alias("sent_on"),
            replied_on.alias("replied_on"),
        )
        .where(where)
        .group_by(T.client, T.prompt)
        .alias("latest")
    )
    return (
        Client.select(
            Client.id, Client.name, Prompt.id, Prompt.title, latest.c.sent_on.alias("sent_on")
        )
        .join(latest, on=(latest.c.client_id == Client.id))
        .join(Prompt, on=(Prompt.id == latest.c.prompt_id))
        .where(
            (Client.coach == coach)
            & (Prompt.coach == coach)
            & (Client.status == ClientStatus.ACTIVE)
            & latest.c.sent_on.is_null(False)
            & (latest.c.replied_on.is_null() | (latest.c.replied_on < latest.c.sent_on))
        )
        .order_by(latest.c.sent_on, Client.name, Prompt.title, Client.id, Prompt.id)
    )


def awaiting_reply(
    coach: Coach, today: dt.date, *, client_id: int | None = None, count_only: bool = False
):
    """Prompts an active client has not answered yet, longest wait first (see awaiting_query)."""
    query = awaiting_query(coach, today, client_id=client_id)
    if count_only:
        return query.order_by().count()
    out = []
    for cid, name, pid, title, sent_on in query.tuples():
        day = as_date(sent_on)
        out.append(AwaitingReply(cid, name, pid, title, day, (today - day).days))
    return out
