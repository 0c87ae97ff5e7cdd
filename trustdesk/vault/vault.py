"""The vault: one data key per coach, held only wrapped in key slots, unlocked on demand.

A missing, locked or wrong key never creates a new key and never writes to the
database; the vault simply stays locked and says why. A new data key is made only
when the coach has no key slots at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trustdesk import config
from trustdesk.store.database import lock_coach
from trustdesk.store.models import Client, Coach, KeySlot, Note, db
from trustdesk.store.practice import delete_rows
from trustdesk.vault import keyring_access
from trustdesk.vault.hardening import keep_out_of_core_dumps
from trustdesk.vault.sealing import (
    FORMAT_V1,
    FORMAT_VERSION,
    Opener,
    SealError,
    new_data_key,
    new_key_id,
    open_sealed,
    seal,
)

# Argon2id for a typed passphrase: above OWASP's floor of 19 MiB and 2 passes.
ARGON2_MEMORY_KIB = 65536
ARGON2_ITERATIONS = 3
ARGON2_LANES = 4
MIN_ARGON2_MEMORY_KIB = 19 * 1024
MIN_ARGON2_ITERATIONS = 2
MIN_PASSPHRASE_CHARS = 8

# Recovery codes: 25 characters from an alphabet without look-alikes, in groups of five.
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECOVERY_CHARS = 25

NOTE_TABLE = "note"
NOTE_COLUMN = "body"
# Slots made once every note is sealed in the format that binds client, kind and date
# carry this in their params and in their wrapping's associated data, so it cannot be
# taken off them: a key unlocked through one no longer opens an old-format note.
NOTES_FORMAT = "notes_format"


def note_bound(client_uid: object, kind: str, written_on: object) -> tuple[str, str, str]:
    """What a note's seal binds besides its row: its client's identity, its kind, its date.

    The client's UUID (not its numbered id, which `practice join` renumbers) as it is
    written dashed; the date as YYYY-MM-DD (a date, or the text SQLite stores).
    """
    if client_uid is None:
        raise SealError("the note's client has no identity to bind it to")
    return (str(uuid.UUID(str(client_uid))), kind, str(written_on))


class LockReason(enum.Enum):
    NO_SLOTS = "no key has been set up yet"
    NO_KEYRING = "no usable keyring"
    KEYRING_LOCKED = "the keyring is locked"
    NOTHING_STORED = "the keyring holds no trustdesk key"
    WRONG_KEY = "the key does not open this practice's notes"
    NEEDS_PASSPHRASE = "notes open with your passphrase"
    KEY_CHANGED = "the notes key changed in another session: unlock again"
    LOCKED = "locked"


@dataclass(frozen=True)
class VaultStatus:
    unlocked: bool
    reason: LockReason | None = None
    detail: str = ""
    via: str | None = None

    def describe(self) -> str:
        if self.unlocked:
            return f"unlocked ({self.via})"
        text = self.reason.value if self.reason else "locked"
        return f"locked: {self.detail or text}"


@dataclass(frozen=True)
class SlotInfo:
    id: str
    kind: str
    key_id: str
    created_at: dt.datetime
    notes_format: int = FORMAT_V1  # as the slot's params say (checked when it unwraps)


class VaultError(Exception):
    """Something the coach asked of the vault that cannot be done as asked; one line."""


class VaultLocked(VaultError):
    pass


class KeyChanged(VaultLocked):
    """The notes key was replaced (rotated) in another session after this one unlocked."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _slot_aad(slot_id: str, kind: str, key_id: str, notes_format: int = FORMAT_V1) -> bytes:
    aad = f"trustdesk-slot\x1f{slot_id}\x1f{kind}\x1f{key_id}"
    if notes_format >= 2:
        aad += f"\x1fnotes-v{notes_format}"
    return aad.encode()


def _wrap(
    kek: bytes,
    data_key: bytes,
    slot_id: str,
    kind: str,
    key_id: str,
    notes_format: int = FORMAT_V1,
) -> bytes:
    nonce = os.urandom(12)
    aad = _slot_aad(slot_id, kind, key_id, notes_format)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, aad)


def _unwrap(
    kek: bytes,
    wrapped: bytes,
    slot_id: str,
    kind: str,
    key_id: str,
    notes_format: int = FORMAT_V1,
) -> bytes | None:
    wrapped = bytes(wrapped)
    aad = _slot_aad(slot_id, kind, key_id, notes_format)
    try:
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], aad)
    except (InvalidTag, ValueError):
        return None


