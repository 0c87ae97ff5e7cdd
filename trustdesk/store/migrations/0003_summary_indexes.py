"""Covering indexes for the dashboard summary and the report on a large practice.

- touch (coach, channel, occurred_on, direction, client, prompt): prompts sent and
  replies received in the last 30 days, read from the index alone;
- commitment (coach, owner, due_on, status, done_on, client): follow-through over 90 days;
- session (coach, status, scheduled_start, late_minutes, client): punctuality over 90
  days; it replaces (coach, status, scheduled_start), which is its prefix.
"""


def up(migrator, db):
    migrator.migrate(
        migrator.add_index(
            "touch",
            ("coach_id", "channel", "occurred_on", "direction", "client_id", "prompt_id"),
            False,
        ),
        migrator.add_index(
            "commitment",
            ("coach_id", "owner", "due_on", "status", "done_on", "client_id"),
            False,
        ),
        migrator.drop_index("session", "session_coach_id_status_scheduled_start"),
        migrator.add_index(
            "session",
            ("coach_id", "status", "scheduled_start", "late_minutes", "client_id"),
            False,
        ),
    )
