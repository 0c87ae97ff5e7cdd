"""Deciding whether the OS keyring may hold trustdesk's key, and talking to it safely.

Over SSH on a shared server `keyring` usually finds nothing and falls back to its
"fail" backend; on a desktop it finds Secret Service, KWallet, macOS or Windows.
A key is kept only in a store that protects it: plaintext, null and fail backends
are refused unless the coach opted in with `allow_plaintext_keyring = true`.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass

import keyring
import keyring.backend
from keyring.errors import KeyringLocked, NoKeyringError

SERVICE = "trustdesk"

# Stores that keep secrets encrypted behind the user's login.
SECURE_BACKENDS = {
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
}
NO_STORE_BACKENDS = {"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"}


@dataclass(frozen=True)
class KeyringVerdict:
    """Whether trustdesk may use the active keyring, and in a coach's words why (not)."""

    usable: bool
    backend: str
    reason: str


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _configured_names() -> set[str]:
    """Backends the coach chose through keyring's own settings (environment or keyringrc)."""
    names = set()
    env = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    if env:
        names.add(env)
    try:
        from keyring.util import platform_

        path = os.path.join(platform_.config_root(), "keyringrc.cfg")
        parser = configparser.RawConfigParser()
        parser.read(path, encoding="utf-8")
        if parser.has_option("backend", "default-keyring"):
            names.add(parser.get("backend", "default-keyring").strip())
    except (OSError, configparser.Error, ImportError):
        pass
    return names


def _is_plaintext(name: str) -> bool:
    return "plaintext" in name.lower() or name.startswith("keyrings.alt.file.")


def _effective_backends(backend: keyring.backend.KeyringBackend) -> list:
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return list(backend.backends)
    return [backend]


def verdict(allow_plaintext: bool = False) -> KeyringVerdict:
    try:
        active = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring config must not stop trustdesk
        return KeyringVerdict(
            False, "unknown", f"the keyring could not start ({type(exc).__name__})"
        )
    configured = _configured_names()
    candidates = _effective_backends(active) or [active]
    for backend in candidates:
        name = backend_name(backend)
        if name in NO_STORE_BACKENDS:
            continue
        if _is_plaintext(name):
            if allow_plaintext:
                return KeyringVerdict(True, name, "plaintext keyring allowed in settings")
            return KeyringVerdict(
                False,
                name,
                "the keyring stores secrets in plain text; "
                "set allow_plaintext_keyring = true in settings.toml to use it anyway",
            )
        if name in SECURE_BACKENDS or name in configured:
            return KeyringVerdict(True, name, "secure keyring")
        return KeyringVerdict(
            False,
            name,
            f"{name} is not a keyring trustdesk knows to be secure; "
            "choose it in keyring's settings (PYTHON_KEYRING_BACKEND or keyringrc.cfg) to use it",
        )
    return KeyringVerdict(False, backend_name(active), "no keyring on this machine")


class KeyringUnavailable(Exception):
    """The keyring could not be asked: missing, locked or failing. `locked` tells which."""

    def __init__(self, message: str, *, locked: bool) -> None:
        super().__init__(message)
        self.locked = locked


def get_secret(username: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, username)
    except KeyringLocked:
        raise KeyringUnavailable("the keyring is locked", locked=True) from None
    except NoKeyringError:
        raise KeyringUnavailable("no keyring on this machine", locked=False) from None
    except Exception as exc:  # noqa: BLE001 - D-Bus and friends raise anything; notes stay locked
        raise KeyringUnavailable(
            f"the keyring failed ({type(exc).__name__})", locked=True
        ) from None


def set_secret(username: str, secret: str) -> None:
    try:
        keyring.set_password(SERVICE, username, secret)
    except Exception as exc:  # noqa: BLE001 - any failure means the key is not stored
        raise KeyringUnavailable(
            f"the keyring would not store the key ({type(exc).__name__})", locked=True
        ) from None
