"""Per-client rollups: what the dashboard shows of each client's history, kept current in
the same transaction as every write by database triggers (store.rollups).

Until now the dashboard's first paint, its panes and the report asked the touch,
promise and session tables for every client: a cost that grew with the years of
history. From here on they read one `client_rollup` row per client. This makes the
table and its triggers and fills it from the rows already there. On a practice,
`trustdesk practice setup` runs this and then fences the table (coaches read their own
rollups and write none) and makes the triggers again (store.rollups.fence_rollups).
"""

from trustdesk.store import rollups


def up(migrator, db):
    rollups.create_table(db)
    rollups.install_triggers(db)
    rollups.rebuild_rollups(db)
