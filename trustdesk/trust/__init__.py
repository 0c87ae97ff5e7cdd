"""The trust rules, one module per habit, with a read model per screen on top.

Habits: `promises` and `sessions` (proof of integrity), `contact` (frequency of
contact), `journey` (clarity of process), `notes` and `prompts` (depth of conversation).
Each holds that habit's dataclasses, reads and writes; `common` holds what they share.
Screens read through `dashboard`, `workspace` and `report`. Everything returns plain
frozen dataclasses, never database rows, and nothing here imports Textual.
"""

from trustdesk.store.states import CadenceState, ClientStatus, PromiseState, SessionStatus
from trustdesk.trust.common import ActionError, ChangedElsewhere, Rate
from trustdesk.trust.contact import (
    Cadence,
    ContactWeeks,
    cadence,
    cadence_state,
    contact_by_week,
    practice_contact_by_week,
)
from trustdesk.trust.journey import Journey, journeys
from trustdesk.trust.promises import FollowThrough, OverduePromise, follow_through, overdue_promises
from trustdesk.trust.report import PracticeReport, build_report, report_json, report_text
from trustdesk.trust.sessions import Punctuality, punctuality

__all__ = [
    "ActionError",
    "Cadence",
    "CadenceState",
    "ChangedElsewhere",
    "ClientStatus",
    "ContactWeeks",
    "FollowThrough",
    "Journey",
    "OverduePromise",
    "PracticeReport",
    "PromiseState",
    "Punctuality",
    "Rate",
    "SessionStatus",
    "build_report",
    "cadence",
    "cadence_state",
    "contact_by_week",
    "follow_through",
    "journeys",
    "overdue_promises",
    "practice_contact_by_week",
    "punctuality",
    "report_json",
    "report_text",
]
