"""What every part of the journey checks: its own refusal, the coach's own rows, names and texts.

A program, stage or outcome change that is refused says why in one line (JourneyError,
an ActionError, so the screens report it like any other refusal).
"""

from __future__ import annotations

import datetime as dt

from trustdesk.store.models import Client, Coach
from trustdesk.trust.common import MAX_TEXT, ActionError, no_nul

MAX_NAME = 200


class JourneyError(ActionError):
    """A program, stage or outcome change was not made; the message says why in one line."""


def owned(model, coach: Coach, row_id: int, what: str):
    """The coach's own row, or a refusal worded as if it were missing (another coach's too)."""
    row = model.get_or_none((model.id == row_id) & (model.coach == coach))
    if row is None:
        raise JourneyError(f"that {what} no longer exists")
    return row


def journey_client(coach: Coach, client_id: int) -> Client:
    return owned(Client, coach, client_id, "client")


def checked_name(value: str, what: str) -> str:
    """A name as stored: trimmed, not empty, not too long."""
    value = no_nul((value or "").strip(), what, JourneyError)
    if not value:
        raise JourneyError(f"{what} is empty")
    if len(value) > MAX_NAME:
        raise JourneyError(f"{what} is longer than {MAX_NAME} characters")
    return value


def checked_detail(value: str | None, what: str) -> str:
    """Optional longer text as stored: trimmed, not too long."""
    value = no_nul((value or "").strip(), what, JourneyError)
    if len(value) > MAX_TEXT:
        raise JourneyError(f"{what} is longer than {MAX_TEXT} characters")
    return value


def checked_count(value: int, what: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise JourneyError(f"{what} must be a whole number from {least} to {most}")
    return value


def today_or_clock(today: dt.date | None) -> dt.date:
    """The day given, or the clock's today (imported late so the clock can be fixed)."""
    if today is not None:
        return today
    from trustdesk import config

    return config.today()
