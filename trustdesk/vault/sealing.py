"""Sealing a field with AES-GCM so that it opens only in the row, column and key it was written for.

A sealed value is laid out as

    version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

and the associated data names the table, row id, column, key id and version, so a
ciphertext copied into another row, another column or another client's note fails
to open instead of showing the wrong text.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
HEADER_NONCE = 1 + KEY_ID_BYTES  # where the nonce starts
OVERHEAD = HEADER_BYTES + TAG_BYTES
DATA_KEY_BYTES = 32


class SealError(Exception):
    """A sealed value that cannot be opened: wrong key, wrong place, or damaged."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_key_id() -> str:
    return os.urandom(KEY_ID_BYTES).hex()


def associated_data(table: str, row_id: object, column: str, key_id: str, version: int) -> bytes:
    parts = ("trustdesk", f"v{version}", table, str(row_id), column, key_id)
    return "\x1f".join(parts).encode("utf-8")


def key_id_of(sealed: bytes) -> str:
    """The id of the key a sealed value needs, read without opening it."""
    sealed = bytes(sealed)
    if len(sealed) < OVERHEAD or sealed[0] != FORMAT_VERSION:
        raise SealError("not a sealed value this version of trustdesk understands")
    return sealed[1 : 1 + KEY_ID_BYTES].hex()


def seal(
    key: bytes, key_id: str, plaintext: str, *, table: str, row_id: object, column: str
) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(table, row_id, column, key_id, FORMAT_VERSION)
    body = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8", "surrogatepass"), aad)
    return bytes([FORMAT_VERSION]) + bytes.fromhex(key_id) + nonce + body


def open_sealed(
    keys: dict[str, bytes], sealed: bytes, *, table: str, row_id: object, column: str
) -> str:
    """Open a sealed value with whichever of `keys` it names; SealError if it will not open."""
    sealed = bytes(sealed)
    key_id = key_id_of(sealed)
    key = keys.get(key_id)
    if key is None:
        raise SealError(f"sealed with key {key_id}, which is not unlocked")
    nonce = sealed[1 + KEY_ID_BYTES : HEADER_BYTES]
    aad = associated_data(table, row_id, column, key_id, sealed[0])
    try:
        plain = AESGCM(key).decrypt(nonce, sealed[HEADER_BYTES:], aad)
    except InvalidTag:
        raise SealError("sealed value does not open here: damaged, moved, or another key") from None
    return plain.decode("utf-8", "surrogatepass")


def plaintext_length(sealed: bytes) -> int:
    """Bytes of text inside a sealed value, known without opening it."""
    return max(len(sealed) - OVERHEAD, 0)


class Opener:
    """Opens many sealed values of one table and column: one AES-GCM object per key, and
    the associated data built from a fixed prefix and suffix instead of anew for each row.

    Opens exactly what `open_sealed` opens, and fails the same way.
    """

    def __init__(self, keys: dict[str, bytes], *, table: str, column: str) -> None:
        self._ciphers = {bytes.fromhex(k): (AESGCM(v), k) for k, v in keys.items()}
        self._table = table
        self._column = column
        self._aad: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}
        self._last_key: bytes | None = None
        self._last: tuple = ()

    def _parts(self, key_bytes: bytes, version: int) -> tuple[bytes, bytes]:
        parts = self._aad.get((key_bytes, version))
        if parts is None:
            key_id = key_bytes.hex()
            whole = associated_data(self._table, "\0", self._column, key_id, version)
            prefix, _, suffix = whole.partition(b"\0")
            parts = self._aad[(key_bytes, version)] = (prefix, suffix)
        return parts

    def open_uuid(self, hex_id: str, sealed: bytes) -> str:
        """Open a value bound to a UUID row id given as 32 hex digits (as SQLite stores it)."""
        h = hex_id if len(hex_id) == 32 else hex_id.replace("-", "")
        return self.open(sealed, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")

    def open(self, sealed: bytes, row_id: str) -> str:
        """`row_id` as str(row id) would give it (for a UUID, the dashed form)."""
        if len(sealed) < OVERHEAD or sealed[0] != FORMAT_VERSION:
            raise SealError("not a sealed value this version of trustdesk understands")
        key_bytes = sealed[1:HEADER_NONCE]
        if key_bytes == self._last_key:  # the common case: every value under one key
            cipher, prefix, suffix = self._last
            try:
                plain = cipher.decrypt(
                    sealed[HEADER_NONCE:HEADER_BYTES],
                    sealed[HEADER_BYTES:],
                    prefix + row_id.encode() + suffix,
                )
            except InvalidTag:
                raise SealError(
                    "sealed value does not open here: damaged, moved, or another key"
                ) from None
            return plain.decode("utf-8", "surrogatepass")
        key_bytes = bytes(key_bytes)
        found = self._ciphers.get(key_bytes)
        if found is None:
            raise SealError(f"sealed with key {key_bytes.hex()}, which is not unlocked")
        prefix, suffix = self._parts(key_bytes, sealed[0])
        self._last_key, self._last = key_bytes, (found[0], prefix, suffix)
        try:
            plain = found[0].decrypt(
                sealed[HEADER_NONCE:HEADER_BYTES],
                sealed[HEADER_BYTES:],
                prefix + row_id.encode() + suffix,
            )
        except InvalidTag:
            raise SealError(
                "sealed value does not open here: damaged, moved, or another key"
            ) from None
        return plain.decode("utf-8", "surrogatepass")
