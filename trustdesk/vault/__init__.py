"""Encryption of what clients confide: sealed fields, key slots, unlocking and rotation."""

from trustdesk.vault.sealing import SealError, plaintext_length
from trustdesk.vault.vault import (
    KeyChanged,
    LockReason,
    SetupResult,
    SlotInfo,
    Vault,
    VaultError,
    VaultLocked,
    VaultStatus,
    new_recovery_code,
    normalise_recovery_code,
)

__all__ = [
    "KeyChanged",
    "LockReason",
    "SealError",
    "SetupResult",
    "SlotInfo",
    "Vault",
    "VaultError",
    "VaultLocked",
    "VaultStatus",
    "new_recovery_code",
    "normalise_recovery_code",
    "plaintext_length",
]
