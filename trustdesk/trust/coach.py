"""The coach's own name and address: they sign every prompt sent to a client, so a coach
must be able to set them after `init` (which may have taken a login name such as "root").

On a PostgreSQL practice a coach may change only the name and email of their own row
(the practice grants UPDATE on those two columns and row-level security does the rest),
so these rules write nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.store.models import Coach, db
from trustdesk.trust.common import ActionError, ChangedElsewhere, checked_text

# The same length as a client's name (trust.clients.MAX_NAME).
MAX_COACH_NAME = 120
MAX_EMAIL = 254


@dataclass(frozen=True)
class CoachProfile:
    """The coach as prompts sign them and exports name them."""

    coach_id: int
    name: str
    email: str


def coach_profile(coach: Coach) -> CoachProfile:
    """The coach as saved now (another terminal may have renamed them since `coach` was read)."""
    row = Coach.get_or_none(Coach.id == coach.id)
    if row is None:
        raise ActionError("this coach no longer exists")
    return CoachProfile(row.id, row.name, row.email)


def checked_coach_name(name: str) -> str:
    """A name as it may sign prompts: one line, not empty, not too long; trimmed."""
    checked_text(name, "your name")
    name = name.strip()
    if len(name) > MAX_COACH_NAME:
        raise ActionError(f"your name is longer than {MAX_COACH_NAME} characters")
    if any(ch in name for ch in "\r\n"):
        raise ActionError("your name is one line; it signs your prompts")
    return name


def _checked_email(email: str) -> str:
    checked_text(email, "your email", required=False)
    email = email.strip()
    if len(email) > MAX_EMAIL:
        raise ActionError(f"your email is longer than {MAX_EMAIL} characters")
    if email and (any(ch.isspace() for ch in email) or "@" not in email):
        raise ActionError(f"{email!r} is not an email address")
    return email


def rename_coach(
    coach: Coach,
    *,
    name: str | None = None,
    email: str | None = None,
    was: CoachProfile | None = None,
) -> CoachProfile:
    """Change the coach's name and/or email (None leaves one as it is).

    `was` is the profile the form showed: a save over a change made meanwhile in another
    window or terminal is refused (ChangedElsewhere) instead of undoing it unseen.
    """
    changes = {}
    if name is not None:
        changes["name"] = checked_coach_name(name)
    if email is not None:
        changes["email"] = _checked_email(email)
    if not changes:
        return coach_profile(coach)
    where = Coach.id == coach.id
    if was is not None:
        where &= (Coach.name == was.name) & (Coach.email == was.email)
    with db.atomic():
        updated = Coach.update(**changes).where(where).execute()
    if updated != 1:
        if was is not None and Coach.select().where(Coach.id == coach.id).exists():
            raise ChangedElsewhere("your name")
        raise ActionError("this coach no longer exists")
    for field, value in changes.items():
        setattr(coach, field, value)
    return coach_profile(coach)
