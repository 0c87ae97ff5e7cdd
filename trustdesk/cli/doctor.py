"""`trustdesk doctor [--repair] [--json]`: check that what the dashboard reads of each
client's history (the rollups, store.rollups) matches the rows it sums up.

The rollups are kept by database triggers in the same transaction as every write, so a
difference means something went around them: a restore of an old file by hand, a
change made in SQL, a fault. The check recomputes every rollup of the coach from the
rows and names each client that differs; --repair rebuilds them (on a practice, through
the one function that lets a coach rebuild their own). Exit 0 when all match (or were
repaired), 1 when some differ.
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import EXIT_ERROR, EXIT_OK, _open, _out, _out_data

HELP = "check (and --repair) what the dashboard keeps of each client's history"
SHOWN = 20  # differences listed in the text; --json lists them all


def register(sub, common) -> dict:
    doctor = sub.add_parser("doctor", parents=[common], help=HELP)
    doctor.add_argument(
        "--repair", action="store_true", help="rebuild every rollup from the rows if any differ"
    )
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    return {"doctor": cmd_doctor}


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def cmd_doctor(args: argparse.Namespace) -> int:
    from trustdesk.store import current_coach
    from trustdesk.store.models import Client
    from trustdesk.store.rollups import has_triggers, rebuild_own_rollups, rollup_drift

    database = _open(args)
    try:
        coach = current_coach()
        clients = Client.select().where(Client.coach == coach).count()
        triggers = has_triggers(database)
        drift = rollup_drift(database, coach.id)
        repaired = 0
        if args.repair and (drift or not triggers):
            repaired = rebuild_own_rollups(database, coach.id)
            triggers = has_triggers(database)
            left = rollup_drift(database, coach.id)
        else:
            left = drift
        ids = sorted({d.client_id for d in drift})
        names = (
            dict(Client.select(Client.id, Client.name).where(Client.id << ids[:1000]).tuples())
            if ids
            else {}
        )
    finally:
        database.close()

    differing = len(ids)
    if args.json:
        from trustdesk.literal import json_text

        _out_data(
            json_text(
                {
                    "clients": clients,
                    "triggers": triggers,
                    "differing_clients": differing,
                    "differences": [
                        {
                            "client_id": d.client_id,
                            "client": names.get(d.client_id, ""),
                            "column": d.column,
                            "kept": _shown(d.kept) if d.kept is not None else None,
                            "expected": _shown(d.expected) if d.expected is not None else None,
                        }
                        for d in drift
                    ],
                    "repaired": repaired,
                    "ok": not left and triggers,
                }
            )
            + "\n"
        )
        return EXIT_OK if not left and triggers else EXIT_ERROR

    lines = []
    if not triggers:
        lines.append(
            "The triggers that keep the rollups current are missing"
            + (": made again." if args.repair else "; run `trustdesk doctor --repair`.")
        )
    if not drift:
        lines.append(f"Rollups: all {clients:,} clients match their rows.")
    else:
        lines.append(f"Rollups: {differing:,} of {clients:,} clients differ from their rows:")
        for d in drift[:SHOWN]:
            who = names.get(d.client_id, f"client {d.client_id}")
            if d.column == "row":
                what = "no rollup" if d.kept is None else "a rollup left over"
            else:
                what = f"{d.column} kept {_shown(d.kept)}, the rows say {_shown(d.expected)}"
            lines.append(f"  {who} (id {d.client_id}): {what}")
        if len(drift) > SHOWN:
            lines.append(f"  … and {len(drift) - SHOWN:,} more (--json lists them all)")
        if args.repair and not left:
            lines.append(f"Rebuilt the rollups of {repaired:,} clients; all match now.")
        elif args.repair:
            lines.append(f"Rebuilt them, but {len(left):,} differences remain.")
        else:
            lines.append("Run `trustdesk doctor --repair` to rebuild them from the rows.")
    _out("\n".join(lines) + "\n")
    return EXIT_OK if not left and triggers else EXIT_ERROR
