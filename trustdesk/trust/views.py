"""What the rules hand to screens and reports: plain frozen values, never database rows.

Screens can keep these across threads and render them without touching the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CADENCE_STATES = ("quiet", "due", "ok", "snoozed")


@dataclass(frozen=True)
class OverduePromise:
    """An open commitment whose due date has passed."""

    commitment_id: int
    client_id: int
    client_name: str
    owner: str
    title: str
    promised_on: dt.date
    due_on: dt.date
    days_overdue: int
    version: int = 1  # as read; a save from this copy is refused once it has changed


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


@dataclass(frozen=True)
class FollowThrough:
    """Promises kept on or before their due date, over all that came due in the window."""

    owner: str
    window_start: dt.date
    window_end: dt.date
    practice: Rate
    by_client: dict[int, Rate] = field(default_factory=dict)

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days + 1


@dataclass(frozen=True)
class Punctuality:
    """Held sessions that started within the grace of their scheduled time."""

    window_start: dt.date
    window_end: dt.date
    grace_minutes: int
    practice: Rate
    by_client: dict[int, Rate] = field(default_factory=dict)


@dataclass(frozen=True)
class Cadence:
    """Where a client stands on contact: how long since the last touch and what that means."""

    client_id: int
    client_name: str
    ideal_gap_days: int
    max_gap_days: int
    last_touch_on: dt.date | None
    counted_from: dt.date
    days_since_touch: int
    due_on: dt.date
    state: str
    snoozed_until: dt.date | None
    last_inbound_on: dt.date | None
    days_since_inbound: int | None

    @property
    def days_past_due(self) -> int:
        return self.days_since_touch - self.ideal_gap_days

    @property
    def urgency(self) -> tuple[int, int, str]:
        """Sort key: quiet before due before ok before snoozed, then the longest wait first."""
        return (CADENCE_STATES.index(self.state), -self.days_past_due, self.client_name)


@dataclass(frozen=True)
class ContactWeeks:
    """Touches that count, per week, oldest week first; the last week ends today."""

    week_starts: tuple[dt.date, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Journey:
    """A client's place in their program."""

    client_id: int
    client_name: str
    program_name: str | None
    stage_name: str | None
    stage_position: int | None
    stage_count: int
    sessions_held: int
    typical_sessions: int

    @property
    def session_progress(self) -> str:
        """'4 of 8' when the program sets a number of sessions, otherwise just the count."""
        if self.typical_sessions:
            return f"{self.sessions_held} of {self.typical_sessions}"
        return str(self.sessions_held)


@dataclass(frozen=True)
class StageCount:
    stage_name: str
    position: int
    clients: int


@dataclass(frozen=True)
class ProgramProgress:
    """Where the active clients of one program stand, stage by stage."""

    program_name: str
    stages: tuple[StageCount, ...]
    clients: int
    sessions_held: int
    sessions_typical: int


@dataclass(frozen=True)
class WeekSession:
    session_id: int
    client_id: int
    client_name: str
    scheduled_start: dt.datetime
    status: str
