"""Storage: the models and a safe way to open the database they live in."""

from trustdesk.store.database import (
    APPLICATION_ID,
    StoreError,
    backup_database,
    current_coach,
    ensure_coach,
    open_database,
)
from trustdesk.store.models import (
    ALL_MODELS,
    Client,
    Coach,
    Commitment,
    KeySlot,
    Note,
    Outcome,
    Program,
    Prompt,
    Session,
    Stage,
    StageChange,
    Touch,
    db,
)

__all__ = [
    "ALL_MODELS",
    "APPLICATION_ID",
    "Client",
    "Coach",
    "Commitment",
    "KeySlot",
    "Note",
    "Outcome",
    "Program",
    "Prompt",
    "Session",
    "Stage",
    "StageChange",
    "StoreError",
    "Touch",
    "backup_database",
    "current_coach",
    "db",
    "ensure_coach",
    "open_database",
]
