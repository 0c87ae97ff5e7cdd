"""What every habit's rules share: how a refusal is said, how a save from a stale copy is
refused, how text is checked, and how dates come back from either database.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from trustdesk.store.models import Client, Coach

MAX_TEXT = 2000


class ActionError(Exception):
    """The action was not carried out; the message says why in one line."""


class ChangedElsewhere(ActionError):
    """The record was saved elsewhere (another window or terminal) after this copy was read.

    Refused rather than written over: the coach reloads, sees what was saved, and edits again.
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Not saved: {what} was changed elsewhere after you opened it. "
            "It has been reloaded; make your change again."
        )
        self.what = what


def unchanged_since(model, version: int | None):
    """The part of a WHERE that holds only if the row is still at the version that was read.

    None (a caller that read nothing, such as a script) skips the check.
    """
    return True if version is None else (model.version == version)


def refuse_if_changed(model, row_id, coach: Coach, version: int | None, what: str) -> None:
    """After a guarded write matched no row: say whether it was changed or is gone."""
    if (
        version is not None
        and model.select().where((model.id == row_id) & (model.coach == coach)).exists()
    ):
        raise ChangedElsewhere(what)


def change_unless_changed(
    model, row_id, coach: Coach, version: int | None, what: str, gone: ActionError, **changes
) -> None:
    """UPDATE one of the coach's rows, unless it changed since `version` or is gone.

    Refused with ChangedElsewhere, or with `gone` (in the caller's own words).
    """
    updated = (
        model.update(**changes)
        .where((model.id == row_id) & (model.coach == coach) & unchanged_since(model, version))
        .execute()
    )
    if updated != 1:
        refuse_if_changed(model, row_id, coach, version, what)
        raise gone


def coach_client(coach: Coach, client_id: int) -> Client:
    """The coach's own client, or a refusal (another coach's client looks missing too)."""
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise ActionError("that client no longer exists")
    return client


def no_nul(value: str, what: str, error: type[Exception] = ActionError) -> str:
    """NUL is the one character PostgreSQL cannot keep in text; refused the same everywhere."""
    if "\x00" in value:
        raise error(f"{what} holds a NUL character (\\x00), which cannot be stored; remove it")
    return value


def checked_text(value: str, what: str, *, required: bool = True) -> str:
    """Typed text as it may be stored: no NUL, not empty unless optional, not too long."""
    no_nul(value, what)
    if required and not value.strip():
        raise ActionError(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise ActionError(f"{what} is longer than {MAX_TEXT} characters")
    return value


def as_datetime(value) -> dt.datetime | None:
    """SQLite hands back aggregated timestamps as text; PostgreSQL as datetimes."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def as_date(value) -> dt.date | None:
    """SQLite hands back aggregated dates as text; PostgreSQL as dates."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def plural(n: int, word: str) -> str:
    """'1 day', '3 days': the count and the word, made plural with an s."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class Rate:
    """A count of kept out of counted, with the rate left undefined when nothing counted."""

    kept: int
    counted: int

    @property
    def rate(self) -> float | None:
        return self.kept / self.counted if self.counted else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)


def rates(query) -> tuple[dict[int, Rate], Rate]:
    """(client, kept, counted) rows into a rate per client and one for the whole practice."""
    by_client = {client_id: Rate(int(k or 0), int(n)) for client_id, k, n in query.tuples()}
    practice = Rate(
        sum(r.kept for r in by_client.values()), sum(r.counted for r in by_client.values())
    )
    return by_client, practice


def assets_dir() -> Traversable:
    """The packaged assets; in a source checkout that was never installed, the folder itself."""
    try:
        return importlib.resources.files("trustdesk.assets")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "assets"


def tidy(text: str) -> str:
    """Join wrapped lines so TOML can be written comfortably; blank lines stay paragraphs."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)
