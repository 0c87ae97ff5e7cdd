"""The trust rules: overdue promises, follow-through, punctuality, cadence and journeys.

Everything here returns frozen dataclasses from `trustdesk.trust.views`.
"""

from trustdesk.trust.report import PracticeReport, build_report, report_json, report_text
from trustdesk.trust.rules import (
    cadence,
    cadence_state,
    contact_by_week,
    follow_through,
    journeys,
    overdue_promises,
    practice_contact_by_week,
    punctuality,
)
from trustdesk.trust.views import (
    Cadence,
    ContactWeeks,
    FollowThrough,
    Journey,
    OverduePromise,
    Punctuality,
    Rate,
)

__all__ = [
    "Cadence",
    "ContactWeeks",
    "FollowThrough",
    "Journey",
    "OverduePromise",
    "PracticeReport",
    "Punctuality",
    "Rate",
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
