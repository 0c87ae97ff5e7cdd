"""Storage: the models and a safe way to open the database they live in."""

from peewee import Database

from trustdesk.store.database import (
    APPLICATION_ID,
    backup_database,
    borrowed,
    current_coach,
    ensure_coach,
    inspect_backup,
    open_database,
    restore_database,
)
from trustdesk.store.errors import StoreBusy, StoreError, translated
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
    "inspect_backup",
    "restore_database",
    "Client",
    "Coach",
    "Database",
    "Commitment",
    "KeySlot",
    "Note",
    "Outcome",
    "Program",
    "Prompt",
    "Session",
    "Stage",
    "StageChange",
    "StoreBusy",
    "StoreError",
    "translated",
    "Touch",
    "backup_database",
    "borrowed",
    "current_coach",
    "db",
    "ensure_coach",
    "open_database",
]