def _slot_format(params: dict) -> int:
    return int(params.get(NOTES_FORMAT, FORMAT_V1))


def _argon2(secret: str, params: dict) -> bytes:
    return Argon2id(
        salt=_unb64(params["salt"]),
        length=32,
        iterations=int(params["iterations"]),
        lanes=int(params["lanes"]),
        memory_cost=int(params["memory_kib"]),
    ).derive(secret.encode("utf-8"))


def _hkdf(code: str, params: dict) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_unb64(params["salt"]),
        info=b"trustdesk-recovery",
    ).derive(code.encode("ascii"))


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CHARS))
    return "-".join(chars[i : i + 5] for i in range(0, RECOVERY_CHARS, 5))


def normalise_recovery_code(code: str) -> str:
    """Accept the code however it was written down: any case, with or without spaces or dashes."""
    cleaned = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
    return "-".join(cleaned[i : i + 5] for i in range(0, len(cleaned), 5))


def check_passphrase(passphrase: str, min_length: int = MIN_PASSPHRASE_CHARS) -> None:
    if len(passphrase) < min_length:
        raise VaultError(f"a passphrase needs at least {min_length} characters")


@dataclass(frozen=True)
class SetupResult:
    key_id: str
    slots: tuple[str, ...]
    recovery_code: str


