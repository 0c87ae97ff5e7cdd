"""Sealing a field with AES-GCM so that it opens only in the row, column and key it was written for.

A sealed value is laid out as

    version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

and the associated data names the table, row id, column, key id and version, so a
ciphertext copied into another row, another column or another client's note fails
to open instead of showing the wrong text.

Version 2 also binds what the row says about itself (`bound`): for a note, its client's
identity, its kind and its date, so a row moved to another client, kind or date fails to
open too. Version 1 seals (without them) open only where the caller still accepts them:
until the coach's notes have been re-sealed (`trustdesk key reseal` or a rotation).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 2
FORMAT_V1 = 1  # bound to table, row, column and key only; readable until re-sealed
READABLE_VERSIONS = (FORMAT_V1, FORMAT_VERSION)
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
HEADER_NONCE = 1 + KEY_ID_BYTES  # where the nonce starts
OVERHEAD = HEADER_BYTES + TAG_BYTES


class SealError(Exception):
    """A sealed value that cannot be opened: wrong key, wrong place, or damaged."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_key_id() -> str:
    return os.urandom(KEY_ID_BYTES).hex()


MOVED = (
    "sealed value does not open here: damaged, moved (to another row, client, kind or date), "
    "or another key"
)
OLD_FORMAT = (
    "sealed in the old format after this practice's notes were re-sealed: put back or moved"
)


def associated_data(
    table: str, row_id: object, column: str, key_id: str, version: int, bound: tuple = ()
) -> bytes:
    parts = ("trustdesk", f"v{version}", table, str(row_id), column, key_id)
    if version >= 2:
        parts += tuple(bound)
    return "\x1f".join(parts).encode("utf-8")


def _bound_suffix(version: int, bound: tuple) -> bytes:
    if version < 2 or not bound:
        return b""
    return ("\x1f" + "\x1f".join(bound)).encode("utf-8")


def format_of(sealed: bytes) -> int:
    return bytes(sealed[:1])[0] if len(sealed) else 0


def key_id_of(sealed: bytes) -> str:
    """The id of the key a sealed value needs, read without opening it."""
    sealed = bytes(sealed)
    if len(sealed) < OVERHEAD or sealed[0] not in READABLE_VERSIONS:
        raise SealError("not a sealed value this version of trustdesk understands")
    return sealed[1 : 1 + KEY_ID_BYTES].hex()


def seal(
    key: bytes,
    key_id: str,
    plaintext: str,
    *,
    table: str,
    row_id: object,
    column: str,
    bound: tuple = (),
) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(table, row_id, column, key_id, FORMAT_VERSION, bound)
    body = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8", "surrogatepass"), aad)
    return bytes([FORMAT_VERSION]) + bytes.fromhex(key_id) + nonce + body


def open_sealed(
    keys: dict[str, bytes],
    sealed: bytes,
    *,
    table: str,
    row_id: object,
    column: str,
    bound: tuple = (),
    accept_v1: bool = True,
) -> str:
    """Open a sealed value with whichever of `keys` it names; SealError if it will not open."""
    sealed = bytes(sealed)
    key_id = key_id_of(sealed)
    if sealed[0] == FORMAT_V1 and not accept_v1:
        raise SealError(OLD_FORMAT)
    key = keys.get(key_id)
    if key is None:
        raise SealError(f"sealed with key {key_id}, which is not unlocked")
    nonce = sealed[1 + KEY_ID_BYTES : HEADER_BYTES]
    aad = associated_data(table, row_id, column, key_id, sealed[0], bound)
    try:
        plain = AESGCM(key).decrypt(nonce, sealed[HEADER_BYTES:], aad)
    except InvalidTag:
        raise SealError(MOVED) from None
    return plain.decode("utf-8", "surrogatepass")


def plaintext_length(sealed: bytes) -> int:
    """Bytes of text inside a sealed value, known without opening it."""
    return max(len(sealed) - OVERHEAD, 0)


class Opener:
    """Opens many sealed values of one table and column: one AES-GCM object per key, and
    the associated data built from a fixed prefix and suffix instead of anew for each row.

    Opens exactly what `open_sealed` opens, and fails the same way.
    """

    def __init__(
        self, keys: dict[str, bytes], *, table: str, column: str, accept_v1: bool = True
    ) -> None:
        self._accept = READABLE_VERSIONS if accept_v1 else (FORMAT_VERSION,)
        self._ciphers = {bytes.fromhex(k): (AESGCM(v), k) for k, v in keys.items()}
        self._table = table
        self._column = column
        self._aad: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}
        self._last_key: tuple[bytes, int] | None = None
        self._last: tuple = ()

    def _parts(self, key_bytes: bytes, version: int) -> tuple[bytes, bytes]:
        parts = self._aad.get((key_bytes, version))
        if parts is None:
            key_id = key_bytes.hex()
            whole = associated_data(self._table, "\0", self._column, key_id, version)
            prefix, _, suffix = whole.partition(b"\0")
            parts = self._aad[(key_bytes, version)] = (prefix, suffix)
        return parts

    def open_uuid(self, hex_id: str, sealed: bytes, bound: tuple = ()) -> str:
        """Open a value bound to a UUID row id given as 32 hex digits (as SQLite stores it)."""
        h = hex_id if len(hex_id) == 32 else hex_id.replace("-", "")
        return self.open(sealed, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}", bound)

    def open(self, sealed: bytes, row_id: str, bound: tuple = ()) -> str:
        """`row_id` as str(row id) would give it (for a UUID, the dashed form)."""
        if len(sealed) < OVERHEAD or sealed[0] not in READABLE_VERSIONS:
            raise SealError("not a sealed value this version of trustdesk understands")
        version = sealed[0]
        if version not in self._accept:
            raise SealError(OLD_FORMAT)
        tail = _bound_suffix(version, bound)
        key_bytes = sealed[1:HEADER_NONCE]
        if (key_bytes, version) == self._last_key:  # the common case: one key, one format
            cipher, prefix, suffix = self._last
            try:
                plain = cipher.decrypt(
                    sealed[HEADER_NONCE:HEADER_BYTES],
                    sealed[HEADER_BYTES:],
                    prefix + row_id.encode() + suffix + tail,
                )
            except InvalidTag:
                raise SealError(MOVED) from None
            return plain.decode("utf-8", "surrogatepass")
        key_bytes = bytes(key_bytes)
        found = self._ciphers.get(key_bytes)
        if found is None:
            raise SealError(f"sealed with key {key_bytes.hex()}, which is not unlocked")
        prefix, suffix = self._parts(key_bytes, version)
        self._last_key, self._last = (key_bytes, version), (found[0], prefix, suffix)
        try:
            plain = found[0].decrypt(
                sealed[HEADER_NONCE:HEADER_BYTES],
                sealed[HEADER_BYTES:],
                prefix + row_id.encode() + suffix + tail,
            )
        except InvalidTag:
            raise SealError(MOVED) from None
        return plain.decode("utf-8", "surrogatepass")
