"""A stage's place in its program is unique per coach as well as per program.

The same rule as before (a program belongs to one coach), but written with the coach's
id: in a shared practice a uniqueness check looks past row-level security, and one on
(program, position) alone would tell a coach, by a refused insert, that another
coach's program exists and has a stage there.
"""


def up(migrator, db):
    db.execute_sql('DROP INDEX "stage_program_id_position"')
    db.execute_sql(
        'CREATE UNIQUE INDEX "stage_coach_id_program_id_position" '
        'ON "stage" ("coach_id", "program_id", "position")'
    )