class Vault:
    """The notes key for one coach. Holds the data key in memory only while unlocked."""

    def __init__(self, coach: Coach, settings: config.Settings | None = None) -> None:
        # From here on this process can hold the key, a passphrase and opened notes.
        keep_out_of_core_dumps()
        self.coach = coach
        self.settings = settings or config.Settings()
        self._keys: dict[str, bytes] = {}
        # FORMAT_V1 while the key's slots say old-format notes may remain (until reseal).
        self._notes_format = FORMAT_VERSION
        self._via: str | None = None
        self._last: VaultStatus | None = None

    # --- state ----------------------------------------------------------------------

    @property
    def unlocked(self) -> bool:
        return bool(self._keys)

    @property
    def key_id(self) -> str | None:
        return next(iter(self._keys), None)

    @property
    def last_status(self) -> VaultStatus | None:
        """What the last attempt said, without asking the database anything."""
        if self._keys:
            return VaultStatus(True, via=self._via)
        return self._last

    def status(self) -> VaultStatus:
        if self._keys:
            return VaultStatus(True, via=self._via)
        if self._last is not None:
            return self._last
        if not self.slots():
            return VaultStatus(False, LockReason.NO_SLOTS)
        return VaultStatus(False, LockReason.LOCKED)

    def lock(self) -> None:
        """Forget the data key (idle auto-lock, or the coach pressing lock).

        The dict is emptied in place, so nothing that was handed it keeps the key alive.
        """
        self._keys.clear()
        self._via = None
        self._last = VaultStatus(False, LockReason.LOCKED, "locked")

    def slots(self) -> list[SlotInfo]:
        rows = KeySlot.select().where(KeySlot.coach == self.coach).order_by(KeySlot.created_at)
        return [
            SlotInfo(str(s.id), s.kind, s.key_id, s.created_at, _slot_format(json.loads(s.params)))
            for s in rows
        ]

    def _slot_rows(self, kind: str) -> list[KeySlot]:
        return list(
            KeySlot.select()
            .where((KeySlot.coach == self.coach) & (KeySlot.kind == kind))
            .order_by(KeySlot.created_at)
        )

    def _unlocked_with(
        self, key_id: str, key: bytes, via: str, notes_format: int = FORMAT_VERSION
    ) -> VaultStatus:
        self._keys = {key_id: key}
        self._notes_format = notes_format
        self._via = via
        self._last = None
        return VaultStatus(True, via=via)

    def _locked(self, reason: LockReason, detail: str = "") -> VaultStatus:
        self._keys.clear()
        self._via = None
        self._last = VaultStatus(False, reason, detail or reason.value)
        return self._last

    # --- unlocking --------------------------------------------------------------------

    def unlock_with_keyring(self) -> VaultStatus:
        """Try the keyring slots. Reads only: a failure leaves the database untouched."""
        rows = self._slot_rows("keyring")
        if not rows:
            if not self.slots():
                return self._locked(LockReason.NO_SLOTS)
            return self._locked(LockReason.NEEDS_PASSPHRASE)
        verdict = keyring_access.verdict(self.settings.allow_plaintext_keyring)
        if not verdict.usable:
            return self._locked(LockReason.NO_KEYRING, verdict.reason)
        found_any = False
        for slot in rows:
            params = json.loads(slot.params)
            try:
                secret = keyring_access.get_secret(params["username"])
            except keyring_access.KeyringUnavailable as exc:
                reason = LockReason.KEYRING_LOCKED if exc.locked else LockReason.NO_KEYRING
                return self._locked(reason, str(exc))
            if not secret:
                continue
            found_any = True
            try:
                kek = _unb64(secret)
            except (ValueError, TypeError):
                continue
            fmt = _slot_format(params)
            key = _unwrap(kek, slot.wrapped_key, str(slot.id), slot.kind, slot.key_id, fmt)
            if key is not None:
                return self._unlocked_with(slot.key_id, key, "keyring", fmt)
        if not found_any:
            return self._locked(LockReason.NOTHING_STORED)
        return self._locked(LockReason.WRONG_KEY, "the key in the keyring does not fit")

    def unlock_with_passphrase(self, passphrase: str) -> VaultStatus:
        rows = self._slot_rows("passphrase")
        if not rows:
            return self._locked(
                LockReason.NO_SLOTS if not self.slots() else LockReason.WRONG_KEY,
                "no passphrase has been set",
            )
        for slot in rows:
            params = json.loads(slot.params)
            kek = _argon2(passphrase, params)
            fmt = _slot_format(params)
            key = _unwrap(kek, slot.wrapped_key, str(slot.id), slot.kind, slot.key_id, fmt)
            if key is not None:
                return self._unlocked_with(slot.key_id, key, "passphrase", fmt)
        return self._locked(LockReason.WRONG_KEY, "that passphrase does not open the notes")

    def unlock_with_recovery_code(self, code: str) -> VaultStatus:
        code = normalise_recovery_code(code)
        for slot in self._slot_rows("recovery"):
            params = json.loads(slot.params)
            kek = _hkdf(code, params)
            fmt = _slot_format(params)
            key = _unwrap(kek, slot.wrapped_key, str(slot.id), slot.kind, slot.key_id, fmt)
            if key is not None:
                return self._unlocked_with(slot.key_id, key, "recovery code", fmt)
        return self._locked(LockReason.WRONG_KEY, "that recovery code does not open the notes")

    def unlock(self) -> VaultStatus:
        """What can be done without asking the coach anything: the keyring, if there is one."""
        return self.unlock_with_keyring()

    # --- sealing ------------------------------------------------------------------------

    def _require(self) -> tuple[str, bytes]:
        if not self._keys:
            status = self.status()
            raise VaultLocked(f"notes are locked ({status.detail or 'locked'})")
        key_id, key = next(iter(self._keys.items()))
        return key_id, key

    @contextmanager
    def current_key(self, *, exclusive: bool = False) -> Iterator[tuple[str, bytes]]:
        """A transaction in which this session's key is, and stays, the coach's current key.

        Every write that seals under the key, or wraps it in a slot, happens inside one:
        the check of the current key id and the write commit together, and a rotation
        (which holds the same lock, exclusively) cannot slip in between. A session that
        unlocked before a rotation elsewhere is locked and told to unlock again.
        """
        key_id, key = self._require()
        with db.atomic():
            lock_coach(self.coach, exclusive=exclusive)
            current = {
                k
                for (k,) in KeySlot.select(KeySlot.key_id)
                .where(KeySlot.coach == self.coach)
                .tuples()
            }
            if key_id not in current:
                self._locked(LockReason.KEY_CHANGED)
                raise KeyChanged(LockReason.KEY_CHANGED.value)
            yield key_id, key

    @property
    def needs_reseal(self) -> bool:
        """Whether notes sealed in the old format (without client, kind and date) may remain."""
        return bool(self._keys) and self._notes_format < FORMAT_VERSION

    def seal(
        self, text: str, *, table: str, row_id: object, column: str, bound: tuple = ()
    ) -> bytes:
        key_id, key = self._require()
        return seal(key, key_id, text, table=table, row_id=row_id, column=column, bound=bound)

    def open(
        self, sealed: bytes, *, table: str, row_id: object, column: str, bound: tuple = ()
    ) -> str:
        self._require()
        return open_sealed(
            self._keys,
            sealed,
            table=table,
            row_id=row_id,
            column=column,
            bound=bound,
            accept_v1=self._notes_format < FORMAT_VERSION,
        )

    def seal_note(self, text: str, note_id: object, bound: tuple[str, str, str]) -> bytes:
        return self.seal(text, table=NOTE_TABLE, row_id=note_id, column=NOTE_COLUMN, bound=bound)

    def open_note(self, sealed: bytes, note_id: object, bound: tuple[str, str, str]) -> str:
        return self.open(sealed, table=NOTE_TABLE, row_id=note_id, column=NOTE_COLUMN, bound=bound)

    def opener(self, *, table: str, column: str) -> Opener:
        """For opening many values in a row (search): see sealing.Opener."""
        self._require()
        accept_v1 = self._notes_format < FORMAT_VERSION
        return Opener(self._keys, table=table, column=column, accept_v1=accept_v1)

    # --- setting up and changing slots ----------------------------------------------------

    def _add_slot(self, kind: str, kek: bytes, params: dict, key_id: str, key: bytes) -> KeySlot:
        slot_id = uuid.uuid4()
        fmt = self._notes_format
        if fmt >= 2:
            params = {**params, NOTES_FORMAT: fmt}
        return KeySlot.create(
            id=slot_id,
            coach=self.coach,
            kind=kind,
            key_id=key_id,
            wrapped_key=_wrap(kek, key, str(slot_id), kind, key_id, fmt),
            params=json.dumps(params, sort_keys=True),
            created_at=config.now(),
        )

    def _passphrase_slot(self, passphrase: str, key_id: str, key: bytes, argon2: dict | None):
        params = {
            "kdf": "argon2id",
            "salt": _b64(os.urandom(16)),
            "memory_kib": ARGON2_MEMORY_KIB,
            "iterations": ARGON2_ITERATIONS,
            "lanes": ARGON2_LANES,
        }
        params.update(argon2 or {})
        if (
            params["memory_kib"] < MIN_ARGON2_MEMORY_KIB
            or params["iterations"] < MIN_ARGON2_ITERATIONS
        ):
            raise VaultError("Argon2id parameters below 19 MiB and 2 passes are too weak")
        return self._add_slot("passphrase", _argon2(passphrase, params), params, key_id, key)

    def _recovery_slot(self, key_id: str, key: bytes) -> str:
        code = new_recovery_code()
        params = {"kdf": "hkdf-sha256", "salt": _b64(os.urandom(16))}
        self._add_slot("recovery", _hkdf(code, params), params, key_id, key)
        return code

    def _keyring_slot(self, key_id: str, key: bytes, kek: bytes | None = None) -> KeySlot:
        verdict = keyring_access.verdict(self.settings.allow_plaintext_keyring)
        if not verdict.usable:
            raise VaultError(f"cannot use the keyring: {verdict.reason}")
        kek = kek or os.urandom(32)
        username = f"notes-key-{uuid.uuid4()}"
        try:
            keyring_access.set_secret(username, _b64(kek))
        except keyring_access.KeyringUnavailable as exc:
            raise VaultError(f"cannot use the keyring: {exc}") from None
        return self._add_slot("keyring", kek, {"username": username}, key_id, key)

    def keyring_usable(self) -> keyring_access.KeyringVerdict:
        return keyring_access.verdict(self.settings.allow_plaintext_keyring)

    def create(
        self,
        *,
        passphrase: str | None = None,
        use_keyring: bool = True,
        argon2: dict | None = None,
        min_length: int = MIN_PASSPHRASE_CHARS,
    ) -> SetupResult:
        """Make the data key and its slots. Only ever when the coach has no slots at all.

        `min_length` is lowered only by the demo, whose passphrase is public anyway.
        """
        self._refuse_a_second_key()
        if passphrase is None and not use_keyring:
            raise VaultError("a notes key needs a keyring or a passphrase")
        if passphrase is not None:
            check_passphrase(passphrase, min_length)
        key_id, key = new_key_id(), new_data_key()
        kinds = []
        with db.atomic():
            # Looked at again under the lock that `practice join` and another init take
            # too: of two sessions that both found no key, only the first makes one.
            lock_coach(self.coach, exclusive=True)
            self._refuse_a_second_key()
            if use_keyring:
                self._keyring_slot(key_id, key)
                kinds.append("keyring")
            if passphrase is not None:
                self._passphrase_slot(passphrase, key_id, key, argon2)
                kinds.append("passphrase")
            code = self._recovery_slot(key_id, key)
            kinds.append("recovery")
        self._unlocked_with(key_id, key, "new key")
        return SetupResult(key_id, tuple(kinds), code)

    def _refuse_a_second_key(self) -> None:
        if self.slots():
            raise VaultError("this practice already has a notes key; it is never replaced silently")
        if Note.select().where(Note.coach == self.coach).exists():
            raise VaultError(
                "this practice has sealed notes but no key slots; "
                "restore the database from a backup rather than making a new key"
            )

    def set_passphrase(self, new_passphrase: str, *, argon2: dict | None = None) -> None:
        """Add or change the passphrase: only the key's wrapping changes, never a note."""
        check_passphrase(new_passphrase)
        with self.current_key(exclusive=True) as (key_id, key):
            for old in self._slot_rows("passphrase"):
                delete_rows(KeySlot, KeySlot.id == old.id)
            self._passphrase_slot(new_passphrase, key_id, key, argon2)

    def replace_recovery_code(self) -> str:
        """A new recovery code; the old one stops working at once."""
        with self.current_key(exclusive=True) as (key_id, key):
            for old in self._slot_rows("recovery"):
                delete_rows(KeySlot, KeySlot.id == old.id)
            return self._recovery_slot(key_id, key)

    def add_keyring_slot(self) -> None:
        with self.current_key(exclusive=True) as (key_id, key):
            self._keyring_slot(key_id, key)

    def rotate(
        self,
        *,
        passphrase: str | None = None,
        argon2: dict | None = None,
        progress: Callable[[int, int], None] | None = None,
        batch: int = 2000,
    ) -> str:
        """A new data key: every sealed note re-sealed and every slot re-made, in one transaction.

        Returns the new recovery code. If anything fails, the transaction rolls back and
        the old key and slots stay exactly as they were.
        """
        old_id, old_key = self._require()
        if self._slot_rows("passphrase") and passphrase is None:
            raise VaultError("rotating the key needs your passphrase to re-wrap it")
        if passphrase is not None:
            check_passphrase(passphrase)
        new_id, new_key = new_key_id(), new_data_key()
        old_keys = {old_id: old_key}
        accept_v1 = self._notes_format < FORMAT_VERSION
        total = Note.select().where(Note.coach == self.coach).count()
        done = 0
        # The keyring keeps its key-encrypting key; only what it wraps changes.
        keyring_keks: list[tuple[str, bytes]] = []
        for slot in self._slot_rows("keyring"):
            params = json.loads(slot.params)
            username, fmt = params["username"], _slot_format(params)
            try:
                secret = keyring_access.get_secret(username)
            except keyring_access.KeyringUnavailable as exc:
                raise VaultError(f"cannot rotate: {exc}") from None
            kek = _unb64(secret) if secret else None
            if (
                kek is None
                or _unwrap(kek, slot.wrapped_key, str(slot.id), slot.kind, slot.key_id, fmt) is None
            ):
                raise VaultError("cannot rotate: the keyring no longer holds this practice's key")
            keyring_keks.append((username, kek))
        with self.current_key(exclusive=True):
            last_id = None
            while True:
                query = (
                    Note.select(
                        Note.id,
                        Note.body_sealed,
                        Note.version,
                        Client.uid,
                        Note.kind,
                        Note.written_on,
                    )
                    .join(Client)
                    .where(Note.coach == self.coach)
                    .order_by(Note.id)
                    .limit(batch)
                )
                if last_id is not None:
                    query = query.where(Note.id > last_id)
                rows = list(query.tuples())
                if not rows:
                    break
                for note_id, sealed, version, client_uid, kind, written_on in rows:
                    bound = note_bound(client_uid, kind, written_on)
                    text = open_sealed(
                        old_keys,
                        sealed,
                        table=NOTE_TABLE,
                        row_id=note_id,
                        column=NOTE_COLUMN,
                        bound=bound,
                        accept_v1=accept_v1,
                    )
                    # Every note leaves in the format that binds its client, kind and date.
                    resealed = seal(
                        new_key,
                        new_id,
                        text,
                        table=NOTE_TABLE,
                        row_id=note_id,
                        column=NOTE_COLUMN,
                        bound=bound,
                    )
                    # A note saved elsewhere since it was read is not written over with the
                    # old words: the whole rotation rolls back and can simply be run again.
                    rewritten = (
                        Note.update(body_sealed=resealed)
                        .where((Note.id == note_id) & (Note.version == version))
                        .execute()
                    )
                    if rewritten != 1:
                        raise VaultError(
                            "a note was saved elsewhere during the rotation; nothing was "
                            "changed, run it again"
                        )
                done += len(rows)
                last_id = rows[-1][0]
                if progress:
                    progress(done, total)
            old_slots = list(KeySlot.select().where(KeySlot.coach == self.coach))
            for slot in old_slots:
                delete_rows(KeySlot, KeySlot.id == slot.id)
            # Every note is now in the binding format: the new slots say so, unforgeably.
            self._notes_format = FORMAT_VERSION
            for username, kek in keyring_keks:
                self._add_slot("keyring", kek, {"username": username}, new_id, new_key)
            if passphrase is not None:
                self._passphrase_slot(passphrase, new_id, new_key, argon2)
            code = self._recovery_slot(new_id, new_key)
        self._unlocked_with(new_id, new_key, self._via or "rotation")
        return code

    def reseal(
        self,
        *,
        passphrase: str | None = None,
        argon2: dict | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> str | None:
        """Bring notes sealed in the old format to the one that binds client, kind and date.

        Done as a rotation (one transaction, a new key and new slots), because only new
        slots can say, unforgeably, that old-format notes are no longer accepted. Returns
        the new recovery code, or None when there was nothing to do.
        """
        self._require()
        if self._notes_format >= FORMAT_VERSION:
            return None
        return self.rotate(passphrase=passphrase, argon2=argon2, progress=progress)


class BroughtKey:
    """The notes key of a coach's own file, opened for `practice join` with what the coach
    gave (the passphrase or the recovery code), so that the notes and key slots brought in
    get new ids from the practice: nothing the file says is used as a row's key.

    Each note is opened where it was in the file and sealed anew, under the same key, for
    its new id (in the format that binds its client, kind and date); the slots are made
    anew for the coach's share: a passphrase slot when the passphrase was given, and a
    new recovery code.
    """

    def __init__(
        self,
        slots: list[dict],
        *,
        passphrase: str | None = None,
        recovery_code: str | None = None,
        where: str = "the file",
    ) -> None:
        self.passphrase = passphrase
        found = None
        for slot in slots:
            params = json.loads(slot["params"])
            if slot["kind"] == "passphrase" and passphrase is not None:
                kek = _argon2(passphrase, params)
            elif slot["kind"] == "recovery" and recovery_code is not None:
                kek = _hkdf(normalise_recovery_code(recovery_code), params)
            else:
                continue
            slot_id, fmt = str(uuid.UUID(str(slot["id"]))), _slot_format(params)
            key = _unwrap(kek, slot["wrapped_key"], slot_id, slot["kind"], slot["key_id"], fmt)
            if key is not None:
                found = (slot["key_id"], key, fmt)
                break
        if found is None:
            given = "recovery code" if passphrase is None else "passphrase"
            raise VaultError(
                f"that {given} does not open the notes in {where}; nothing was brought in"
            )
        self.key_id, self._key, self._format = found

    def reseal_note(
        self,
        old_id: object,
        new_id: object,
        client_uid: object,
        kind: str,
        written_on: object,
        sealed: bytes,
    ) -> bytes:
        bound = note_bound(client_uid, kind, written_on)
        text = open_sealed(
            {self.key_id: self._key},
            sealed,
            table=NOTE_TABLE,
            row_id=old_id,
            column=NOTE_COLUMN,
            bound=bound,
            accept_v1=self._format < FORMAT_VERSION,
        )
        return seal(
            self._key,
            self.key_id,
            text,
            table=NOTE_TABLE,
            row_id=new_id,
            column=NOTE_COLUMN,
            bound=bound,
        )

    def make_slots(self, coach: Coach) -> str:
        """The coach's slots in the practice (inside join's transaction); the recovery code."""
        vault = Vault(coach)
        vault._unlocked_with(self.key_id, self._key, "practice join", FORMAT_VERSION)
        if self.passphrase is not None:
            vault._passphrase_slot(self.passphrase, self.key_id, self._key, None)
        return vault._recovery_slot(self.key_id, self._key)


__all__ = [
    "BroughtKey",
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
]
