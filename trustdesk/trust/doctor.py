"""Is what the dashboard keeps of each client's history what the rows say? (`doctor`)

The rollups (store.rollups) are kept by the database in the same transaction as each
write; a difference means something went around the triggers (a file edited by hand, a
restore made outside trustdesk). The check recomputes the coach's rollups from the rows;
a repair rebuilds them and checks again.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.store.models import Client, Coach, db
from trustdesk.store.rollups import RollupDrift, has_triggers, rebuild_own_rollups, rollup_drift


@dataclass(frozen=True)
class RollupCheck:
    clients: int
    triggers: bool  # the triggers that keep the rollups are all there
    drift: tuple[RollupDrift, ...]  # as found, before any repair
    names: dict[int, str]  # the names of the clients in `drift`
    repaired: int  # rollups rebuilt (0 when none was asked or needed)
    left: int  # differences still there after the repair

    @property
    def differing_clients(self) -> int:
        return len({d.client_id for d in self.drift})

    @property
    def ok(self) -> bool:
        return self.triggers and not self.left


def check_rollups(coach: Coach, *, repair: bool = False) -> RollupCheck:
    database = db.obj
    clients = Client.select().where(Client.coach == coach).count()
    triggers = has_triggers(database)
    drift = tuple(rollup_drift(database, coach.id))
    repaired = 0
    left = len(drift)
    if repair and (drift or not triggers):
        repaired = rebuild_own_rollups(database, coach.id)
        triggers = has_triggers(database)
        left = len(rollup_drift(database, coach.id))
    ids = sorted({d.client_id for d in drift})[:1000]
    names = {}
    if ids:
        names = dict(
            Client.select(Client.id, Client.name)
            .where((Client.coach == coach) & (Client.id << ids))
            .tuples()
        )
    return RollupCheck(clients, triggers, drift, names, repaired, left)


def check_words(check: RollupCheck) -> str:
    """One line for a notification in the app."""
    if check.repaired and not check.left:
        return (
            f"Rebuilt what the dashboard keeps for {check.differing_clients:,} of"
            f" {check.clients:,} clients; all match their records now."
        )
    if check.left or not check.triggers:
        return (
            f"{check.differing_clients:,} of {check.clients:,} clients differ from their"
            " records and could not be rebuilt: run `trustdesk doctor`."
        )
    return f"All {check.clients:,} clients match their records."
