"""The states a promise, a session, a client and a client's contact can be in.

StrEnums whose values are the words the database stores and reports print, so a
member compares equal to the stored text and prints as it: nothing on disk or in
JSON changes. The rules about which state allows what live here once, for the
store, the rules and the screens alike.
"""

from __future__ import annotations

from enum import StrEnum


class PromiseState(StrEnum):
    """Where a promise (a commitment) stands; only an open one is still being kept."""

    OPEN = "open"
    DONE = "done"
    RENEGOTIATED = "renegotiated"
    DROPPED = "dropped"

    @property
    def can_change(self) -> bool:
        """Only an open promise can be edited, kept, renegotiated or dropped."""
        return self is PromiseState.OPEN


class SessionStatus(StrEnum):
    """What happened to a session."""

    SCHEDULED = "scheduled"
    HELD = "held"
    LATE_CANCEL = "late_cancel"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    def allows(self, status: str) -> bool:
        """Whether a session in this status may be marked `status`.

        Any other status, so a mistake can be put right (un-holding a held session takes
        back the contact it counted as); a held session may be marked held again, which
        corrects when it began.
        """
        return status != self or self is SessionStatus.HELD

    @property
    def can_move(self) -> bool:
        """Only a session still to happen can be moved to another time."""
        return self is SessionStatus.SCHEDULED


class ClientStatus(StrEnum):
    """Where a client stands with the coach; only an active client has a contact cadence."""

    PROSPECT = "prospect"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"  # out of every list; still in exports and the reports of the past

    @property
    def has_cadence(self) -> bool:
        """Only an active client is measured for contact; the others' status says why not."""
        return self is ClientStatus.ACTIVE

    @property
    def is_listed(self) -> bool:
        """Whether the client shows in the coach's lists (an archived one does not)."""
        return self is not ClientStatus.ARCHIVED

    def can_become(self, status: ClientStatus) -> bool:
        """The moves of a client's life: prospect → active → paused ⇄ active → completed →
        archived; a completed or archived client can come back (a returning client)."""
        return status is not self and status in _CLIENT_MOVES[self]


_CLIENT_MOVES: dict[ClientStatus, frozenset[ClientStatus]] = {
    ClientStatus.PROSPECT: frozenset({ClientStatus.ACTIVE, ClientStatus.ARCHIVED}),
    ClientStatus.ACTIVE: frozenset(
        {ClientStatus.PAUSED, ClientStatus.COMPLETED, ClientStatus.ARCHIVED}
    ),
    ClientStatus.PAUSED: frozenset(
        {ClientStatus.ACTIVE, ClientStatus.COMPLETED, ClientStatus.ARCHIVED}
    ),
    ClientStatus.COMPLETED: frozenset({ClientStatus.ACTIVE, ClientStatus.ARCHIVED}),
    ClientStatus.ARCHIVED: frozenset({ClientStatus.ACTIVE, ClientStatus.COMPLETED}),
}


class CadenceState(StrEnum):
    """Where an active client stands on contact, most urgent first."""

    QUIET = "quiet"  # past the maximum gap
    DUE = "due"  # the ideal gap has run out
    OK = "ok"
    SNOOZED = "snoozed"

    @property
    def needs_contact(self) -> bool:
        """Due or gone quiet: the coach should be in touch."""
        return self in (CadenceState.QUIET, CadenceState.DUE)

    @property
    def urgency(self) -> int:
        """0 for the most urgent state; the order the members are declared in."""
        return tuple(CadenceState).index(self)
