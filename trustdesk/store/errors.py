"""The driver's errors as the store's own, so that callers above never import the driver.

A worker that reads or writes says "busy, try again" for `StoreBusy` and the first
line of anything else for `StoreError`, whichever database (SQLite, PostgreSQL) is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

# What SQLite and PostgreSQL say when another connection holds what this one needs.
BUSY_WORDS = ("locked", "busy", "lock timeout", "statement timeout")


class StoreError(Exception):
    """A database problem the coach can act on; the message is one line."""


class StoreBusy(StoreError):
    """Another connection held the database (or a row) for longer than we wait: try again."""


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, peewee.OperationalError) and any(
        word in str(exc).lower() for word in BUSY_WORDS
    )


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors raised inside become `StoreBusy` or `StoreError`, saying the same words."""
    try:
        yield
    except (peewee.DatabaseError, peewee.InterfaceError) as exc:
        if is_busy(exc):
            raise StoreBusy(str(exc)) from exc
        raise StoreError(str(exc)) from exc
