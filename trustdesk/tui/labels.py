"""The words the screens show for stored values: channels, note kinds, states, statuses.

One table per kind of value, so a screen, a form's choices and a flow's message always
call the same thing by the same name; a value with no word is shown as stored.
"""

from __future__ import annotations

from trustdesk.trust.common import plural

CHANNEL_LABELS = {
    "email": "Email",
    "call": "Call",
    "message": "Message",
    "journal_prompt": "Journal prompt",
    "reply": "Reply",
    "session": "Session",
}
# Where a touch came from, as the Contact tab marks it; a touch the coach typed has none.
TOUCH_SOURCE_LABELS = {
    "mail": "mail",
    "sent": "sent",
}
NOTE_KIND_LABELS = {
    "goal": "Goal",
    "regret": "Regret",
    "struggle": "Struggle",
    "past_experience": "Past experience",
    "belief": "Belief",
    "session": "Session",
}
SESSION_STATUS_WORDS = {
    "scheduled": "scheduled",
    "held": "held",
    "late_cancel": "late cancel",
    "no_show": "no-show",
    "cancelled": "cancelled",
}
# Who called a cancelled session off.
CANCELLED_BY_WORDS = {"client": "The client", "coach": "You"}
# A closed promise, as the coach says it: a promise done is a promise kept.
PROMISE_WORDS = {"done": "kept", "renegotiated": "renegotiated", "dropped": "dropped"}
# Where a client is on a stage of their journey, with a mark that does not need colour.
STAGE_MARKS = {"done": "✓ done", "current": "▶ now", "next": "· next"}
HABIT_LABELS = {
    "clarity": "Clarity",
    "integrity": "Integrity",
    "contact": "Contact",
    "depth": "Depth",
}
# A client's contact state leads with a mark, so that meaning never rests on colour alone.
STATE_WORDS = {
    "quiet": "!! quiet",
    "due": "!  due",
    "ok": "   ok",
    "snoozed": "z snoozed",
    "fell": "!! fell",  # missed a session or let a promise lapse, and no contact since
    None: "",
}
STATUS_WORDS = {
    "active": "active",
    "paused": "paused",
    "completed": "completed",
    "prospect": "prospect",
}


def state_word(state: str | None) -> str:
    return STATE_WORDS.get(state, state or "")


def since_contact(days: int) -> str:
    """How long since contact, in words; a client whose start is still ahead "starts in N days"
    (an imported future start date), never a negative gap."""
    if days < 0:
        return f"starts in {plural(-days, 'day')}"
    return f"{plural(days, 'day')} since contact"


def since_contact_short(days: int) -> str:
    """The same in a narrow column: "12d", or "in 5d" for a start still ahead."""
    return f"in {-days}d" if days < 0 else f"{days}d"
