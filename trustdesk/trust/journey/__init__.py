"""Clarity of process: programs and their ordered stages, where each client is on the
journey, what clients achieved (outcomes) and who is willing to be a reference, and the
program templates a coach starts from.

Reads return frozen dataclasses and run a fixed number of queries; writes check what
they are given, run in one transaction, and refuse with one plain line (JourneyError).
One module per part: `programs` (programs and stages), `progress` (a client's place and
a program's spread), `outcomes` (outcomes and references), `templates` (TOML templates);
this package names what the screens use.
"""

from trustdesk.trust.journey.checks import JourneyError
from trustdesk.trust.journey.outcomes import (
    OutcomeItem,
    ReferenceItem,
    add_outcome,
    edit_outcome,
    references,
    remove_outcome,
    saved_outcome,
    set_reference_consent,
)
from trustdesk.trust.journey.programs import (
    MAX_PROGRAM_SESSIONS,
    MAX_STAGE_SESSIONS,
    ProgramDetail,
    ProgramSummary,
    StageChoice,
    StageItem,
    add_stage,
    create_program,
    edit_program,
    edit_stage,
    list_programs,
    move_stage,
    program_detail,
    remove_stage,
    saved_program,
    saved_stage,
    stage_choices,
)
from trustdesk.trust.journey.progress import (
    ClientJourney,
    Journey,
    ProgramProgress,
    StageCount,
    StageProgress,
    StageStep,
    client_journey,
    journey_progress,
    journeys,
    move_client_to_stage,
    stage_progress,
)

__all__ = [
    "MAX_PROGRAM_SESSIONS",
    "MAX_STAGE_SESSIONS",
    "ClientJourney",
    "Journey",
    "JourneyError",
    "OutcomeItem",
    "ProgramDetail",
    "ProgramProgress",
    "ProgramSummary",
    "ReferenceItem",
    "StageChoice",
    "StageCount",
    "StageItem",
    "StageProgress",
    "StageStep",
    "add_outcome",
    "add_stage",
    "client_journey",
    "create_program",
    "edit_outcome",
    "edit_program",
    "edit_stage",
    "journey_progress",
    "journeys",
    "list_programs",
    "move_client_to_stage",
    "move_stage",
    "program_detail",
    "references",
    "remove_outcome",
    "remove_stage",
    "saved_outcome",
    "saved_program",
    "saved_stage",
    "set_reference_consent",
    "stage_choices",
    "stage_progress",
]
