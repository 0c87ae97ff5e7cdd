"""Clients gain sort_name: their name folded for finding and sorting, accents aside."""

import unicodedata

from peewee import TextField


def _key(name):
    # A frozen copy of trustdesk.store.models.name_key as it was when this migration shipped.
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def up(migrator, db):
    migrator.migrate(migrator.add_column("client", "sort_name", TextField(default="")))
    rows = db.execute_sql("SELECT id, name FROM client").fetchall()
    update = f"UPDATE client SET sort_name = {db.param} WHERE id = {db.param}"
    for client_id, name in rows:
        db.execute_sql(update, (_key(name), client_id))
    migrator.migrate(migrator.add_index("client", ("coach_id", "sort_name"), False))
