"""The trust rules, one module per habit, with a read model per screen on top.

Habits: `promises` and `sessions` (proof of integrity), `contact` (frequency of
contact), `journey` (clarity of process), `notes` and `prompts` (depth of conversation).
Each holds that habit's dataclasses, reads and writes; `common` holds what they share.
Screens read through `dashboard`, `workspace` and `report`. Everything returns plain
frozen dataclasses, never database rows, and nothing here imports Textual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from trustdesk.trust.promises import (
        FollowThrough,
        OverduePromise,
        follow_through,
        overdue_promises,
    )
    from trustdesk.trust.report import PracticeReport, build_report, report_json, report_text
    from trustdesk.trust.sessions import Punctuality, punctuality

# Loaded when first asked for: a command that needs one habit (mail sync needs only
# `common`) does not pay for importing every rule and read model.
_WHERE = {
    "ActionError": "trustdesk.trust.common",
    "Cadence": "trustdesk.trust.contact",
    "CadenceState": "trustdesk.store.states",
    "ChangedElsewhere": "trustdesk.trust.common",
    "ClientStatus": "trustdesk.store.states",
    "ContactWeeks": "trustdesk.trust.contact",
    "FollowThrough": "trustdesk.trust.promises",
    "Journey": "trustdesk.trust.journey",
    "OverduePromise": "trustdesk.trust.promises",
    "PracticeReport": "trustdesk.trust.report",
    "PromiseState": "trustdesk.store.states",
    "Punctuality": "trustdesk.trust.sessions",
    "Rate": "trustdesk.trust.common",
    "SessionStatus": "trustdesk.store.states",
    "build_report": "trustdesk.trust.report",
    "cadence": "trustdesk.trust.contact",
    "cadence_state": "trustdesk.trust.contact",
    "contact_by_week": "trustdesk.trust.contact",
    "follow_through": "trustdesk.trust.promises",
    "journeys": "trustdesk.trust.journey",
    "overdue_promises": "trustdesk.trust.promises",
    "practice_contact_by_week": "trustdesk.trust.contact",
    "punctuality": "trustdesk.trust.sessions",
    "report_json": "trustdesk.trust.report",
    "report_text": "trustdesk.trust.report",
}

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


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
