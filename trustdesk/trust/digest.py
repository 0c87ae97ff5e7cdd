"""The morning digest: the day's agenda, what is overdue and who has not replied, short
enough to read on a phone before the first session.

It is the agenda (`trust.agenda`) with two more lists a coach wants in the morning:
promises already overdue and prompts still awaiting a reply. Cron sends it by mail, so
the text is plain, at most 72 columns, and names are shown literally (control
characters made visible: a name is never allowed to rewrite the message around it).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass

from trustdesk.config import Settings
from trustdesk.literal import visible
from trustdesk.store.models import Coach
from trustdesk.trust.agenda import Agenda, build_agenda
from trustdesk.trust.dates import shown_day
from trustdesk.trust.promises import OverduePromise, overdue_promises
from trustdesk.trust.prompts import AwaitingReply, awaiting_reply

WIDTH = 72
# A long list is a list to open the app for: the digest names the first few.
MOST_PER_SECTION = 12


@dataclass(frozen=True)
class Digest:
    """What the digest says; `is_empty` when there is nothing to say (then nothing is sent)."""

    agenda: Agenda
    overdue: tuple[OverduePromise, ...]
    awaiting_reply: tuple[AwaitingReply, ...]
    coach_name: str = ""

    @property
    def today(self) -> dt.date:
        return self.agenda.today

    @property
    def is_empty(self) -> bool:
        return self.agenda.empty and not self.overdue and not self.awaiting_reply

    @property
    def promises_due(self) -> int:
        """Promises due today or already overdue: what the subject line counts."""
        return len(self.agenda.due_today) + len(self.overdue)


def build_digest(
    coach: Coach, today: dt.date, now: dt.datetime, settings: Settings | None = None
) -> Digest:
    """Everything the digest says, read with the given clock."""
    return Digest(
        agenda=build_agenda(coach, today, now),
        overdue=tuple(overdue_promises(coach, today)),
        awaiting_reply=tuple(awaiting_reply(coach, today)),
        coach_name=coach.name,
    )


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def digest_subject(digest: Digest) -> str:
    """'trustdesk: 3 sessions today, 2 promises due, 4 to contact' (the counts that are not 0)."""
    a = digest.agenda
    parts = []
    booked = [s for s in a.sessions if str(s.status) == "scheduled"]
    if booked:
        parts.append(_plural(len(booked), "session") + " today")
    if digest.promises_due:
        parts.append(_plural(digest.promises_due, "promise") + " due")
    if a.due_for_contact:
        parts.append(f"{len(a.due_for_contact)} to contact")
    if digest.awaiting_reply and len(parts) < 3:
        parts.append(_plural(len(digest.awaiting_reply), "reply", "replies") + " awaited")
    if a.awaiting_outcome and len(parts) < 3:
        parts.append(f"{len(a.awaiting_outcome)} waiting for an outcome")
    return "trustdesk: " + (", ".join(parts) if parts else f"your day, {a.today:%a %d %b}")


def _wrap(line: str) -> list[str]:
    """A list line folded to WIDTH, the rest indented under its first words."""
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return textwrap.wrap(
        line, WIDTH, subsequent_indent=indent, break_long_words=True, break_on_hyphens=False
    ) or [""]


def _section(lines: list[str], title: str, rows: list[str]) -> None:
    if not rows:
        return
    lines.extend(["", title])
    for row in rows[:MOST_PER_SECTION]:
        lines.extend(_wrap(row))
    if len(rows) > MOST_PER_SECTION:
        lines.append(f"  … and {len(rows) - MOST_PER_SECTION} more")


def digest_text(digest: Digest) -> str:
    """The digest as plain text, at most 72 columns; "" when there is nothing to say."""
    if digest.is_empty:
        return ""
    a, today = digest.agenda, digest.today

    def who(name: str) -> str:
        return visible(name)

    def promise(p, when: str) -> str:
        side = f"you owe {who(p.client_name)}" if p.owner == "coach" else (
            f"{who(p.client_name)} owes you"
        )  # fmt: skip
        return f"  {when}{side}: {visible(p.title)}"

    lines = [f"Good morning. {today:%A %d %B %Y}"]
    _section(
        lines,
        "Sessions today",
        [
            f"  {s.scheduled_start:%H:%M}-{s.ends:%H:%M}  {who(s.client_name)}"
            + ("" if str(s.status) == "scheduled" else f" ({str(s.status).replace('_', ' ')})")
            for s in a.sessions
        ],
    )
    _section(
        lines,
        "Waiting for an outcome",
        [
            f"  {shown_day(s.scheduled_start.date(), today)} {s.scheduled_start:%H:%M}"
            f"  {who(s.client_name)}"
            for s in a.awaiting_outcome
        ],
    )
    _section(lines, "Overdue promises", [promise(p, f"{_plural(p.days_overdue, 'day')} late, ")
                                          for p in digest.overdue])  # fmt: skip
    _section(lines, "Promises due today", [promise(p, "") for p in a.due_today])
    _section(
        lines,
        "Due this week",
        [promise(p, f"{shown_day(p.due_on, today)}, ") for p in a.due_this_week],
    )
    _section(
        lines,
        "Due for contact",
        [
            f"  {who(c.client_name)}: {c.state}, {_plural(c.days_since_touch, 'day')} since contact"
            for c in a.due_for_contact
        ],
    )
    _section(
        lines,
        "Fell (no contact since)",
        [f"  {who(f.client_name)}: {f.told(today)}" for f in a.fell],
    )
    _section(
        lines,
        "Prompts awaiting a reply",
        [
            f"  {who(r.client_name)}: {visible(r.prompt_title)}"
            f" (sent {shown_day(r.sent_on, today)}, {_plural(r.days_waiting, 'day')} ago)"
            for r in digest.awaiting_reply
        ],
    )
    return "\n".join(lines) + "\n"
