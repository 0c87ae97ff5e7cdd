"""Naming a client the way a coach does: by any unambiguous part of the name, accents and
case aside, or by id. One finder for the command line and every flow that takes a name.
"""

from __future__ import annotations

from trustdesk.store.models import Client, Coach, name_key
from trustdesk.store.states import ClientStatus
from trustdesk.trust.common import ActionError

MAX_MATCHES_SHOWN = 8
# The longest client name a form, the command line or an import takes.
MAX_NAME = 120


class NoSuchClient(ActionError):
    """No client, or more than one, answers to the name given."""


def find_client(coach: Coach, text: str) -> Client:
    """The one client `text` names: an id, a whole name, or a part of exactly one name.

    A whole name beats a part ("Ann" finds Ann, not also Joanne); a listed client beats an
    archived one; an ambiguous name is refused with the matches listed.
    """
    wanted = text.strip()
    if wanted.isdigit():
        client = Client.get_or_none((Client.coach == coach) & (Client.id == int(wanted)))
        if client is not None:
            return client
    key = name_key(wanted)
    if not key:
        raise NoSuchClient("no client name given")
    candidates = list(
        Client.select()
        .where((Client.coach == coach) & Client.sort_name.contains(key))
        .order_by(Client.sort_name, Client.id)
        .limit(200)
    )
    # LIKE reads % and _ in a name as wildcards: what it found is checked again here.
    candidates = [c for c in candidates if key in c.sort_name]
    for pool in (
        [c for c in candidates if c.sort_name == key and ClientStatus(c.status).is_listed],
        [c for c in candidates if c.sort_name == key],
        [c for c in candidates if ClientStatus(c.status).is_listed],
        candidates,
    ):
        if len(pool) == 1:
            return pool[0]
        if len(pool) > 1:
            raise NoSuchClient(_ambiguous(wanted, pool))
    raise NoSuchClient(f"no client called {wanted!r}; see: trustdesk client list")


def _ambiguous(wanted: str, pool: list[Client]) -> str:
    shown = ", ".join(f"{c.name} (id {c.id})" for c in pool[:MAX_MATCHES_SHOWN])
    more = len(pool) - MAX_MATCHES_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return f"{wanted!r} names {len(pool)} clients: {shown}{tail}; give more of the name or the id"
